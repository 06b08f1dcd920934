"""The scheduler: aligned to the bar close, never two runs at once, overruns logged, stop waits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from jobs.scheduler import Jobs, aligned_trigger, misfire_grace


def test_cycle_is_aligned_to_the_bar_close_plus_delay():
    trigger = aligned_trigger(900, 5)
    now = datetime(2026, 11, 25, 7, 31, 12, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, now)
    assert (fire.minute, fire.second) == (45, 5)
    fire2 = trigger.get_next_fire_time(fire, fire)
    assert (fire2 - fire).total_seconds() == 900
    assert misfire_grace(900) == 450 and misfire_grace(1) == 1


async def test_runs_repeatedly_and_never_overlaps(caplog):
    jobs = Jobs()
    active, peak, runs = 0, 0, 0

    async def slow():
        nonlocal active, peak, runs
        active += 1
        runs += 1
        peak = max(peak, active)
        await asyncio.sleep(1.6)
        active -= 1

    jobs.add("cycle", slow, interval_s=0.5, aligned=False)
    jobs.start()
    await asyncio.sleep(4.0)
    await jobs.stop()
    assert peak == 1 and runs >= 2
    assert jobs.overruns["cycle"] >= 1
    assert "overran" in caplog.text


async def test_stop_lets_the_running_job_finish():
    jobs = Jobs()
    finished = asyncio.Event()

    async def work():
        await asyncio.sleep(0.5)
        finished.set()

    jobs.add("cycle", work, interval_s=0.2, aligned=False)
    jobs.start()
    while "cycle" not in jobs.running:
        await asyncio.sleep(0.02)
    await jobs.stop(timeout_s=5)
    assert finished.is_set()
    assert not jobs.scheduler.running


async def test_a_failing_run_is_logged_and_the_next_still_comes(caplog):
    jobs = Jobs()
    calls = 0

    async def flaky():
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("exchange down")

    jobs.add("cycle", flaky, interval_s=0.3, aligned=False)
    jobs.start()
    await asyncio.sleep(1.2)
    await jobs.stop()
    assert calls >= 2 and "exchange down" in caplog.text


async def test_a_one_off_run_comes_at_its_time_and_a_new_time_replaces_it():
    import time

    jobs = Jobs()
    runs: list[float] = []

    async def drain():
        runs.append(time.monotonic())

    jobs.start()
    t0 = time.monotonic()
    jobs.once("delivery_retry", drain, time.time() + 30)
    jobs.once("delivery_retry", drain, time.time() + 0.3)  # replaces the first
    jobs.once("other", drain, time.time() - 5)  # already past: runs now
    await asyncio.sleep(1.0)
    await jobs.stop()
    assert len(runs) == 2 and all(r - t0 < 30 for r in runs)
