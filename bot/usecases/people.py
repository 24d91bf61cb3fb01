"""People and their identities: who is asking (from Slack, cached), the audit log, admin checks,
and which vendor account is theirs (linked, or matched by email).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings
from bot.crypto import SecretBox
from bot.domain import Action, Actor, VendorPerson, VendorUser, email_index, email_key
from bot.errors import NotLinked, UserError, VendorError
from bot.telemetry import metrics
from bot.usecases.admins import AdminCheck
from bot.usecases.ports import Slack, SlackError
from bot.vendors.base import IdentityVendor, Vendor, as_identity
from bot.vendors.registry import Router
from storage.models import Identity, Person, utcnow
from storage.store import AccountTaken, Store

log = logging.getLogger(__name__)

# Slack's user_change event keeps stored profiles current; users.info is asked again only when a
# profile is older than this: the fallback for events missed (the bot down, an event lost).
PERSON_TTL = timedelta(days=7)
# How long a process trusts its own copy of a person row before reading it again: a clock-in needs
# no read of the person table, and a change another process saved shows here at most this late.
PERSON_CACHE_SECONDS = 300.0
DIRECTORY_TTL = 600.0


def slack_profile(user: object) -> dict[str, Any] | None:
    """What Timebot keeps of a Slack user object (users.info, users.list, user_change), read one way
    so that profiles from any of them compare equal; None when it is not a user object."""
    if not isinstance(user, Mapping):
        return None
    profile = user.get("profile") or {}
    if not isinstance(profile, Mapping):
        return None
    found = {"name": user.get("real_name") or user.get("name"), "email": profile.get("email"), "tz": user.get("tz")}
    if not all(v is None or isinstance(v, str) for v in found.values()):
        return None
    return {**found, "is_admin": bool(user.get("is_admin") or user.get("is_owner"))}


@dataclass(frozen=True)
class LinkedIdentity:
    vendor: str
    label: str
    vendor_user_id: str
    linked_by: str
    name: str | None = None  # as the vendor knows them: a wrong PIN shows up as someone else's name

    @property
    def who(self) -> str:
        return f"{self.name} (user {self.vendor_user_id})" if self.name else f"user {self.vendor_user_id}"


class People:
    """Everything about a person that is not a vendor action; every other use case starts here."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        router: Router,
        box: SecretBox,
        slack: Slack,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.router = router
        self.box = box
        self.slack = slack
        self.clock = clock
        self._directory: dict[str, tuple[float, list[VendorPerson]]] = {}
        # this process's copies of person rows (when read, by self.clock; None: no row), and the
        # profiles Slack confirmed unchanged since their row was written: no write just to move
        # updated_at (a status change sends user_change for everyone; a stale one asks users.info)
        self._people: dict[tuple[str, str], tuple[float, Person | None]] = {}
        self._confirmed: dict[tuple[str, str], datetime] = {}
        self._people_lock = threading.Lock()
        self._dir_lock = threading.Lock()
        self.admins = AdminCheck(slack, settings.admin_ids, clock)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def zone(self, name: str | None) -> ZoneInfo:
        try:
            return ZoneInfo(name or self.settings.default_tz)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.settings.default_tz)

    def cached_zone(self, team_id: str, user_id: str) -> ZoneInfo:
        """The person's zone from the cached profile: no Slack call, so it can run before the ack."""
        person = self._person(team_id, user_id)
        return self.zone(person.tz if person else None)

    def actor(self, team_id: str, user_id: str) -> Actor:
        """Who is asking, with their Slack time zone. Slack is asked (users.info) on first sight and
        when the profile is older than PERSON_TTL: user_change events keep it current meanwhile."""
        person = self._person(team_id, user_id)
        if self._due(team_id, user_id, person):
            try:
                profile = slack_profile(self.slack.user(user_id))
                if profile is None:
                    log.warning("users.info gave no user object for %s", user_id)
                else:
                    person, _ = self._take(team_id, user_id, person, profile)
            except SlackError as exc:
                log.warning("users.info failed for %s: %s", user_id, exc.error)
        is_admin = user_id in self.settings.admin_ids or bool(person and person.is_admin)
        return Actor(
            team_id,
            user_id,
            self.zone(person.tz if person else None),
            person.name if person else None,
            person.email if person else None,
            is_admin,
        )

    def profile_changed(self, team_id: str, user: Mapping[str, Any]) -> bool:
        """Slack's ``user_change``: a known person's new profile, saved only if it differs (True
        when saved). Slack sends one for every member on any profile or status change, so someone
        Timebot never met is ignored: no row, no write (a large workspace must not fill the table)."""
        user_id = user.get("id")
        profile = slack_profile(user)
        if not team_id or not isinstance(user_id, str) or not user_id or profile is None:
            return False
        hit = self._cached((team_id, user_id))
        # a copy saying "no row" is not trusted here: another process may have met them since
        person = (hit[1] if hit else None) or self.store.person(team_id, user_id)
        if person is None:
            return False
        return self._take(team_id, user_id, person, profile)[1]

    def _cached(self, key: tuple[str, str]) -> tuple[float, Person | None] | None:
        with self._people_lock:
            hit = self._people.get(key)
        return hit if hit is not None and 0 <= self.clock() - hit[0] < PERSON_CACHE_SECONDS else None

    def _remember(self, key: tuple[str, str], person: Person | None) -> None:
        with self._people_lock:
            self._people[key] = (self.clock(), person)

    def _person(self, team_id: str, user_id: str) -> Person | None:
        """The person row as this process last read or saved it, read again once it is older than
        PERSON_CACHE_SECONDS: the database stays the truth across processes."""
        key = (team_id, user_id)
        hit = self._cached(key)
        if hit is not None:
            return hit[1]
        person = self.store.person(team_id, user_id)
        self._remember(key, person)
        return person

    def _due(self, team_id: str, user_id: str, person: Person | None) -> bool:
        """Whether Slack must be asked: never seen, or no word from Slack for PERSON_TTL."""
        if person is None:
            return True
        with self._people_lock:
            confirmed = self._confirmed.get((team_id, user_id))
        fresh_since = max(person.updated_at, confirmed) if confirmed else person.updated_at
        return utcnow() - fresh_since > PERSON_TTL

    def _take(self, team_id: str, user_id: str, person: Person | None, profile: dict[str, Any]) -> tuple[Person, bool]:
        """Slack's word on a profile: saved when it differs from the row, else only noted as
        confirmed now; this process's copy is refreshed either way. True when saved."""
        key = (team_id, user_id)
        if person is not None and all(getattr(person, k) == v for k, v in profile.items()):
            with self._people_lock:
                self._confirmed[key] = utcnow()
            self._remember(key, person)
            return person, False
        saved = self.store.save_person(team_id, user_id, **profile)
        with self._people_lock:
            self._confirmed.pop(key, None)
        self._remember(key, saved)
        return saved, True

    def audit(self, team_id: str, slack_user_id: str, vendor: str, action: str, outcome: str, detail: str = "") -> None:
        """Record an action; a failed write is logged, never reported as the action failing (it
        often comes after the vendor did the work: "nothing was changed" would be untrue)."""
        metrics.action(action, outcome)
        try:
            self.store.audit(team_id, slack_user_id, vendor, action, outcome, detail)
        except Exception as exc:
            log.error(
                "could not write the audit row for %s %s (%s): %s", action, outcome, slack_user_id, type(exc).__name__
            )

    def is_admin(self, actor: Actor) -> bool:
        """Admin rights right now (Slack, cached a minute), not as of the person cache."""
        return self.admins.is_admin(actor.user_id)

    def require_admin(self, actor: Actor, what: str, refusal: str | None = None) -> None:
        if not self.is_admin(actor):
            log.warning("refused admin-only %s for %s in %s", what, actor.user_id, actor.team_id)
            self.audit(actor.team_id, actor.user_id, "-", what, "refused", "not an admin")
            raise UserError(
                refusal or "Only Timebot admins can do that: ask a workspace admin, or whoever runs Timebot."
            )

    def directory(self, vendor: IdentityVendor) -> list[VendorPerson]:
        with self._dir_lock:
            cached = self._directory.get(vendor.name)
            if cached and self.clock() - cached[0] < DIRECTORY_TTL:
                return cached[1]
        people = vendor.people()
        with self._dir_lock:
            self._directory[vendor.name] = (self.clock(), people)
        return people

    def vendor_user(self, row: Identity) -> VendorUser:
        return VendorUser(row.vendor_user_id, self.box.decrypt(row.secret_enc) if row.secret_enc else None)

    def identity(self, actor: Actor, vendor: Vendor) -> VendorUser:
        """The person's identity in ``vendor``; matched by email on first use where possible."""
        row = self.store.identity(actor.team_id, actor.user_id, vendor.name)
        if row is not None:
            return self.vendor_user(row)
        directory = as_identity(vendor)
        if directory is not None and actor.email:
            match = self._match_email(directory, actor.email)
            if match is not None:
                self._not_linked_to_someone_else(actor.user_id, vendor, match.vendor_user_id)
                self._save_identity(
                    actor.team_id,
                    actor.user_id,
                    vendor,
                    match.vendor_user_id,
                    secret_enc=None,
                    email=match.email,
                    linked_by="email",
                )
                return VendorUser(match.vendor_user_id)
        if vendor.link_fields:
            raise NotLinked(f"Link your {vendor.label} account first: type `/timebot link`.")
        raise NotLinked(
            f"I couldn't find you in {vendor.label} by your Slack email ({actor.email or 'none'}). "
            f"Ask a Timebot admin to link you: `/timebot link @you` followed by your {vendor.label} id."
        )

    def _match_email(self, vendor: IdentityVendor, email: str) -> VendorPerson | None:
        return email_index(self.directory(vendor)).get(email_key(email))

    def routed_vendors(self) -> list[Vendor]:
        """Every vendor that serves a person's action (clock, leave, who's off), once each."""
        seen: list[Vendor] = []
        for action in (Action.CLOCK, Action.LEAVE, Action.WHOS_OFF):
            vendor = self.router.maybe(action)
            if vendor is not None and vendor not in seen:
                seen.append(vendor)
        return seen

    def link_vendor(self) -> Vendor:
        """The vendor people link themselves to: the first routed vendor that asks for fields."""
        seen = self.routed_vendors()
        for vendor in seen:
            if vendor.link_fields:
                return vendor
        if seen:
            return seen[0]
        raise UserError("No vendor is configured yet. An admin needs to set one up (see the README).")

    def link_target(self, vendor_name: object) -> Vendor | None:
        """The vendor a link form was opened for, if it is still configured."""
        return self.router.vendors.get(vendor_name) if isinstance(vendor_name, str) else None

    def link(
        self, actor: Actor, vendor_name: str, fields: dict[str, str], target_user_id: str | None = None
    ) -> LinkedIdentity:
        """Exchange what was typed in the link modal (a TimeClock PIN …) for stored credentials."""
        target = target_user_id or actor.user_id
        if target != actor.user_id:
            self.require_admin(actor, "link")
        vendor = self.router.vendors[vendor_name]
        try:
            user, person = vendor.link(fields)
        except VendorError as exc:
            self.audit(actor.team_id, target, vendor.name, "link", "rejected", exc.user_message)
            raise
        secret = self.box.encrypt(user.secret) if user.secret else None
        by = "self" if target == actor.user_id else f"admin:{actor.user_id}"
        try:
            self._not_linked_to_someone_else(target, vendor, user.vendor_user_id)
            self._save_identity(
                actor.team_id, target, vendor, user.vendor_user_id, secret_enc=secret, email=person.email, linked_by=by
            )
        except UserError as exc:
            self.audit(actor.team_id, target, vendor.name, "link", "rejected", exc.message)
            raise
        self.audit(actor.team_id, target, vendor.name, "link", "ok", f"vendor user {user.vendor_user_id}")
        return LinkedIdentity(vendor.name, vendor.label, user.vendor_user_id, by, person.name)

    def admin_link(
        self, actor: Actor, target_user_id: str, vendor_user_id: str, vendor_name: str | None = None
    ) -> LinkedIdentity:
        """An admin points a Slack user at a vendor id (for vendors matched by email)."""
        self.require_admin(actor, "link")
        vendor = (
            self.router.vendors[vendor_name]
            if vendor_name
            else (self.router.maybe(Action.IDENTITY) or self.link_vendor())
        )
        if vendor.link_fields:
            raise UserError(
                f"{vendor.label} needs the person's own key: use `/timebot link @person` and enter "
                f"their {vendor.link_fields[0].label}."
            )
        directory = as_identity(vendor)
        email = (
            next((p.email for p in self.directory(directory) if p.vendor_user_id == vendor_user_id), None)
            if directory is not None
            else None
        )
        if directory is not None and email is None:
            raise UserError(f"{vendor.label} has nobody with id {vendor_user_id}.")
        self._not_linked_to_someone_else(target_user_id, vendor, vendor_user_id)
        self._save_identity(
            actor.team_id,
            target_user_id,
            vendor,
            vendor_user_id,
            secret_enc=None,
            email=email,
            linked_by=f"admin:{actor.user_id}",
        )
        self.audit(actor.team_id, target_user_id, vendor.name, "link", "ok", f"by admin {actor.user_id}")
        return LinkedIdentity(vendor.name, vendor.label, vendor_user_id, f"admin:{actor.user_id}")

    def _save_identity(
        self,
        team_id: str,
        target: str,
        vendor: Vendor,
        vendor_user_id: str,
        *,
        secret_enc: str | None,
        email: str | None,
        linked_by: str,
    ) -> None:
        """Save the link; when someone else won a race for the account, say so as the check would."""
        try:
            self.store.save_identity(
                team_id, target, vendor.name, vendor_user_id, secret_enc=secret_enc, email=email, linked_by=linked_by
            )
        except AccountTaken:
            self._not_linked_to_someone_else(target, vendor, vendor_user_id)
            raise UserError(f"That {vendor.label} account is already linked to someone else.") from None

    def _not_linked_to_someone_else(self, target: str, vendor: Vendor, vendor_user_id: str) -> None:
        """One vendor account, one Slack person: otherwise one of them clocks the other in and out."""
        others = [i for i in self.store.identity_holders(vendor.name, vendor_user_id) if i.slack_user_id != target]
        if others:
            person = self.store.person(others[0].team_id, others[0].slack_user_id)
            who = person.name if person and person.name else "someone else"
            raise UserError(
                f"That {vendor.label} account is already linked to {who}. If it's yours, ask them "
                "or a Timebot admin to unlink it first (`/timebot unlink`)."
            )

    def unlink(self, actor: Actor, target_user_id: str | None = None) -> int:
        target = target_user_id or actor.user_id
        if target != actor.user_id:
            self.require_admin(actor, "unlink")
        removed = self.store.delete_identity(actor.team_id, target)
        self.audit(actor.team_id, target, "-", "unlink", "ok", f"{removed} identities")
        return removed
