"""Every failure Timebot words for a person, in one place.

Connectors raise ``VendorError`` and its kinds; use cases raise ``UserError``. Handlers turn
either into the one line a person sees (``bot.explain``).
"""

from __future__ import annotations

from datetime import date

from bot.crypto import UndecryptableSecret
from bot.domain import Action, ClockSession


class VendorError(Exception):
    """Base of every failure a connector reports; ``user_message`` is safe to show a person."""

    def __init__(self, vendor: str, user_message: str, *, detail: str = "") -> None:
        super().__init__(f"{vendor}: {user_message}" + (f" ({detail})" if detail else ""))
        self.vendor = vendor
        self.user_message = user_message
        self.detail = detail


class VendorAuthError(VendorError):
    """The vendor refused our credentials (bad key, revoked key, wrong signature)."""


class VendorUnavailable(VendorError):
    """The vendor could not be reached, timed out, or its circuit is open."""

    def __init__(self, vendor: str, user_message: str, *, detail: str = "", what: str = "") -> None:
        super().__init__(vendor, user_message, detail=detail)
        self.what = what  # "timed out", "connection refused": worded again for reads by explain()


class VendorRejected(VendorError):
    """The vendor understood the request and refused it (validation, conflict, not found)."""

    def __init__(self, vendor: str, user_message: str, *, field: str | None = None, detail: str = "") -> None:
        super().__init__(vendor, user_message, detail=detail)
        self.field = field


class SessionCrossesMidnight(VendorRejected):
    """The vendor cannot end a session on a later day than it started (TimeClock)."""

    def __init__(self, vendor: str, session: ClockSession, day: date) -> None:
        super().__init__(vendor, "A session can't last through midnight.")
        self.session = session
        self.day = day


class OutcomeUnknown(VendorError):
    """A write was sent but no answer came back: it may or may not have happened.

    ``vendor_finished`` says the vendor is done with the request (it answered with an error), so
    a check made now shows whether it landed for good; after a timeout it may still be working.
    """

    def __init__(self, vendor: str, user_message: str, *, detail: str = "", vendor_finished: bool = False) -> None:
        super().__init__(vendor, user_message, detail=detail)
        self.vendor_finished = vendor_finished


class NotSupported(VendorError):
    """The vendor lacks the action; raised before anything is sent."""

    def __init__(self, vendor_label: str, action: Action) -> None:
        super().__init__(vendor_label, f"{vendor_label} doesn't support {action.phrase}.")
        self.action = action


class NoVendorCan(NotSupported):
    """Several vendors are configured and none of them has the action."""

    def __init__(self, action: Action) -> None:
        super().__init__("Timebot", action)
        self.user_message = f"None of the systems Timebot is connected to supports {action.phrase}."


class UserError(Exception):
    """Something the person must hear about, in words written for them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLinked(UserError):
    pass


class Busy(UserError):
    pass


class FormErrors(UserError):
    """A form's fields that only a check after the ack could fault (holidays need the vendor):
    ``errors`` by field, shown on the form again, as the ack would have."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def explain(exc: BaseException, *, reading: bool = False) -> str:
    """The one line a person sees for any failure we know how to describe. ``reading``: the
    person only asked to see something, so "Nothing was changed" would be an odd comfort."""
    if reading and isinstance(exc, VendorUnavailable) and exc.what:
        return f"{exc.vendor} isn't answering right now ({exc.what}). Try again shortly."
    if reading and not isinstance(exc, VendorError | UserError | UndecryptableSecret):
        return "Something went wrong on my side; please try again."
    if isinstance(exc, NotSupported):
        return exc.user_message
    if isinstance(exc, OutcomeUnknown):
        return f"{exc.user_message} Check with `/timebot status` (or in {exc.vendor}) before trying again."
    if isinstance(exc, VendorError):
        return exc.user_message
    if isinstance(exc, UserError):
        return exc.message
    if isinstance(exc, UndecryptableSecret):
        return (
            "I can no longer read the key you linked with. Nothing was changed; please link again with "
            "`/timebot link` (and let a Timebot admin know)."
        )
    return "Something went wrong on my side. Nothing was changed; please try again."


def outcome(exc: VendorError) -> str:
    """How the audit log records a vendor failure."""
    if isinstance(exc, VendorRejected):
        return "rejected"
    if isinstance(exc, OutcomeUnknown):
        return "unknown"
    return "failed"
