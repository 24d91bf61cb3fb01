"""The composition root builds the runtime whole: every service given in one call, and the one
scheduler running every feature's jobs when TIMEBOT_SCHEDULER is on."""

from __future__ import annotations

import dataclasses
import threading
import types
import typing
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.runtime.app import Runtime, create_app
from bot.runtime.services import Services
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from tests.conftest import make_settings, timeclock_vendor

INTERVAL_JOBS = {
    "housekeeping:request-keys",
    "housekeeping:directory",
    "intake:recover",
    "intake:forget",
    "hygiene:check",
    "leave:poll",
    "leave:remind",
    "leave-status",
    "digest:resync",
}


def may_be_none(cls: type) -> set[str]:
    hints = typing.get_type_hints(cls)
    return {
        name
        for name, hint in hints.items()
        if isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    }


def schedulers_running() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "APScheduler")


def test_every_service_is_given_when_the_services_are_built() -> None:
    defaults = [
        f.name
        for f in dataclasses.fields(Services)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    ]
    assert defaults == []


def test_only_the_away_status_consent_link_may_be_missing_from_the_services() -> None:
    assert may_be_none(Services) == {"away_status_connect_url"}


def test_the_runtime_is_built_whole_and_only_the_consent_routes_and_the_scheduler_may_be_missing() -> None:
    assert [f.name for f in dataclasses.fields(Runtime) if f.default is not dataclasses.MISSING] == []
    assert may_be_none(Runtime) == {"away_status_oauth", "scheduler"}


def test_with_the_scheduler_on_one_scheduler_runs_every_features_jobs(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer
) -> None:
    runtime = create_app(
        make_settings(tmp_path, slack, TIMEBOT_SCHEDULER="true"),
        vendors={"timeclock": timeclock_vendor(tc_server.base_url)},
    )
    try:
        assert runtime.scheduler is not None
        assert {name for name in INTERVAL_JOBS if runtime.scheduler.next_run(name) is None} == set()
        assert runtime.digests.scheduler is not None  # admins' changes reach it
    finally:
        runtime.close()


def test_with_the_scheduler_off_no_job_is_scheduled(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer) -> None:
    runtime = create_app(
        make_settings(tmp_path, slack, TIMEBOT_SCHEDULER="false"),
        vendors={"timeclock": timeclock_vendor(tc_server.base_url)},
    )
    try:
        assert runtime.scheduler is None
        assert runtime.digests.scheduler is None
    finally:
        runtime.close()


def test_an_unreadable_away_status_setting_stops_start_up_naming_the_setting(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer
) -> None:
    settings = make_settings(tmp_path, slack, TIMEBOT_LEAVE_STATUSES="nonsense", TIMEBOT_SCHEDULER="true")
    before = schedulers_running()
    with pytest.raises(ConfigError, match="TIMEBOT_LEAVE_STATUSES: 'nonsense' is not kind=:emoji: text"):
        create_app(settings, vendors={"timeclock": timeclock_vendor(tc_server.base_url)})
    assert schedulers_running() == before  # none left behind
