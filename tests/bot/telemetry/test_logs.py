"""JSON log lines: one object each, the action id on every line logged inside an action, and on
work handed to another thread from it."""

from __future__ import annotations

import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from bot.telemetry import logs


def json_logger() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonLines())
    handler.addFilter(logs.ActionId())
    logger = logging.getLogger(f"test.logs.{id(out)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, out


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_outside_an_action_has_no_action_id() -> None:
    logger, out = json_logger()
    logger.info("started")
    (line,) = lines(out)
    assert {"time", "level", "logger", "message"} <= set(line) and "action_id" not in line
    assert (line["level"], line["message"]) == ("INFO", "started")


def test_lines_inside_an_action_and_in_threads_it_hands_work_to_carry_its_id() -> None:
    logger, out = json_logger()
    with logs.action("cmd:T1:42"), logs.ContextThreadPool(2) as pool:
        logger.info("acked")
        pool.submit(logger.warning, "vendor slow").result()
    with ThreadPoolExecutor(1) as plain, logs.action("cmd:T1:43"):
        plain.submit(logs.carried(lambda: logger.info("fan-out"))).result()
    assert [(line["message"], line.get("action_id")) for line in lines(out)] == [
        ("acked", "cmd:T1:42"),
        ("vendor slow", "cmd:T1:42"),
        ("fan-out", "cmd:T1:43"),
    ]


def test_a_traceback_stays_inside_its_one_line() -> None:
    logger, out = json_logger()
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = lines(out)
    assert "ValueError: boom" in line["exc_info"]
