"""Alerts a cycle could not write to the outbox (a full or read-only disk, a database locked
past every retry) are kept in memory, oldest first, and written before the next cycle's own,
so none is lost while the storage recovers; they are sent once written (the outbox rule:
nothing is sent that is not recorded). Bounded: past ``limit`` the oldest are dropped, loudly.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from sqlite_utils import Database

from plugins.alert_rules.base import Alert, RuleContext
from storage.writes import note_held

log = logging.getLogger(__name__)

Record = Callable[[RuleContext, list[Alert]], list[Alert]]


class HeldAlerts:
    """``held.record(ctx, alerts, write)``: write what is held, then ``alerts``; on a
    failure everything not yet written stays held and the error propagates."""

    def __init__(self, db: Database, name: str = "cycle", limit: int = 1000) -> None:
        self.db, self.name = db, name
        self.limit = limit
        self._queue: deque[tuple[RuleContext, list[Alert]]] = deque()

    def __len__(self) -> int:
        return sum(len(alerts) for _, alerts in self._queue)

    def record(self, ctx: RuleContext, alerts: list[Alert], write: Record) -> list[Alert]:
        self._queue.append((ctx, alerts))  # even with no alerts: the rules' memory
        new: list[Alert] = []
        try:
            while self._queue:
                held_ctx, held = self._queue[0]
                new += write(held_ctx, held)
                self._queue.popleft()
        finally:
            self._trim()
            note_held(self.db, self.name, len(self))
        return new

    def _trim(self) -> None:
        """Keep what writing needs, no more: a held cycle's context without its engine
        result, and of the cycles that raised nothing only the newest (its rules' memory
        supersedes theirs)."""
        last = len(self._queue) - 1
        self._queue = deque(
            (replace(ctx, result=None, trades=(), decisions={}), alerts)
            for i, (ctx, alerts) in enumerate(self._queue) if alerts or i == last)
        while len(self) > self.limit and len(self._queue) > 1:
            _, dropped = self._queue.popleft()
            log.error("outbox still cannot be written: %d held alert(s) dropped (%s)",
                      len(dropped), ", ".join(a.dedup_key for a in dropped)[:300])
