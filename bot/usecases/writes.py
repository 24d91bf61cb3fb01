"""The lost-answer retry, written once for every vendor write (clock-in, leave request)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from bot.errors import OutcomeUnknown

log = logging.getLogger(__name__)

T = TypeVar("T")


def write_once(what: str, vendor_label: str, send: Callable[[], T],
               confirm: Callable[[datetime], tuple[T | None, bool]], now: Callable[[], datetime]) -> T:
    """Send a write; after a lost answer, ask the vendor whether it landed rather than guess, and
    send it once more only when the vendor is done with the first try and shows nothing.

    ``confirm(asked_at)`` returns what the write made, if the vendor shows it, and whether the
    vendor could be asked at all (False: it can't be told apart from "nothing landed").
    """
    asked_at = now()
    try:
        return send()
    except OutcomeUnknown as exc:
        found, checked = confirm(asked_at)
        if found is not None:
            return found
        if not (checked and exc.vendor_finished):
            raise
    log.info("%s failed %s without recording it; sending it once more", vendor_label, what)
    asked_at = now()
    try:
        return send()
    except OutcomeUnknown:
        found, _ = confirm(asked_at)
        if found is None:
            raise
        return found
