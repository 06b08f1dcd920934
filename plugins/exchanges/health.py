"""Request latency, successes, retries and errors of one market source, overall and per
endpoint, for ``/status`` and ``/metrics``.

The metrics server reads ``report()`` from its own thread while the event loop records
requests, so ``report`` works on copies taken in single C-level calls (``deque.copy``,
``dict(...)``), which the GIL does not interrupt.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np

from plugins.exchanges.source import EndpointHealth, SourceHealth


class _Endpoint:
    """One endpoint's counters and recent latencies."""

    def __init__(self, window: int) -> None:
        self.requests = 0
        self.errors = 0
        self.latency_sum_s = 0.0
        self.latency: deque[float] = deque(maxlen=window)

    def add(self, latency_s: float, failed: bool) -> None:
        self.latency.append(latency_s)
        self.latency_sum_s += latency_s
        self.errors += int(failed)
        self.requests += 1

    def report(self) -> EndpointHealth:
        lat = np.asarray(self.latency.copy(), dtype=np.float64)
        if not lat.size:
            return EndpointHealth(self.requests, self.errors, self.latency_sum_s)
        return EndpointHealth(self.requests, self.errors, self.latency_sum_s,
                              float(np.percentile(lat, 50)), float(np.percentile(lat, 95)))


class HealthTracker:
    """Collects what ``MarketSource.health()`` reports; cheap enough to call on every request."""

    def __init__(self, name: str, *, window: int = 2000,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self._window = window
        self._latency: deque[float] = deque(maxlen=window)
        self._endpoints: dict[str, _Endpoint] = {}
        self._clock = clock
        self.requests = 0
        self.retries = 0
        self.errors = 0
        self.last_success_ms: int | None = None
        self.last_error: str | None = None
        self.server_time_ms: int | None = None
        self._server_seen_at = 0.0
        self.last_bar_close_ms: dict[str, int] = {}

    def _endpoint(self, name: str) -> _Endpoint:
        if name not in self._endpoints:
            self._endpoints[name] = _Endpoint(max(1, self._window // 8))
        return self._endpoints[name]

    def success(self, latency_s: float, endpoint: str | None = None) -> None:
        self.requests += 1
        self._latency.append(latency_s)
        if endpoint is not None:
            self._endpoint(endpoint).add(latency_s, False)
        self.last_success_ms = int(self._clock() * 1000)

    def failure(self, latency_s: float, reason: str, endpoint: str | None = None) -> None:
        self.requests += 1
        self._latency.append(latency_s)
        if endpoint is not None:
            self._endpoint(endpoint).add(latency_s, True)
        self.errors += 1
        self.last_error = reason

    def retry(self) -> None:
        self.retries += 1

    def server_time(self, ms: int) -> None:
        """Record the exchange's clock; ages are judged against it, advanced by our elapsed time."""
        self.server_time_ms = ms
        self._server_seen_at = self._clock()

    def bar_closed(self, symbol: str, close_ms: int) -> None:
        """The latest stored closed bar of ``symbol`` closed at ``close_ms``."""
        self.last_bar_close_ms[symbol] = close_ms

    def report(self) -> SourceHealth:
        """Latency percentiles (ms) and data age per symbol against the exchange's clock."""
        latency = self._latency.copy()
        lat = np.asarray(latency, dtype=np.float64) * 1000 if latency else None
        ref = (None if self.server_time_ms is None else
               self.server_time_ms + int((self._clock() - self._server_seen_at) * 1000))
        closes = dict(self.last_bar_close_ms)
        ages = {s: max(0, ref - t) for s, t in closes.items()} if ref is not None else {}
        return SourceHealth(
            name=self.name,
            latency_p50_ms=float(np.percentile(lat, 50)) if lat is not None else None,
            latency_p95_ms=float(np.percentile(lat, 95)) if lat is not None else None,
            last_success_ms=self.last_success_ms,
            requests=self.requests,
            retries=self.retries,
            errors=self.errors,
            data_age_ms=ages,
            last_error=self.last_error,
            endpoints={k: e.report() for k, e in dict(self._endpoints).items()},
        )
