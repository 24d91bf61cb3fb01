"""Who may make Timebot act, and where it may post back.

Slack's signature check (slack_sdk's ``SignatureVerifier``) raises on input Slack never sends (a
timestamp like ``soon``, a non-ASCII signature); an exception there must mean "not Slack", never
"a listener failed", or the error handler would answer a forged request. And a ``response_url``
is taken from the payload, so it is only ever used when it points back at Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

# Put in the BoltContext of every request that passed the signature check in bot.runtime.web.
VERIFIED = "timebot_signature_verified"
SLACK_RESPONSE_HOST = "hooks.slack.com"


def signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """True only for a body signed with our secret in the last five minutes; never raises."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except Exception:  # any way the check can fail is a failed check
        return False


def response_url_allowed(url: str | None, api_url: str) -> bool:
    """Slack's own ``https://hooks.slack.com``, or the origin of ``SLACK_API_URL`` (Slack itself in
    production, the local stand-in in tests): never a host named by whoever sent the payload."""
    if not url:
        return False
    try:
        target, api = urlsplit(url), urlsplit(api_url)
        if target.scheme == "https" and target.hostname == SLACK_RESPONSE_HOST and target.port in (None, 443):
            return True
        return (target.scheme, target.netloc.lower()) == (api.scheme, api.netloc.lower()) and bool(api.netloc)
    except ValueError:  # a port that is not a number
        return False
