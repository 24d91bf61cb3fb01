"""The Slack adapter: each way Slack says no, as the Slack stand-in says it over HTTP, becomes the
use cases' typed error; and the ports read and write what Slack holds."""

from __future__ import annotations

import socket

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.slack.client import SlackClient, posting_client
from bot.usecases.ports import (
    Posted,
    SlackChannelGone,
    SlackError,
    SlackGroupGone,
    SlackMessageGone,
    SlackMissingScope,
    SlackNotInChannel,
    SlackOutcomeUnknown,
    SlackRateLimited,
    SlackTokenRevoked,
    SlackTryLater,
    SlackUnavailable,
    SlackUnreachable,
    SlackUserGone,
)
from sandbox.slack import SlackStandIn, UserToken
from tests.support import BOT_TOKEN


def bare(slack: SlackStandIn) -> SlackClient:
    """The adapter over a client that retries nothing: each refusal is seen as Slack sent it."""
    return SlackClient(WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[]))


# Every error string a use case or digest acted on when it read Slack's error itself, and the
# documented ones beside them that mean the same.
TYPED = [
    ("ratelimited", SlackRateLimited),
    ("rate_limited", SlackRateLimited),
    ("message_limit_exceeded", SlackRateLimited),
    ("service_unavailable", SlackUnavailable),
    ("team_added_to_org", SlackUnavailable),
    ("request_timeout", SlackUnavailable),
    ("fatal_error", SlackOutcomeUnknown),
    ("internal_error", SlackOutcomeUnknown),
    ("invalid_auth", SlackTokenRevoked),
    ("token_revoked", SlackTokenRevoked),
    ("account_inactive", SlackTokenRevoked),
    ("not_authed", SlackTokenRevoked),
    ("token_expired", SlackTokenRevoked),
    ("user_not_found", SlackUserGone),
    ("users_not_found", SlackUserGone),
    ("channel_not_found", SlackChannelGone),
    ("is_archived", SlackChannelGone),
    ("is_inactive", SlackChannelGone),
    ("not_in_channel", SlackNotInChannel),
    ("message_not_found", SlackMessageGone),
    ("no_such_subteam", SlackGroupGone),
    ("missing_scope", SlackMissingScope),
]


@pytest.mark.parametrize(("error", "kind"), TYPED)
def test_each_slack_error_string_raises_its_typed_error(
    slack: SlackStandIn, error: str, kind: type[SlackError]
) -> None:
    slack.refuse("chat.postMessage", error)
    with pytest.raises(SlackError) as raised:
        bare(slack).post("C0TEAM", "hello")
    assert type(raised.value) is kind
    assert (raised.value.error, raised.value.method, raised.value.status) == (error, "chat.postMessage", 200)


def test_a_refusal_no_caller_acts_on_is_a_plain_slack_error(slack: SlackStandIn) -> None:
    slack.refuse("chat.postMessage", "msg_too_long")
    with pytest.raises(SlackError) as raised:
        bare(slack).post("C0TEAM", "hello")
    assert type(raised.value) is SlackError and raised.value.error == "msg_too_long"


def test_rate_limits_and_a_briefly_unavailable_slack_are_both_worth_trying_later() -> None:
    assert issubclass(SlackRateLimited, SlackTryLater) and issubclass(SlackUnavailable, SlackTryLater)
    assert not issubclass(SlackOutcomeUnknown, SlackTryLater)


def test_an_http_5xx_may_have_taken_effect_whatever_its_error_says(slack: SlackStandIn) -> None:
    slack.refuse("chat.postMessage", "ratelimited", status=503)
    with pytest.raises(SlackOutcomeUnknown) as raised:
        bare(slack).post("C0TEAM", "hello")
    assert (raised.value.error, raised.value.status) == ("ratelimited", 503)


def test_a_429_left_after_the_retries_is_rate_limited_with_slacks_retry_after(slack: SlackStandIn) -> None:
    slack.rate_limit("users.info", times=1, retry_after=7)
    with pytest.raises(SlackRateLimited) as raised:
        bare(slack).user("U0ADA")
    assert (raised.value.error, raised.value.status, raised.value.retry_after) == ("ratelimited", 429, 7.0)


def test_the_clients_own_retry_handlers_still_retry_before_anything_is_raised(slack: SlackStandIn) -> None:
    slack.rate_limit("users.info", times=1, retry_after=0)
    web = WebClient(
        token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )
    assert SlackClient(web).user("U0ADA")["id"] == "U0ADA"
    assert len(slack.calls_to("users.info#429")) == 1


def test_no_answer_at_all_is_unreachable_and_may_have_taken_effect() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    client = SlackClient(WebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[]))
    with pytest.raises(SlackUnreachable) as raised:
        client.post("C0TEAM", "hello")
    assert isinstance(raised.value, SlackOutcomeUnknown)
    assert raised.value.status is None and raised.value.method == "chat.postMessage"


def test_a_missing_scope_names_the_scope_slack_asked_for(slack: SlackStandIn) -> None:
    slack.scopes.remove("users:read")
    with pytest.raises(SlackMissingScope) as raised:
        bare(slack).user("U0ADA")
    assert raised.value.needed == "users:read"


def test_a_person_slack_does_not_know_is_gone(slack: SlackStandIn) -> None:
    with pytest.raises(SlackUserGone):
        bare(slack).user("U0NOBODY")
    with pytest.raises(SlackUserGone):
        bare(slack).user_id_by_email("nobody@example.com")


def test_a_channel_the_bot_cannot_see_is_gone(slack: SlackStandIn) -> None:
    with pytest.raises(SlackChannelGone):
        bare(slack).channel("C0NOWHERE")
    with pytest.raises(SlackChannelGone):
        bare(slack).channel_members("C0NOWHERE", page=200)


def test_a_user_group_slack_does_not_know_is_gone(slack: SlackStandIn) -> None:
    with pytest.raises(SlackGroupGone):
        bare(slack).group_members("S0NONE")


def test_a_revoked_or_unknown_user_token_is_token_revoked(slack: SlackStandIn) -> None:
    slack.user_side.tokens["xoxp-revoked"] = UserToken("U0ADA", {"users.profile:read"}, revoked=True)
    with pytest.raises(SlackTokenRevoked) as revoked:
        bare(slack).status("xoxp-revoked")
    with pytest.raises(SlackTokenRevoked) as unknown:
        bare(slack).set_status("xoxp-never-issued", "Out", ":palm_tree:", 0)
    assert (revoked.value.error, unknown.value.error) == ("token_revoked", "invalid_auth")


def test_a_post_to_a_person_lands_in_their_dm(slack: SlackStandIn) -> None:
    posted = bare(slack).post("U0ADA", "hello", [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}])
    assert posted.channel == "D0ADA" and posted.ts
    [call] = slack.calls_to("chat.postMessage")
    assert call.args["blocks"][0]["text"]["text"] == "hi"


def test_a_post_without_unfurling_asks_slack_not_to_unfurl(slack: SlackStandIn) -> None:
    bare(slack).post("C0TEAM", "see https://example.com", unfurl=False)
    [call] = slack.calls_to("chat.postMessage")
    assert (call.args["unfurl_links"], call.args["unfurl_media"]) == (False, False)


def test_members_are_read_page_after_page(slack: SlackStandIn) -> None:
    for n in range(450):
        slack.add_user(f"U1{n:05d}", f"Person {n}", f"p{n}@example.com")
    found = [m["id"] for m in bare(slack).members()]
    assert len(found) == len(slack.users) and set(found) == set(slack.users)
    assert len(slack.calls_to("users.list")) == 3  # 200 a page


def test_a_channels_members_are_read_page_after_page(slack: SlackStandIn) -> None:
    members = [f"U{n:06d}" for n in range(450)]
    slack.add_channel("C0BIG", "everyone", members)
    assert bare(slack).channel_members("C0BIG", page=200) == {*members, "UBOT"}
    assert len(slack.calls_to("conversations.members")) == 3


def test_a_user_groups_members_keep_slacks_order(slack: SlackStandIn) -> None:
    slack.add_usergroup("S0LEADS", "leads", ["U0GRACE", "U0ADA"])
    client = bare(slack)
    assert [g["handle"] for g in client.groups()] == ["leads"]
    assert client.group_members("S0LEADS") == ["U0GRACE", "U0ADA"]


def test_the_workspace_is_the_bot_tokens(slack: SlackStandIn) -> None:
    assert bare(slack).workspace_id() == slack.team_id


def test_a_file_is_shared_into_the_persons_dm(slack: SlackStandIn) -> None:
    bare(slack).upload("U0ADA", "report.csv", b"a,b\n1,2\n", title="Report", comment="Your report")
    [shared] = [f for f in slack.files.values() if f.shared_to]
    assert (shared.filename, shared.content, shared.shared_to) == ("report.csv", b"a,b\n1,2\n", ["D0ADA"])


def test_the_posting_client_retries_a_rate_limit_but_never_a_5xx(slack: SlackStandIn) -> None:
    shared = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    once = SlackClient(posting_client(shared))
    slack.refuse("chat.postMessage", "internal_error", status=500)
    with pytest.raises(SlackOutcomeUnknown):
        once.post("C0TEAM", "hello")
    assert len(slack.calls_to("chat.postMessage#internal_error")) == 1
    assert once.web.token == BOT_TOKEN and once.web.base_url == shared.base_url
    assert isinstance(once.post("C0TEAM", "again"), Posted)
