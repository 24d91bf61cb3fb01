"""Leave follow-up: everything after a leave request is made, in three rooms beside this one.

* ``followup_news.py``: what the request's people are told (the requester's news, the approvers'
  DMs, their daily reminder) and who the approvers are;
* ``followup_poll.py``: approval changes found by polling or pushed by a vendor's webhook,
  announced once across every process;
* ``followup_mine.py``: the person's own requests: the list, cancelling one, their balances.

``LeaveFollowup`` is all three in one object, as the handlers, jobs and webhooks reach it.
"""

from __future__ import annotations

from bot.usecases.followup_mine import Balances, FollowupMine, MyLeave, cancellable
from bot.usecases.followup_news import FollowupRender, FollowupSettings, LeaveNews
from bot.usecases.followup_poll import FollowupPoll

__all__ = [
    "Balances",
    "FollowupRender",
    "FollowupSettings",
    "LeaveFollowup",
    "LeaveNews",
    "MyLeave",
    "cancellable",
]


class LeaveFollowup(FollowupPoll, FollowupMine):
    """The news and approvers, the status poll and the person's own requests (see above)."""
