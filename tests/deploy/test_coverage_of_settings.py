"""The deployment suite sets every setting docs/settings.md documents, somewhere, as an operator would."""

from __future__ import annotations

from pathlib import Path

from bot.cli.settings_doc import SETTINGS_DOC, documented_names

SUITE = Path(__file__).resolve().parent


def test_every_documented_setting_is_set_somewhere_in_the_deployment_suite() -> None:
    sources = "\n".join(p.read_text() for p in sorted(SUITE.glob("*.py")) if p.name != Path(__file__).name)
    unset = sorted(name for name in documented_names(SETTINGS_DOC.read_text()) if f'"{name}"' not in sources)
    assert unset == [], "documented in docs/settings.md, never set in tests/deploy/"
