"""Shared fixtures: real SQLite files in tmp dirs, the shared real-data folder, no entry points."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run, so a landing never hangs on a lucky draw and a
# failure there is reproducible; locally (the default profile) every run explores new inputs;
# "fuzz" explores ten times as many (the fuzz tests scale their counts by it: tests/fuzzing.py).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("fuzz", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# PTB's opt-in to timedelta periods, as chat.bot_client sets it in the bot: the same in every
# test whatever was imported first (RetryAfter.retry_after is then a timedelta, no warning)
os.environ.setdefault("PTB_TIMEDELTA", "true")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("HEDGEWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The real exchange data in ../shared/data; skips the test with a reason when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (see ../shared/data/SOURCES.md)")
    return SHARED_DATA


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hedgewatch.db"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's secrets or HEDGEWATCH_* overrides."""
    for var in list(os.environ):
        if (var.startswith("HEDGEWATCH_") and var != "HEDGEWATCH_SHARED_DATA") or var in (
            "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET") or var.endswith(
                ("_API_KEY", "_API_SECRET", "_API_PASSPHRASE")):
            monkeypatch.delenv(var, raising=False)
