"""``bot.py run`` in process: the catch-up cycle, both jobs on the scheduler, a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from jobs.service import serve
from runtime import build_runtime
from settings import Config
from settings.secrets import Secrets
from storage import open_database
from storage.heartbeat import last_beat
from tests.fakes.telegram_server import FakeTelegram


async def test_the_service_runs_both_jobs_and_stops_cleanly(tmp_path):
    db_path = tmp_path / "hw.db"
    config = Config().with_overrides(
        exchange={"name": "sim"}, storage={"path": str(db_path)},
        schedule={"interval": "1s", "delay": "0.2s", "cascade_interval": "0.5s"})
    rt = build_runtime(config, Secrets(), entry_points=False)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(rt, stop))
    try:  # until both jobs have beaten once (a loaded machine takes longer: no fixed sleep)
        for _ in range(600):
            await asyncio.sleep(0.1)
            assert not task.done(), task
            if db_path.exists():
                db = open_database(db_path, migrate=False)
                with contextlib.suppress(sqlite3.OperationalError):  # not migrated yet
                    if last_beat(db, "cycle") and last_beat(db, "cascade_watch"):
                        break
                db.close()
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 60) == 0
    db = open_database(db_path)
    cycle, watch = last_beat(db, "cycle"), last_beat(db, "cascade_watch")
    assert cycle is not None and cycle.status == "ok"
    assert watch is not None and watch.detail["symbols"] == 3


async def test_the_service_keeps_the_signal_board_pinned_in_the_channel(tmp_path) -> None:
    channel = -100333
    async with FakeTelegram() as tg:
        tg.chat(channel, "channel", title="signals")
        config = Config().with_overrides(
            exchange={"name": "sim"}, storage={"path": str(tmp_path / "hw.db")},
            schedule={"interval": "1h", "cascade_symbols": []},
            telegram={"api_url": tg.base_url, "signal_channel": channel,
                      "signal_board": True})
        rt = build_runtime(config, Secrets(telegram_token=tg.token), entry_points=False)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(rt, stop))
        try:
            for _ in range(600):  # until the catch-up cycle has posted the board
                await asyncio.sleep(0.1)
                assert not task.done(), task
                if channel in tg.pinned:
                    break
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 60) == 0
    (board,) = tg.sent_to(channel)
    assert tg.pinned[channel] == board.message_id
    assert board.visible_text.startswith("📊 Market state · SIMULATED")
