"""Storage faults stay local: a database locked at start does not stop the bot; a read-only
file or a full disk at start is one line and exit 1; a disk that fills at run time is said
by ``/status`` and ``bot.py health`` while the alerts wait in memory, and they are written
(and so sent) when it has room again. Real SQLite files, a real tmpfs, a real second writer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from chat.commands.status import Status
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from jobs.cycle import WatchCycle
from jobs.service import serve
from plugins import hookimpl
from plugins.alert_rules.base import AlertRule
from plugins.exchanges.sim_market import SimMarket
from plugins.manager import PluginManager
from runtime import build_runtime
from settings import Config
from settings.secrets import Secrets
from storage import open_database
from storage.chats import ensure_chat, set_subscriptions
from storage.heartbeat import last_beat
from storage.writes import FULL, current_fault

ROOT = Path(__file__).resolve().parents[2]
CHAT = 4242


def run_bot(*args: str, env: dict[str, str], user: int | None = None, prefix: list[str] = ()
            ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("HEDGEWATCH_", "TELEGRAM_", "OKX_"))}
    return subprocess.run([*prefix, sys.executable, str(ROOT / "bot.py"), *args], text=True,
                          capture_output=True, env={**clean, **env}, timeout=120, user=user,
                          cwd=ROOT)


# --- a locked database at start ----------------------------------------------------------

async def test_a_database_locked_at_start_does_not_stop_the_bot(tmp_path, caplog):
    """Another writer holds the lock through the start and until the catch-up cycle has
    failed to write its heartbeat: the bot starts, says so, and the scheduler's next cycle
    writes once the lock is gone."""
    db_path = tmp_path / "hw.db"
    open_database(db_path).close()
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")

    class ReleaseAfterTheCatchUpCycle(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "heartbeat not written" in record.getMessage() and other.in_transaction:
                other.commit()

    config = Config().with_overrides(
        exchange={"name": "sim"}, storage={"path": str(db_path), "busy_timeout": "50ms"},
        schedule={"interval": "1s", "delay": "0.2s", "cascade_symbols": []})
    stop = asyncio.Event()
    release = ReleaseAfterTheCatchUpCycle()
    logging.getLogger("jobs.cycle").addHandler(release)
    reader = open_database(db_path, migrate=False)
    try:
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(serve(build_runtime(config, Secrets(),
                                                           entry_points=False), stop))
            for _ in range(150):  # until a scheduled cycle has written its heartbeat
                await asyncio.sleep(0.2)
                if task.done() or last_beat(reader, "cycle") is not None:
                    break
            stop.set()
            assert await asyncio.wait_for(task, 60) == 0
    finally:
        logging.getLogger("jobs.cycle").removeHandler(release)
        if other.in_transaction:
            other.commit()
        other.close()
    said = caplog.text
    assert "locked at start" in said and "database locked" in said
    assert "heartbeat not written" in said  # the catch-up cycle, logged, not fatal
    beat = last_beat(reader, "cycle")
    assert beat is not None and beat.status == "ok"  # a later cycle, after the lock went


# --- a read-only file or a full disk at start --------------------------------------------

def _can_unshare_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


def test_a_read_only_database_file_stops_the_start_with_one_line():
    """Not as root, a 0444 file in a 0555 folder, as the Docker image's user meets it. Root
    writes such a file anyway, so as root the folder is bind-mounted read-only instead, in a
    private mount namespace (the read-only volume of a container)."""
    folder = Path(tempfile.mkdtemp(prefix="hw-ro-"))
    db_path = folder / "hw.db"
    open_database(db_path).close()
    env = {"HEDGEWATCH_STORAGE_PATH": str(db_path), "HEDGEWATCH_EXCHANGE_NAME": "sim",
           "DIR": str(folder)}
    try:
        if os.geteuid() != 0:
            db_path.chmod(0o444)
            folder.chmod(0o555)
            r = run_bot("run", env=env)
        elif _can_unshare_mount():
            script = ('mount --bind "$DIR" "$DIR" && mount -o remount,bind,ro "$DIR" && '
                      'exec "$@"')
            r = run_bot("run", env=env, prefix=["unshare", "-m", "sh", "-c", script, "sh"])
        else:
            pytest.skip("as root a read-only file needs a read-only mount (unshare -m)")
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("error: cannot write the database") and "read-only" in lines[0]


@pytest.mark.skipif(not _can_unshare_mount(), reason="needs unshare -m and mount (root)")
def test_a_full_disk_at_start_is_one_line_and_exit_1(tmp_path):
    """A 2 MiB tmpfs in a private mount namespace, filled before the bot starts."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = ('mount -t tmpfs -o size=2m tmpfs "$DISK" && '
              '(head -c 4194304 /dev/zero > "$DISK/filler" 2>/dev/null; true) && exec "$@"')
    r = run_bot("run", prefix=["unshare", "-m", "sh", "-c", script, "sh"],
                env={"DISK": str(disk), "HEDGEWATCH_STORAGE_PATH": str(disk / "hw.db"),
                     "HEDGEWATCH_EXCHANGE_NAME": "sim"})
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "cannot write the database" in lines[0] and "full" in lines[0]


# --- a disk that fills at run time -------------------------------------------------------

class Tick(AlertRule):
    """One market-wide alert every cycle, so there is always something to keep."""

    name = "tick"
    kind = "regime"

    def evaluate(self, ctx):
        return [self.alert(ctx, f"tick:{ctx.now_ms}", "info", "tick", ["a test alert"],
                           "nothing", cooldown_ms=0)]


class TickPlugin:
    @staticmethod
    @hookimpl
    def hedgewatch_register_alert_rules():
        return [Tick()]


@pytest.fixture
def sim_market() -> SimMarket:
    return SimMarket(Config().exchange.model_copy(update={"name": "sim"}))


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MiB tmpfs mounted at tmp_path/disk for the test (root only)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    return filler


async def test_a_full_disk_at_run_time_keeps_alerts_in_memory_and_says_so(small_disk,
                                                                          sim_market):
    db_path = small_disk / "hw.db"
    config = Config().with_overrides(exchange={"name": "sim"},
                                     storage={"path": str(db_path)})
    db = open_database(db_path)
    ensure_chat(db, CHAT)
    set_subscriptions(db, CHAT, ["regime"])
    pm = PluginManager(entry_points=False)
    pm.register(TickPlugin(), name="tick")
    cycle = WatchCycle(build_runtime(config, plugins=pm), db=db, market=sim_market)
    services = Services(config, db, sim_market, commands={"status": Status()})

    async def status():
        return await Dispatcher([Status()]).handle("/status", CommandContext.local(services))

    first = await cycle.run()
    assert first.error is None and first.alerts == {"regime": 1}

    filler = fill(small_disk)
    full = [await cycle.run(), await cycle.run()]
    assert [s.held_alerts for s in full] == [1, 2]
    assert all("disk is full" in (s.storage_error or "") for s in full)
    fault = current_fault(db)
    assert fault is not None and fault.kind == FULL and fault.held_alerts == 2
    reply = await status()
    assert reply.data["status"] == "degraded"
    text = "\n".join(reply.text)
    assert "Storage: the disk is full" in text and "2 alerts kept in memory" in text
    health = run_bot("health", env={"HEDGEWATCH_STORAGE_PATH": str(db_path)})
    assert health.returncode == 1 and "full" in health.stderr, health.stderr

    filler.unlink()  # the operator makes room
    after = await cycle.run()
    assert after.error is None and after.held_alerts == 0
    assert after.alerts == {"regime": 3}  # the two held, then this cycle's
    assert db["alerts"].count == 4 and current_fault(db) is None
    pending = db.execute("select count(*) from deliveries where chat_id = ?",
                         [CHAT]).fetchone()[0]
    assert pending == 4  # every one of them on its way to the chat
    assert (await status()).data["status"] == "ok"
