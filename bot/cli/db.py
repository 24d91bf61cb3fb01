"""``timebot db upgrade|current``: migrate the database, or say which revision it is at."""

from __future__ import annotations

import argparse

from bot.config import Settings


def db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import current_revision, make_engine, upgrade

    engine = make_engine(settings.database_url)
    if args.action == "upgrade":
        upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0
