"""Trying Timebot without accounts: ``timebot sandbox <vendor>`` serves one vendor simulator,
``timebot console`` runs the real bot against a stand-in Slack and a sandbox full of demo people."""

from __future__ import annotations

import argparse
import importlib
import socket

from bot.config import ConfigError


def sandbox(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"sandbox.{args.vendor}")
    # the port is tried before the banner: a busy one is a line, not a banner and a traceback
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError as exc:
            raise ConfigError(
                f"can't listen on port {args.port} ({exc.strerror or exc}): pick another with --port."
            ) from None
    try:
        module.serve(args.port)
    except OSError as exc:  # taken between the check and the start
        raise ConfigError(
            f"can't listen on port {args.port} ({exc.strerror or exc}): pick another with --port."
        ) from None
    except KeyboardInterrupt:
        return 0
    return 0


def console(args: argparse.Namespace) -> int:
    """Needs no settings: the console makes its own."""
    from sandbox.console import run_console

    return run_console(args.vendor, args.person)
