"""``bot.py console`` as a user starts it: the CLI's market flags, and one line (not a
traceback) when the exchange can't be reached, saying how to run without network."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def console(*args: str, stdin: str, env: dict[str, str], cwd: Path):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGEWATCH_",
                                                                        "TELEGRAM_", "OKX_"))}
    full_env.update(env)
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), "console", *args],
                          input=stdin, capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=120)


def closed_port() -> int:
    """A local port nobody listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_console_takes_the_market_flags_of_the_cli(tmp_path: Path) -> None:
    env = {"HEDGEWATCH_STORAGE_PATH": str(tmp_path / "hw.db")}
    r = console("--exchange", "sim", "--at", "2026-02-01T00:00", stdin="/market full\n", env=env,
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Cascade score" in r.stdout and "SIMULATED" in r.stdout
    bad = console("--exchange", "sim", "--at", "yesterday", stdin="", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "--at 'yesterday'" in bad.stderr


def test_an_unreachable_exchange_is_one_line_saying_how_to_run_offline(tmp_path) -> None:
    env = {"HEDGEWATCH_STORAGE_PATH": str(tmp_path / "hw.db"),
           "HEDGEWATCH_EXCHANGE_API_URL": f"http://127.0.0.1:{closed_port()}",
           "HEDGEWATCH_EXCHANGE_MAX_RETRIES": "0"}
    r = console(stdin="/market full\n", env=env, cwd=tmp_path)
    assert r.returncode == 1
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("OKX is unreachable (")
    assert "make demo, or add --exchange sim" in line and "Traceback" not in r.stderr
