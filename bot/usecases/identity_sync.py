"""Matching Slack users to vendor users by email, in bulk (``timebot users sync|unmatched``).

The bot also matches lazily on first use (``People.identity`` in bot/usecases/people.py); a sync
up front means digests and who's-off can name everyone from the first day, and shows admins who
needs a manual link.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import email_index, email_key
from bot.usecases.directory import save_members, slack_members
from bot.usecases.ports import Members
from bot.vendors.base import IdentityVendor, as_identity
from bot.vendors.registry import Router
from storage.store import Store


@dataclass
class SyncReport:
    vendor: str
    matched: list[tuple[str, str]] = field(default_factory=list)  # (slack id, vendor id) newly linked
    already: int = 0
    unmatched_slack: list[tuple[str, str, str | None]] = field(default_factory=list)  # (slack id, name, email)
    unmatched_vendor: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # (id, name, email)


def identity_vendors(router: Router) -> list[IdentityVendor]:
    return [d for v in router.vendors.values() if (d := as_identity(v)) is not None]


def sync(store: Store, router: Router, slack: Members, team_id: str, *, write: bool = True) -> list[SyncReport]:
    members = list(slack_members(slack))
    save_members(store, team_id, members)
    reports = []
    for vendor in identity_vendors(router):
        report = SyncReport(vendor.label)
        people = vendor.people()
        by_email = email_index(people)
        linked = {row.slack_user_id: row.vendor_user_id for row in store.identities_for_vendor(team_id, vendor.name)}
        used = set(linked.values())
        for m in members:
            email = email_key((m.get("profile") or {}).get("email") or "")
            name = m.get("real_name") or m.get("name") or m["id"]
            if m["id"] in linked:
                report.already += 1
                continue
            person = by_email.get(email) if email else None
            if person is None or person.vendor_user_id in used:  # that account is someone else's already
                report.unmatched_slack.append((m["id"], name, email or None))
                continue
            if write:
                store.save_identity(
                    team_id,
                    m["id"],
                    vendor.name,
                    person.vendor_user_id,
                    secret_enc=None,
                    email=person.email,
                    linked_by="email",
                )
            report.matched.append((m["id"], person.vendor_user_id))
            used.add(person.vendor_user_id)
        report.unmatched_vendor = [(p.vendor_user_id, p.name, p.email) for p in people if p.vendor_user_id not in used]
        reports.append(report)
    return reports
