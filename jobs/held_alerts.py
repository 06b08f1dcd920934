"""Alerts a cycle could not write to the outbox (a full or read-only disk, a database locked
past every retry) are kept in memory, oldest first, and written before the next cycle's own,
so none is lost while the storage recovers; they are sent once written (the outbox rule:
nothing is sent that is not recorded). Bounded: past ``limit`` the oldest are dropped, loudly.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from sqlite_utils import Database

from plugins.alert_rules.base import Alert, RuleContext
from storage.writes import note_held

log = logging.getLogger(__name__)

Record = Callable[[RuleContext, list[Alert]], list[Alert]]


class HeldAlerts:
    """``held.record(ctx, alerts, write)``: write what is held, then ``alerts``; on a
    failure everything not yet written stays held and the error propagates."""

    def __init__(self, db: Database, limit: int = 1000) -> None:
        self.db = db
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
            note_held(self.db, len(self))
        return new

    def _trim(self) -> None:
        while len(self) > self.limit and len(self._queue) > 1:
            _, dropped = self._queue.popleft()
            log.error("outbox still cannot be written: %d held alert(s) dropped (%s)",
                      len(dropped), ", ".join(a.dedup_key for a in dropped)[:300])
