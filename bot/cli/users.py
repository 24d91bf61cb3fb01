"""``timebot users sync|unmatched``: match Slack members to vendor users by email, in bulk."""

from __future__ import annotations

import argparse

from bot.config import ConfigError, Settings
from bot.errors import VendorError
from bot.runtime.app import slack_client
from bot.slack.client import SlackClient
from bot.usecases.identity_sync import identity_vendors, sync
from bot.vendors.registry import Router, load_vendors
from storage.db import make_engine, upgrade
from storage.store import Store


def run_users_command(args: argparse.Namespace, settings: Settings) -> int:
    if settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: `timebot users` reads your Slack members with it.")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    vendors = load_vendors(settings.http_policy, args.env_file)
    router = Router(vendors, settings.routing)
    if not identity_vendors(router):
        print("No configured vendor can match people by email; people link themselves with /timebot link.")
        return 0
    client = slack_client(settings)
    team_id = args.team or client.auth_test()["team_id"]
    try:
        reports = sync(Store(engine), router, SlackClient(client), team_id, write=args.action == "sync")
    except VendorError as exc:
        print(f"{exc.vendor}: {exc.user_message}")
        return 1
    finally:
        router.close()
    for r in reports:
        if args.action == "sync":
            print(
                f"{r.vendor}: {len(r.matched)} newly linked, {r.already} already linked, "
                f"{len(r.unmatched_slack)} Slack users without a match"
            )
        else:
            print(f"{r.vendor}: {len(r.unmatched_slack)} Slack users have no {r.vendor} user with their email:")
            for slack_id, name, email in r.unmatched_slack:
                print(f"  {slack_id}  {name}  <{email or 'no email'}>")
            print(f"{r.vendor}: {len(r.unmatched_vendor)} {r.vendor} users have no Slack account with their email:")
            for vendor_id, vendor_name, vendor_email in r.unmatched_vendor:
                print(f"  {vendor_id}  {vendor_name or ''}  <{vendor_email or 'no email'}>")
            print("Link someone by hand with: /timebot link @person <vendor id>")
    return 0
