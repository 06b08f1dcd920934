"""The command line: exit codes, check-config, health, as a user runs them (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import open_database
from storage.heartbeat import beat

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = {"HEDGEWATCH_EXCHANGE_NAME": "sim"}  # check-config asks the exchange for its symbols


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGEWATCH_",
                                                                        "TELEGRAM_", "OKX_"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd or ROOT, timeout=60)


def test_help_lists_the_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("run", "demo", "console", "check-config", "plugins", "health"):
        assert cmd in r.stdout


def test_unknown_command_is_a_usage_error():
    r = run("frobnicate")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_check_config_prints_effective_config_with_secrets_masked(tmp_path):
    token = "987654:SUPERSECRETTOKENVALUE"
    r = run("check-config", env={"TELEGRAM_BOT_TOKEN": token, "HEDGEWATCH_RISK_LEVERAGE": "5",
                                 **OFFLINE}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "leverage = 5" in r.stdout
    assert "TELEGRAM_BOT_TOKEN = *** (set)" in r.stdout
    assert token not in r.stdout + r.stderr


def test_check_config_exits_2_listing_every_problem(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[risk]\nleverage = "x"\n[telegram]\ntoken = "123:ABCDEFSECRET"\n')
    r = run("check-config", "--config", str(cfg))
    assert r.returncode == 2
    assert "2 problems:" in r.stderr and "TELEGRAM_BOT_TOKEN" in r.stderr
    assert "ABCDEFSECRET" not in r.stderr + r.stdout


def test_config_from_hedgewatch_config_env(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[risk]\nleverage = 3.0\n")
    r = run("check-config", env={"HEDGEWATCH_CONFIG": str(cfg), **OFFLINE}, cwd=tmp_path)
    assert r.returncode == 0 and "leverage = 3.0" in r.stdout


@pytest.mark.parametrize("age_s,expected", [(None, 1), (60, 0), (3 * 3600, 1)])
def test_health_judges_the_last_heartbeat(tmp_path, age_s, expected):
    db_path = tmp_path / "hw.db"
    db = open_database(db_path)
    if age_s is not None:
        at = int((time.time() - age_s) * 1000)
        beat(db, "cycle", at, 120.0, detail={"started_ms": at, "data_age_ms": 30_000})
    r = run("health", env={"HEDGEWATCH_STORAGE_PATH": str(db_path)}, cwd=tmp_path)
    assert r.returncode == expected, r.stderr + r.stdout
    assert (r.stdout if expected == 0 else r.stderr).strip()


def test_health_without_database_fails_with_a_reason(tmp_path):
    r = run("health", env={"HEDGEWATCH_STORAGE_PATH": str(tmp_path / "none.db")}, cwd=tmp_path)
    assert r.returncode == 1 and "no database" in r.stderr


def test_health_degrades_when_cycles_run_but_the_newest_bar_is_old(tmp_path):
    """The cycle ran a minute ago, but the exchange has given nothing new for three hours:
    exit 1, and stderr says how old the data is and why."""
    db_path = tmp_path / "hw.db"
    db = open_database(db_path)
    at = int((time.time() - 60) * 1000)
    beat(db, "cycle", at, 120.0, detail={"started_ms": at, "data_age_ms": 3 * 3_600_000,
                                         "newest_bar_ms": at - 3 * 3_600_000})
    r = run("health", env={"HEDGEWATCH_STORAGE_PATH": str(db_path)}, cwd=tmp_path)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("degraded: data 3 h 1 min old: no new bars from the exchange")
