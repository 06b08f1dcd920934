"""``bot.py run`` in process: the catch-up cycle, both jobs on the scheduler, a clean stop."""

from __future__ import annotations

import asyncio

from jobs.service import serve
from runtime import build_runtime
from settings import Config
from settings.secrets import Secrets
from storage import open_database
from storage.heartbeat import last_beat


async def test_the_service_runs_both_jobs_and_stops_cleanly(tmp_path):
    db_path = tmp_path / "hw.db"
    config = Config().with_overrides(
        exchange={"name": "sim"}, storage={"path": str(db_path)},
        schedule={"interval": "1s", "delay": "0.2s", "cascade_interval": "0.5s"})
    rt = build_runtime(config, Secrets(), entry_points=False)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(rt, stop))
    await asyncio.sleep(4)
    stop.set()
    assert await asyncio.wait_for(task, 60) == 0
    db = open_database(db_path)
    cycle, watch = last_beat(db, "cycle"), last_beat(db, "cascade_watch")
    assert cycle is not None and cycle.status == "ok"
    assert watch is not None and watch.detail["symbols"] == 3
