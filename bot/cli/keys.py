"""``timebot keys generate|rotate``: the keys that encrypt stored vendor credentials."""

from __future__ import annotations

import argparse

from bot.config import Settings


def generate(args: argparse.Namespace) -> int:
    """A new TIMEBOT_SECRET_KEY; needs no settings."""
    from bot.crypto import SecretBox

    print(SecretBox.generate_key())
    return 0


def rotate(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every stored credential under TIMEBOT_SECRET_KEY (old keys in TIMEBOT_OLD_SECRET_KEYS)."""
    settings.require_secret_key()
    assert settings.secret_key is not None
    from bot.crypto import SecretBox
    from storage.db import make_engine, upgrade
    from storage.store import Store

    engine = make_engine(settings.database_url)
    upgrade(engine)
    store = Store(engine)
    box = SecretBox(settings.secret_key.get_secret_value(), settings.old_keys)
    rotated = failed = 0
    for row in store.all_identities():
        if not row.secret_enc or row.id is None:
            continue
        try:
            rotated += store.replace_secret(row.id, row.secret_enc, box.rotate(row.secret_enc))
        except ValueError:
            failed += 1
    print(f"re-encrypted {rotated} stored credentials" + (f"; {failed} could not be decrypted" if failed else ""))
    return 1 if failed else 0
