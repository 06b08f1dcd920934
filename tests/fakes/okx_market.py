"""The deterministic market behind the fake OKX server: instruments, a price path, books.

Prices follow a seeded random walk per symbol on a fixed bar grid, so any bar can be asked
for at any time and always reads the same; ``selloff`` bends the path down from a given time
(a cascade for the liquidation tests). ``record`` serves real bars instead (the replay test).
The flow data (liquidation orders, taker volume, open interest, mark prices) follows the
path and its sell-offs: a sell-off liquidates longs, makes takers sell, drains open interest
and pushes trades under the mark price. Nothing here does I/O.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

REAL_BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "LINK", "LTC", "AVAX", "ADA", "DOT",
              "TRX", "BCH", "UNI", "ATOM", "FIL", "APT", "ARB", "OP", "NEAR", "SUI")
START_PRICES = {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0, "XRP": 0.6, "DOGE": 0.15}
CONTRACT_VALUES = {"BTC": 0.01, "ETH": 0.1, "SOL": 1.0, "XRP": 100.0, "DOGE": 1000.0}


def default_bases(n: int) -> list[str]:
    """``n`` base assets: real names first, then made-up ones (C021, C022, ...)."""
    out = list(REAL_BASES[:n])
    out += [f"C{i:03d}" for i in range(len(out) + 1, n + 1)]
    return out


@dataclass
class Selloff:
    start_ms: int
    drop: float  # total fall, a fraction (0.2 = −20 %)
    duration_ms: int


@dataclass
class PricePath:
    """Closes on a regular grid of ``step_ms`` bars starting at ``origin_ms``; grows lazily."""

    base_price: float
    seed: int
    origin_ms: int
    step_ms: int
    vol: float = 0.004
    selloffs: list[Selloff] = field(default_factory=list)
    _log: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def _ensure(self, n: int) -> None:
        if self._log.size >= n:
            return
        size = max(n, self._log.size * 2, 4096)
        rng = np.random.default_rng(self.seed)
        steps = rng.normal(0.0, self.vol, size)  # same seed → same prefix, so growing is stable
        steps[0] = 0.0
        self._log = math.log(self.base_price) + np.cumsum(steps)

    def index(self, t_ms: int) -> int:
        return (t_ms - self.origin_ms) // self.step_ms

    def close_at(self, i: np.ndarray) -> np.ndarray:
        i = np.asarray(i, dtype=np.int64)
        self._ensure(int(i.max()) + 1 if i.size else 1)
        price = np.exp(self._log[np.maximum(i, 0)])
        t = self.origin_ms + i * self.step_ms
        for s in self.selloffs:
            frac = np.clip((t + self.step_ms - s.start_ms) / s.duration_ms, 0.0, 1.0)
            price = price * (1.0 - s.drop * frac)
        return price

    def bars(self, times: np.ndarray) -> np.ndarray:
        """(n, 5) open, high, low, close, base volume for bars opening at ``times``."""
        i = self.index(np.asarray(times, dtype=np.int64))
        close = self.close_at(i)
        open_ = self.close_at(i - 1)
        wiggle = 1.0 + 0.5 * self.vol * (1.0 + np.sin(i * 1.7) ** 2)
        high = np.maximum(open_, close) * wiggle
        low = np.minimum(open_, close) / wiggle
        volume = 1000.0 / close * (1.0 + 0.5 * np.abs(np.sin(i * 0.37)))
        return np.column_stack([open_, high, low, close, volume])


@dataclass
class RecordedPath:
    """Real bars served as they were (``FakeMarket.record``); same interface as PricePath."""

    times: np.ndarray  # bar open times, ascending, on the step grid
    ohlcv: np.ndarray  # (n, 5)
    origin_ms: int
    step_ms: int
    selloffs: list[Selloff] = field(default_factory=list)

    def index(self, t_ms: int) -> int:
        return (t_ms - self.origin_ms) // self.step_ms

    def _rows(self, i: np.ndarray) -> np.ndarray:
        t = self.origin_ms + np.asarray(i, dtype=np.int64) * self.step_ms
        k = np.clip(np.searchsorted(self.times, t), 0, len(self.times) - 1)
        return self.ohlcv[k]

    def close_at(self, i: np.ndarray) -> np.ndarray:
        return self._rows(i)[..., 3]

    def bars(self, times: np.ndarray) -> np.ndarray:
        return self._rows(self.index(np.asarray(times, dtype=np.int64)))


def _seed(base: str, seed: int) -> int:
    return zlib.crc32(f"{seed}:{base}".encode())


class FakeMarket:
    """Instruments and their deterministic data; ``now_ms`` is set by the server's clock."""

    def __init__(self, bases: list[str], *, now_ms: int, step_ms: int = 900_000, seed: int = 7,
                 history_days: int = 120) -> None:
        self.step_ms = step_ms
        self.origin_ms = (now_ms - history_days * 86_400_000) // step_ms * step_ms
        self.bases = list(bases)
        self.paths: dict[str, PricePath | RecordedPath] = {
            b: PricePath(START_PRICES.get(b, 10.0 + (_seed(b, seed) % 5000) / 10.0),
                         _seed(b, seed), self.origin_ms, step_ms)
            for b in self.bases
        }
        self.depth_scale: dict[str, float] = {}
        self.liq_scale: dict[str, float] = {}
        self.gaps: dict[str, set[int]] = {}
        self.digits = 8  # significant digits of prices and volumes in answers

    def record(self, base: str, times: np.ndarray, ohlcv: np.ndarray) -> None:
        """Serve these real bars for ``base`` (open times on the step grid, (n, 5) OHLCV);
        the history starts at the earliest recorded bar."""
        self.origin_ms = min(self.origin_ms, int(times[0]))
        for path in self.paths.values():
            if isinstance(path, RecordedPath):
                path.origin_ms = self.origin_ms
        self.paths[base] = RecordedPath(np.asarray(times, np.int64), np.asarray(ohlcv, float),
                                        self.origin_ms, self.step_ms)
        if base not in self.bases:
            self.bases.append(base)

    # --- flow: what a sell-off does besides the price --------------------------------------

    def selling(self, base: str, t_ms: int) -> float:
        """Share of ``base``'s sell-offs' drop per minute at ``t_ms`` (0 when calm)."""
        return sum(s.drop * 60_000 / s.duration_ms for s in self.paths[base].selloffs
                   if s.start_ms <= t_ms < s.start_ms + s.duration_ms)

    def sold(self, base: str, t_ms: int) -> float:
        """How much of its sell-offs' drop has happened by ``t_ms``."""
        return sum(s.drop * min(1.0, max(0.0, (t_ms - s.start_ms) / s.duration_ms))
                   for s in self.paths[base].selloffs)

    def liquidated_usdt(self, base: str, minute_ms: int) -> float:
        """Longs liquidated in one minute: a trickle, and a flood while it sells off."""
        calm = 3_000.0 * (1 + zlib.crc32(f"{base}{minute_ms}".encode()) % 5)
        return self.liq_scale.get(base, 1.0) * (calm + 5e8 * self.selling(base, minute_ms))

    def open_interest_usdt(self, base: str, t_ms: int) -> float:
        """Open interest: steady, drained by half the share a sell-off has taken."""
        steady = 5_000_000.0 * (1 + 0.1 * (zlib.crc32(base.encode()) % 7))
        return steady * (1.0 - 0.5 * self.sold(base, t_ms))

    def taker_usdt(self, base: str, bucket_ms: int, now_ms: int) -> tuple[float, float]:
        """(sell, buy) taker USDT in a 5-minute bucket (the open one only partly traded)."""
        done = min(1.0, max(0.0, (now_ms - bucket_ms) / 300_000))
        share = 0.5 + 0.02 * math.sin(bucket_ms / 300_000) + (
            0.25 if self.selling(base, bucket_ms) > 0 else 0.0)
        total = 2e6 * done
        return total * share, total * (1 - share)

    def mark_basis(self, base: str, t_ms: int) -> float:
        """mark / last − 1: a hair above calm, 0.3 % above while forced selling hits trades."""
        return 1e-4 + (3e-3 if self.selling(base, t_ms) > 0 else 0.0)

    @staticmethod
    def inst_id(base: str) -> str:
        return f"{base}-USDT-SWAP"

    def base_of(self, inst_id: str) -> str | None:
        base = inst_id.split("-")[0]
        return base if base in self.paths and inst_id == self.inst_id(base) else None

    def contract_value(self, base: str) -> float:
        return CONTRACT_VALUES.get(base, 1.0)

    def selloff(self, base: str | None, start_ms: int, drop: float, duration_ms: int) -> None:
        """Bend the price of ``base`` (every symbol when None) down by ``drop`` from start_ms."""
        for b in [base] if base else self.bases:
            self.paths[b].selloffs.append(Selloff(start_ms, drop, duration_ms))

    def price(self, base: str, now_ms: int) -> float:
        path = self.paths[base]
        return float(path.close_at(np.array([path.index(now_ms)]))[0])

    def candle_times(self, base: str, bar_ms: int, now_ms: int, after: int | None,
                     before: int | None, limit: int, max_age_bars: int | None) -> np.ndarray:
        """Open times (newest first) of the bars a candles request returns."""
        newest = now_ms // bar_ms * bar_ms
        oldest = max(self.origin_ms, newest - (max_age_bars - 1) * bar_ms
                     if max_age_bars else self.origin_ms)
        hi = newest if after is None else min(newest, (after - 1) // bar_ms * bar_ms)
        lo = oldest if before is None else max(oldest, (before // bar_ms + 1) * bar_ms)
        if hi < lo:
            return np.zeros(0, np.int64)
        # newest ``limit`` bars inside the range, as OKX does (also for "before" alone)
        times = np.arange(max(lo, hi - (limit - 1) * bar_ms), hi + 1, bar_ms)[::-1]
        gaps = self.gaps.get(base)
        if gaps:
            times = np.array([t for t in times if int(t) not in gaps], dtype=np.int64)
        return times.astype(np.int64)

    def candles(self, base: str, bar_ms: int, times: np.ndarray, now_ms: int) -> list[list[str]]:
        path = self.paths[base]
        k = bar_ms // path.step_ms
        times = np.asarray(times, dtype=np.int64)
        if not times.size:
            return []
        sub = (times[:, None] + np.arange(k) * path.step_ms).ravel()
        b = path.bars(sub).reshape(times.size, k, 5)
        # sub-bars after "now" do not exist yet: the open bar is built from what has traded
        live = (sub <= now_ms).reshape(times.size, k)
        live[:, 0] = True
        last = live.sum(axis=1) - 1
        rows_i = np.arange(times.size)
        o = b[:, 0, 0]
        h = np.where(live, b[:, :, 1], -np.inf).max(axis=1)
        lo = np.where(live, b[:, :, 2], np.inf).min(axis=1)
        c = b[rows_i, last, 3]
        v = np.where(live, b[:, :, 4], 0.0).sum(axis=1)
        ct = self.contract_value(base)
        confirm = np.where(times + bar_ms <= now_ms, "1", "0")
        g = f".{self.digits}g"
        return [[str(int(t)), f"{o_:{g}}", f"{h_:{g}}", f"{l_:{g}}", f"{c_:{g}}",
                 f"{v_ / ct:{g}}", f"{v_:{g}}", f"{v_ * c_:{g}}", cf]
                for t, o_, h_, l_, c_, v_, cf in zip(times, o, h, lo, c, v, confirm,
                                                     strict=True)]

    def book(self, base: str, now_ms: int, levels: int) -> dict:
        mid = self.price(base, now_ms)
        ct = self.contract_value(base)
        scale = self.depth_scale.get(base, 1.0)
        k = np.arange(levels)
        usdt = 20_000.0 * scale * (1 + (k % 7) / 3)
        sz = np.maximum(1, np.round(usdt / (mid * ct))).astype(int)
        off = mid * 0.0005 * (k + 0.5)
        n = [str(1 + i % 5) for i in range(levels)]
        asks = [[f"{p:.8g}", str(q), "0", c] for p, q, c in zip(mid + off, sz, n, strict=True)]
        bids = [[f"{p:.8g}", str(q), "0", c] for p, q, c in zip(mid - off, sz, n, strict=True)]
        return {"asks": asks, "bids": bids, "ts": str(now_ms), "seqId": 1}
