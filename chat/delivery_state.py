"""The alert sender's bookkeeping: what a drain did (``DrainReport``), one pass over the due
deliveries with its breaker (``DrainPass``), whether Telegram is down across drains
(``Outage``) and the backoff with jitter (``Backoff``). No I/O: the sender acts on them."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, fields


@dataclass
class DrainReport:
    """What one drain did; ``Sender.totals`` adds them up since start (for metrics)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0  # transient failures put back with a backoff (5xx, connection errors)
    flood_waits: int = 0  # 429s waited out for their retry_after
    unanswered: int = 0  # attempts that went out without an answer (read timeouts)
    unconfirmed: int = 0  # deliveries that may have arrived but were never confirmed
    expired: int = 0
    folded: int = 0
    deferred: int = 0  # left for a later drain without an attempt (chat or Telegram waiting)
    blocked: int = 0
    migrated: int = 0
    recovered: int = 0
    next_due_ms: int | None = None  # when to drain again (None: nothing pending)
    errors: list[str] = field(default_factory=list)

    def add(self, other: DrainReport) -> None:
        """Add ``other``'s counts to these (``next_due_ms`` becomes ``other``'s)."""
        for f in fields(self):
            if f.type == "int":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.next_due_ms = other.next_due_ms


@dataclass
class DrainPass:
    """One pass over the due deliveries: failures in a row, and whether to stop trying.

    ``breaker`` failures in a row (5xx, connection errors, timeouts; not 429s) say Telegram is
    down: the pass's other deliveries wait for its soonest retry. ``probe``: the last drain
    found it down, so one chat goes first and the others wait for its outcome — one failure
    and they are deferred without a call of their own."""

    breaker: int
    probe: bool = False
    in_a_row: int = 0
    retry_at: int | None = None  # the soonest retry given out in this pass
    first: asyncio.Event = field(default_factory=asyncio.Event)  # the probe's outcome is in

    @property
    def telegram_down(self) -> bool:
        return self.retry_at is not None and self.in_a_row >= (1 if self.probe
                                                               else self.breaker)

    def failed(self, retry_at: int) -> None:
        self.in_a_row += 1
        self.retry_at = retry_at if self.retry_at is None else min(self.retry_at, retry_at)
        self.first.set()

    def answered(self, *, ok: bool) -> None:
        """Telegram answered (sent, or refused the message itself): it is up."""
        if ok:
            self.in_a_row = 0
        self.first.set()

    def order(self, chats: list[int | str]) -> list[int | str]:
        """The chats in urgency order; a probe goes through a private chat when there is one
        (a group's 20 messages a minute are too precious to spend on probing)."""
        if not self.probe:
            return chats
        return sorted(chats, key=lambda c: not (isinstance(c, int) and c > 0))


@dataclass
class Outage:
    """Telegram seen down by consecutive drains; ``drains`` grows the probes' backoff, so a
    new alert in a long outage waits like the probes instead of from 1 s again."""

    down: bool = False
    drains: int = 0

    def after_pass(self, sent: int, one_pass: DrainPass) -> str | None:
        """"back" when a send went through after an outage, "down" when this pass found
        Telegram down, else None."""
        if sent:
            was_down = self.down
            self.down, self.drains = False, 0
            return "back" if was_down else None
        if one_pass.telegram_down:
            self.down = True
            self.drains += 1
            return "down"
        return None


class Backoff:
    """Exponential backoff with jitter: ``base · 2^(attempt-1)`` capped at ``cap``, times
    0.5–1, so a thousand chats that failed together do not come back together."""

    def __init__(self, base_s: float, cap_s: float, seed: int | None = None) -> None:
        self.base_s, self.cap_s = base_s, cap_s
        self._rng = random.Random(seed)

    def ms(self, attempt: int) -> int:
        delay = min(self.base_s * 2.0 ** min(max(attempt, 1) - 1, 30), self.cap_s)
        return round(delay * self._rng.uniform(0.5, 1.0) * 1000)
