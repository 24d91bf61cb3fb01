"""The lost-answer retry, written once for every vendor write (clock-in, leave request)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from bot.errors import OutcomeUnknown, VendorError

log = logging.getLogger(__name__)

T = TypeVar("T")


def write_once(
    what: str,
    vendor_label: str,
    send: Callable[[], T],
    confirm: Callable[[datetime], tuple[T | None, bool]],
    now: Callable[[], datetime],
) -> T:
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
    except OutcomeUnknown as exc:
        found, checked = confirm(asked_at)
        if found is None and checked and exc.vendor_finished:
            raise _not_recorded(exc) from exc
        if found is None:
            raise
        return found


def _not_recorded(exc: OutcomeUnknown) -> VendorError:
    """The vendor failed the write and its own records, read back, hold nothing: a plain failure."""
    return VendorError(
        exc.vendor,
        f"{exc.vendor} had an error and recorded nothing, so this didn't go through. Try again in a moment.",
        detail=exc.detail,
    )
