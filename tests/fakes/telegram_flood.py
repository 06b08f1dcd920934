"""Telegram's flood limits as the fake Telegram server enforces them (``FloodControl``)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class FloodControl:
    """Telegram's flood limits. Shrink the windows to make tests fast.

    Overall ``global_limit`` per ``global_window`` s; per group/channel (negative id)
    ``group_limit`` per ``group_window`` s; per private chat a token bucket of ``private_rate``/s
    holding up to ``private_burst``. An excess answers 429 with ``retry_after`` in whole seconds.
    """

    enabled: bool = True
    global_limit: int = 30
    global_window: float = 1.0
    group_limit: int = 20
    group_window: float = 60.0
    private_rate: float = 1.0
    private_burst: int = 3
    _global: deque = field(default_factory=deque, repr=False)
    _groups: dict = field(default_factory=dict, repr=False)
    _private: dict = field(default_factory=dict, repr=False)

    def wait_needed(self, chat_id: int, now: float) -> float:
        """Seconds until ``chat_id`` may receive another message (0 when it may now)."""
        if not self.enabled:
            return 0.0
        waits = [_window_wait(self._global, self.global_limit, self.global_window, now)]
        if chat_id < 0:
            hist = self._groups.setdefault(chat_id, deque())
            waits.append(_window_wait(hist, self.group_limit, self.group_window, now))
        else:
            tokens, last = self._private.get(chat_id, (float(self.private_burst), now))
            tokens = min(float(self.private_burst), tokens + (now - last) * self.private_rate)
            self._private[chat_id] = (tokens, now)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / self.private_rate)
        return max(waits)

    def record(self, chat_id: int, now: float) -> None:
        if not self.enabled:
            return
        self._global.append(now)
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)
        else:
            tokens, _ = self._private.get(chat_id, (float(self.private_burst), now))
            self._private[chat_id] = (tokens - 1.0, now)

    def reset(self) -> None:
        self._global.clear()
        self._groups.clear()
        self._private.clear()


def _window_wait(hist: deque, limit: int, window: float, now: float) -> float:
    while hist and hist[0] <= now - window:
        hist.popleft()
    return hist[0] + window - now if len(hist) >= limit else 0.0
