"""Log lines for people (text) or for a log pipeline (``TIMEBOT_LOG_FORMAT=json``), and the id
that ties one action's lines together.

Each Slack request gets an action id when Bolt dispatches it (its request key: the same for
Slack's retries of it); a context variable carries it to the listener thread, the work pool's
job and any fan-out the job does (``ContextThreadPool``, ``bot.runtime.work``), so every line of the
action names it. JSON lines are one object each: ``time``, ``level``, ``logger``, ``message``,
``action_id`` (when there is one) and ``exc_info`` (a traceback, as one string). What the text
lines keep out of logs (payloads, query strings, tokens) stays out of JSON lines too: the
formatter writes the same message, and nothing from the request besides its key.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from pythonjsonlogger.json import JsonFormatter

P = ParamSpec("P")
R = TypeVar("R")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_action: contextvars.ContextVar[str | None] = contextvars.ContextVar("timebot_action", default=None)


def current() -> str | None:
    """The action id of the work this thread does now, if any."""
    return _action.get()


@contextmanager
def action(action_id: str | None = None) -> Iterator[str]:
    """Attribute the lines logged inside the block (and work handed on from it) to ``action_id``
    (a fresh one when None)."""
    value = action_id or f"act:{uuid.uuid4().hex[:16]}"
    token = _action.set(value)
    try:
        yield value
    finally:
        _action.reset(token)


def carried(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` for another thread, logged under this thread's action id."""
    value = _action.get()
    if value is None:
        return fn

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _action.set(value)
        try:
            return fn(*args, **kwargs)
        finally:
            _action.reset(token)

    return run


class ContextThreadPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context (its action id):
    ``ThreadPoolExecutor`` runs them in the worker's own, empty one."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


class ActionId(logging.Filter):
    """Puts the current action id on every record as ``action_id`` (None outside an action)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.action_id = _action.get()
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line, with the fields the module docstring lists."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        action_id = getattr(record, "action_id", None)
        if action_id is not None:
            log_data["action_id"] = action_id
        else:
            log_data.pop("action_id", None)


def use_format(name: str) -> None:
    """``text`` or ``json`` on every handler of the root logger (the one ``timebot`` sets up)."""
    formatter: logging.Formatter = JsonLines() if name == "json" else logging.Formatter(TEXT_FORMAT)
    if name == "json":
        logging.captureWarnings(True)  # a Python warning would otherwise be a bare line on stderr
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, ActionId) for f in handler.filters):
            handler.addFilter(ActionId())
