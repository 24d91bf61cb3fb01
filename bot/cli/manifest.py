"""``timebot manifest [--http URL]``: the Slack app manifest, for Socket Mode or with every request URL filled in."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from bot.config import ConfigError

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def manifest(args: argparse.Namespace) -> int:
    from bot.slack.setup import dump_manifest, http_manifest, load_manifest

    if args.http is None:
        print(dump_manifest(load_manifest()), end="")
        return 0
    target = urlsplit(args.http)
    if target.scheme not in ("https", "http") or not target.hostname:
        raise ConfigError(f"--http {args.http}: give the bot's public base URL, like https://bot.example.com.")
    if target.scheme == "http" and target.hostname not in LOCAL_HOSTS:
        # Slack sends requests and OAuth redirects to https only; plain http is for a bot on this machine
        raise ConfigError(
            f"--http {args.http}: Slack only calls https URLs. Use https://{target.netloc}"
            f"{target.path} (plain http works for localhost only)."
        )
    print(dump_manifest(http_manifest(args.http)), end="")
    return 0
