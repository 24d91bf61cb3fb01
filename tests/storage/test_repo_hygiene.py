"""What running the bot from a checkout leaves behind stays out of ``git status``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())


@pytest.mark.parametrize("left_behind", ["timebot.db", "timebot.db.migrate-lock", "timebot.db-journal"])
def test_the_files_a_local_sqlite_run_creates_are_ignored_by_git(left_behind: str) -> None:
    found = subprocess.run(["git", "check-ignore", "-q", left_behind], cwd=ROOT, check=False)
    if found.returncode == 128:
        pytest.skip("not a git checkout")
    assert found.returncode == 0, f"{left_behind} would show as untracked after `./dev run`"
