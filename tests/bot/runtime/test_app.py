"""The composition root's Slack client."""

from __future__ import annotations

import ssl
from pathlib import Path

from bot.runtime.app import slack_client
from bot.slack.client import posting_client
from sandbox.slack import SlackStandIn
from tests.conftest import make_settings


def test_slack_calls_over_https_share_one_verifying_tls_context(tmp_path: Path, slack: SlackStandIn) -> None:
    client = slack_client(make_settings(tmp_path, slack, SLACK_API_URL="https://slack.example/api/"))
    assert isinstance(client.ssl, ssl.SSLContext)
    assert client.ssl.verify_mode == ssl.CERT_REQUIRED and client.ssl.check_hostname
    assert posting_client(client).ssl is client.ssl
