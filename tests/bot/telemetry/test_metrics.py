"""Metric labels stay small and free of ids, whatever the vendor's paths and the jobs' ids hold."""

from __future__ import annotations

from bot.telemetry.metrics import job_label, route, surface


def test_a_vendor_route_keeps_its_words_and_loses_ids_and_the_query() -> None:
    assert route("/api/users/17/sessions?key=secret") == "/api/users/{id}/sessions"
    assert route("/api/sessions") == "/api/sessions"


def test_a_full_url_becomes_its_templated_path() -> None:
    assert (
        route("https://twpapi.example.com/api/5543/employees/ada%40example.com/punches")
        == "/api/{id}/employees/{id}/punches"
    )


def test_emails_dates_and_long_tokens_in_a_path_are_ids() -> None:
    assert route("/v1/people/ada@example.com/leave/2026-12-07") == "/v1/people/{id}/leave/{id}"
    assert route("/v1/requests/AbCdEfGhIjKlMnOpQrStUvWx") == "/v1/requests/{id}"


def test_a_digest_job_is_named_without_its_team_and_channel() -> None:
    assert job_label("digest:T0DEMO:C0TEAM") == "digest:post"
    assert job_label("digest:resync") == "digest:resync"
    assert job_label("leave-status") == "leave-status"


def test_a_job_without_an_id_of_ours_is_unnamed_rather_than_a_random_label() -> None:
    assert job_label("4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e") == "unnamed"


def test_each_kind_of_slack_request_has_its_surface() -> None:
    assert surface({"command": "/clockin"}) == "command"
    assert surface({"type": "block_actions"}) == "action"
    assert surface({"type": "view_submission"}) == "view"
    assert surface({"type": "event_callback"}) == "event"
    assert surface({"type": "something_new"}) == "other"
