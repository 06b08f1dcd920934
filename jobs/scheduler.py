"""APScheduler on the bot's own event loop: the cycle aligned to the bar close, the cascade
watch on its own interval, never two runs of one job at once, overruns logged.

One loop only: ``AsyncIOScheduler`` runs the jobs as tasks on the loop PTB and ccxt use, so
nothing crosses threads (the heavy numpy work goes to an executor inside the cycle).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)  # a Wednesday 00:00 UTC: every bar boundary


def aligned_trigger(interval_s: float, delay_s: float) -> IntervalTrigger:
    """Every ``interval_s`` at bar boundaries (multiples of the interval since midnight UTC)
    plus ``delay_s``: :00:05, :15:05, ... for 15 minutes and 5 seconds."""
    return IntervalTrigger(seconds=interval_s, start_date=EPOCH + timedelta(seconds=delay_s),
                           timezone=UTC)


def misfire_grace(interval_s: float) -> int:
    """A run that starts late still runs if within half an interval (APScheduler's default
    of 1 s would silently skip a 15-minute cycle after a short stall)."""
    return max(1, int(interval_s / 2))


class Jobs:
    """The scheduled jobs of one process, keyed by name so re-scheduling is idempotent."""

    def __init__(self, *, quiet_skips: bool = False) -> None:
        self.quiet_skips = quiet_skips  # the demo runs back to back: skips are expected
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.running: dict[str, asyncio.Task] = {}
        self.overruns: dict[str, int] = {}
        self.scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    def _skipped(self, event: JobExecutionEvent) -> None:
        what = "still running" if event.code == EVENT_JOB_MAX_INSTANCES else "missed its time"
        log.log(logging.DEBUG if self.quiet_skips else logging.WARNING,
                "job %s skipped a run: previous run %s", event.job_id, what)

    def add(self, name: str, func: Callable[[], Awaitable[object]], interval_s: float,
            delay_s: float = 0.0, aligned: bool = True) -> None:
        trigger = aligned_trigger(interval_s, delay_s) if aligned else IntervalTrigger(
            seconds=interval_s, timezone=UTC)
        self.scheduler.add_job(self._guarded(name, func, interval_s), trigger, id=name,
                               name=name, replace_existing=True, max_instances=1,
                               coalesce=True, misfire_grace_time=misfire_grace(interval_s))

    def once(self, name: str, func: Callable[[], Awaitable[object]], at_s: float) -> None:
        """Run ``func`` once at ``at_s`` (Unix seconds), replacing a pending run of the same
        name; a time already past runs now."""
        at = datetime.fromtimestamp(at_s, UTC)
        self.scheduler.add_job(self._guarded(name, func, None), DateTrigger(at, UTC), id=name,
                               name=name, replace_existing=True, misfire_grace_time=None)

    def _guarded(self, name: str, func: Callable[[], Awaitable[object]],
                 interval_s: float | None) -> Callable[[], Awaitable[None]]:
        """``func`` as a job: its task tracked for ``stop``, failures and overruns logged."""

        async def run() -> None:
            started = time.monotonic()
            task = asyncio.current_task()
            if task is not None:
                self.running[name] = task
            try:
                await func()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failing run is logged; the next one still comes
                log.exception("job %s failed", name)
            finally:
                self.running.pop(name, None)
                took = time.monotonic() - started
                if interval_s is not None and took > interval_s:
                    self.overruns[name] = self.overruns.get(name, 0) + 1
                    log.log(logging.DEBUG if self.quiet_skips else logging.WARNING,
                            "job %s overran: took %.1f s for a %.1f s interval", name, took,
                            interval_s)

        return run

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, timeout_s: float = 30.0) -> None:
        """No new runs; let the ones in progress finish (up to ``timeout_s``), then stop.

        Pausing comes first: shutting the scheduler down would cancel the running job's task
        in the middle of its database write.
        """
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        tasks = list(self.running.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout_s)
            for _task in pending:
                log.warning("a job is still running after %.0f s: cancelling it", timeout_s)
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the asyncio scheduler applies shutdown on the next loop turn
