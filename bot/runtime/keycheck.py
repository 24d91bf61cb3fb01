"""Start-up check that TIMEBOT_SECRET_KEY opens the credentials already stored.

A wrong but valid key fails nothing at start-up and then silently skips every linked person
(who's off says everyone is in), so the bot tries a sample first and refuses to run blind.
"""

from __future__ import annotations

import logging

from bot.config import ConfigError
from bot.crypto import SecretBox, UndecryptableSecret
from storage.store import Store

log = logging.getLogger(__name__)

SAMPLE = 20


def check_stored_keys(store: Store, box: SecretBox, sample: int = SAMPLE) -> None:
    """Stop (ConfigError) when none of a sample of stored secrets decrypts; log one ERROR when some don't."""
    secrets = store.sample_secrets(sample)
    unreadable = 0
    for token in secrets:
        try:
            box.decrypt(token)
        except UndecryptableSecret:
            unreadable += 1
    if not unreadable:
        return
    if unreadable == len(secrets):
        raise ConfigError(
            f"TIMEBOT_SECRET_KEY can't decrypt any of the {len(secrets)} stored credentials checked: it is not the "
            "key they were saved with. Put the previous key in TIMEBOT_OLD_SECRET_KEYS (then run "
            "`timebot keys rotate`), or set TIMEBOT_SECRET_KEY back."
        )
    log.error(
        "%d of %d stored credentials checked can't be decrypted with TIMEBOT_SECRET_KEY or "
        "TIMEBOT_OLD_SECRET_KEYS: those people must link again (`timebot keys rotate` counts them all)",
        unreadable,
        len(secrets),
    )
