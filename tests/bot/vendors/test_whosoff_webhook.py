"""WhosOff's webhook, read: the signature check (bytes only, never an exception) and the
delivery's id and time (what replay protection rests on)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.vendors.whosoff import webhook_delivery, webhook_signature, webhook_verified

SECRET = "s3cret"
BODY = b'{"event_id":"20"}'


def test_the_signature_is_accepted_as_hex_prefixed_hex_or_base64() -> None:
    import base64
    import hashlib
    import hmac

    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    for given in (digest.hex(), digest.hex().upper(), "sha256=" + digest.hex(), base64.b64encode(digest).decode()):
        assert webhook_verified(SECRET, BODY, given)


def test_a_non_ascii_or_wrong_signature_is_refused_without_raising() -> None:
    good = webhook_signature(SECRET, BODY)
    for given in ("caf\u00e9", "sha256=\u00ff" + good[1:], good[:-1] + "\u00e9", "", None, good + "0"):
        assert not webhook_verified(SECRET, BODY, given)


def test_the_delivery_id_and_time_are_read_as_whosoff_sends_them() -> None:
    assert webhook_delivery({"event_id": "20", "created_At": "2026-02-27 11:46:41"}) == (
        "20",
        datetime(2026, 2, 27, 11, 46, 41, tzinfo=UTC),
    )
    assert webhook_delivery({"event_id": 21, "created_At": "2026-02-27T12:46:41+01:00"}) == (
        "21",
        datetime(2026, 2, 27, 11, 46, 41, tzinfo=UTC),
    )


def test_a_delivery_without_a_usable_id_or_time_has_none() -> None:
    assert webhook_delivery({}) == (None, None)
    assert webhook_delivery({"event_id": ["x"], "created_At": {"a": 1}}) == (None, None)
    assert webhook_delivery({"event_id": "", "created_At": "yesterday"}) == (None, None)
