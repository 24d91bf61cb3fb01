"""The Slack stand-in holds to Slack's documented rules (each checked over real HTTP with
slack-sdk's own client, as the bot would meet them)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import BOT_USER_ID, DEMO_CHANNEL, SlackStandIn
from tests.support import BOT_TOKEN


@pytest.fixture
def web(slack: SlackStandIn) -> Iterator[WebClient]:
    yield WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()  # type: ignore[operator]
    return str(raised.value.response["error"])


MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}


def test_each_open_and_update_gives_the_view_a_new_hash(slack: SlackStandIn, web: WebClient) -> None:
    opened = web.views_open(trigger_id=slack.issue_trigger(), view=MODAL)["view"]
    updated = web.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    pushed = web.views_push(trigger_id=slack.issue_trigger(), view=MODAL)["view"]
    assert len({opened["hash"], updated["hash"], pushed["hash"]}) == 3


def test_an_update_with_a_stale_hash_is_a_hash_conflict(slack: SlackStandIn, web: WebClient) -> None:
    opened = web.views_open(trigger_id=slack.issue_trigger(), view=MODAL)["view"]
    web.views_update(view_id=opened["id"], view=MODAL)
    assert error_of(lambda: web.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)) == "hash_conflict"


def test_a_trigger_works_once(slack: SlackStandIn, web: WebClient) -> None:
    trigger = slack.issue_trigger()
    web.views_open(trigger_id=trigger, view=MODAL)
    assert error_of(lambda: web.views_open(trigger_id=trigger, view=MODAL)) == "exchanged_trigger_id"


def test_a_trigger_expires_after_three_seconds(slack: SlackStandIn, web: WebClient) -> None:
    trigger = slack.issue_trigger()
    slack.advance(3.01)
    assert error_of(lambda: web.views_open(trigger_id=trigger, view=MODAL)) == "expired_trigger_id"


def test_a_trigger_slack_never_issued_is_invalid(web: WebClient) -> None:
    assert error_of(lambda: web.views_open(trigger_id="1.2.made-up", view=MODAL)) == "invalid_trigger_id"


def test_a_response_url_takes_five_posts_then_answers_used_url(slack: SlackStandIn) -> None:
    url = slack.response_url("k")
    answers = [httpx.post(url, json={"text": str(n)}) for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].text == "used_url"


def test_a_response_url_expires_after_thirty_minutes(slack: SlackStandIn) -> None:
    url = slack.response_url("k")
    slack.advance(30 * 60 + 1)
    answer = httpx.post(url, json={"text": "late"})
    assert (answer.status_code, answer.text) == (404, "expired_url")


def test_post_message_beyond_the_burst_is_429_with_retry_after_per_channel(slack: SlackStandIn) -> None:
    web = WebClient(token=BOT_TOKEN, base_url=slack.api_url)  # no retry handler: see the 429 itself
    for _ in range(slack.rules.post_burst):
        web.chat_postMessage(channel=DEMO_CHANNEL, text="hi")
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel=DEMO_CHANNEL, text="one too many")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    web.chat_postMessage(channel="U0ADA", text="another channel is not held up")
    slack.advance(1.0)
    web.chat_postMessage(channel=DEMO_CHANNEL, text="a second later")


def test_post_ephemeral_needs_the_person_and_the_bot_in_the_channel(slack: SlackStandIn, web: WebClient) -> None:
    web.chat_postEphemeral(channel=DEMO_CHANNEL, user="U0ADA", text="ok")
    slack.add_channel("C0PRIVATE", "private", ["U0GRACE"], bot_member=False)
    slack.add_channel("C0SMALL", "small", ["U0GRACE"])
    assert (
        error_of(lambda: web.chat_postEphemeral(channel="C0PRIVATE", user="U0GRACE", text="x")) == "user_not_in_channel"
    )
    assert error_of(lambda: web.chat_postEphemeral(channel="C0SMALL", user="U0ADA", text="x")) == "user_not_in_channel"
    assert BOT_USER_ID in slack.channels["C0SMALL"].members


def test_a_bad_token_is_invalid_auth_and_none_is_not_authed(slack: SlackStandIn) -> None:
    assert error_of(lambda: WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()) == "invalid_auth"
    assert error_of(lambda: WebClient(base_url=slack.api_url).auth_test()) == "not_authed"


def test_every_answer_names_the_tokens_scopes(slack: SlackStandIn, web: WebClient) -> None:
    slack.scopes = ["chat:write"]
    answer = web.auth_test()
    assert answer.headers["x-oauth-scopes"] == "chat:write"
    assert error_of(lambda: web.users_info(user="U0ADA")) == "missing_scope"


def test_files_upload_v2_reserves_uploads_and_shares_the_file_in_a_dm(slack: SlackStandIn, web: WebClient) -> None:
    done = web.files_upload_v2(channels=["U0ADA"], filename="report.csv", content=b"a,b\n1,2\n", title="Report")
    [upload] = slack.files.values()
    assert done["file"]["id"] == upload.id and upload.content == b"a,b\n1,2\n"
    assert upload.shared_to == ["D0ADA"] and upload.title == "Report"


def test_an_upload_url_needs_a_filename_and_a_length(web: WebClient) -> None:
    assert error_of(lambda: web.files_getUploadURLExternal(filename="x.csv", length=0)) == "invalid_arguments"


def test_completing_an_upload_whose_bytes_never_came_is_file_not_found(web: WebClient) -> None:
    reserved = web.files_getUploadURLExternal(filename="x.csv", length=3)
    assert error_of(lambda: web.files_completeUploadExternal(files=[{"id": reserved["file_id"]}])) == "file_not_found"


def test_an_upload_completes_once(slack: SlackStandIn, web: WebClient) -> None:
    reserved = web.files_getUploadURLExternal(filename="x.csv", length=3)
    assert httpx.post(reserved["upload_url"], content=b"abc").status_code == 200
    web.files_completeUploadExternal(files=[{"id": reserved["file_id"], "title": "x"}])
    assert error_of(lambda: web.files_completeUploadExternal(files=[{"id": reserved["file_id"]}])) == "file_not_found"
    assert slack.files[reserved["file_id"]].shared_to == []  # no channel: the file stays private
