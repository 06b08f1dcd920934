"""Values that cross the boundary between the exchange layer and the engine.

Everything here is a frozen dataclass over numpy arrays. Inputs are normalised once, at the
boundary (``MarketSnapshot.build``), so the kernels in ``core/`` can assume float64 arrays on
one common time grid with NaN where a bar is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar, final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
"""Float64 array; NaN marks a value that is not available."""
IntArray = npt.NDArray[np.int64]
"""Int64 array, used for millisecond timestamps."""
BoolArray = npt.NDArray[np.bool_]

def as_floats(x: npt.ArrayLike) -> FloatArray:
    """Any number or array-like as a float64 array (the kernels' input normalisation)."""
    return np.asarray(x, dtype=np.float64)


def finite_or_none(x: object) -> float | None:
    """A JSON-safe number: the float, or None for NaN, ±inf, None and non-numbers."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


DEPTH_BANDS: tuple[float, ...] = (0.005, 0.01, 0.02)
"""Order-book depth is summarised as USDT notional within ±0.5 %, ±1 % and ±2 % of mid."""


@dataclass(frozen=True)
class Tier:
    """One maintenance-margin tier.

    ``min_size``/``max_size`` are in the unit the exchange tiers by: contracts on OKX, USDT
    notional on Binance (``unit`` says which). ``maintenance_amount`` is Binance's ``cum``
    (0 on OKX).
    """

    tier: int
    min_size: float
    max_size: float
    mmr: float
    max_leverage: float
    unit: str = "contracts"  # "contracts" | "notional"
    maintenance_amount: float = 0.0


@dataclass(frozen=True)
class Instrument:
    """What the engine needs to know about one perpetual swap."""

    symbol: str  # canonical id, e.g. "BTC-USDT-SWAP"
    base: str  # "BTC"
    quote: str = "USDT"
    contract_value: float = 1.0  # base units per contract (OKX BTC-USDT-SWAP: 0.01)
    tick_size: float = 0.0
    max_leverage: float = 100.0
    taker_fee: float = 0.0005
    maker_fee: float = 0.0002
    tiers: tuple[Tier, ...] = ()
    min_size: float = 0.0  # the smallest order in base units (0: the exchange didn't say)


@dataclass(frozen=True, eq=False)
@final
class StatSeries:
    """A short history of one statistic (funding rate, open interest, liquidation volume)."""

    times: IntArray  # ms, ascending
    values: FloatArray

    @staticmethod
    def empty() -> StatSeries:
        return StatSeries(np.zeros(0, np.int64), np.zeros(0, np.float64))

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def last(self) -> float:
        """The latest value, NaN when the series is empty."""
        return float(self.values[-1]) if len(self) else float("nan")


@dataclass(frozen=True, eq=False)
@final
class DepthSeries:
    """Order-book depth history: USDT notional on each side within each of ``DEPTH_BANDS``."""

    times: IntArray  # (K,)
    bid: FloatArray  # (K, len(DEPTH_BANDS))
    ask: FloatArray  # (K, len(DEPTH_BANDS))

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def total(self) -> FloatArray:
        """Bid plus ask depth, shape (K, bands)."""
        return self.bid + self.ask


_K = TypeVar("_K")
_V = TypeVar("_V")
_Series = TypeVar("_Series", StatSeries, DepthSeries)


def _frozen_map(m: Mapping[_K, _V] | None) -> Mapping[_K, _V]:
    return MappingProxyType(dict(m or {}))


@dataclass(frozen=True, eq=False)
class MarketSnapshot:
    """A market on one common time grid, as the engine sees it.

    Arrays are (T, N): T bars (open times in ``times``), N symbols. ``valid`` is False where a
    bar is missing: not delivered, or a zero-volume flat bar (an exchange outage). OHLC values
    of a missing bar are NaN, so nothing downstream can mistake them for a real price.
    """

    source: str
    timeframe_ms: int
    symbols: tuple[str, ...]
    times: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    valid: BoolArray
    server_time_ms: int
    simulated: bool = False
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    funding: Mapping[str, StatSeries] = field(default_factory=dict)
    open_interest: Mapping[str, StatSeries] = field(default_factory=dict)
    depth: Mapping[str, DepthSeries] = field(default_factory=dict)
    liquidations: Mapping[str, StatSeries] = field(default_factory=dict)  # USDT per window
    mark: Mapping[str, float] = field(default_factory=dict)  # latest mark price, if known
    missing: Mapping[str, str] = field(default_factory=dict)  # symbol -> why it has no data
    taker: Mapping[str, StatSeries] = field(default_factory=dict)  # taker sell share
    basis: Mapping[str, StatSeries] = field(default_factory=dict)  # last / mark − 1
    as_of: int | None = None  # when the sampled inputs are read (None: the last bar's close)
    # the exchange's mark-price bars' low and high, stamped at each bar's close (where known)
    mark_low: Mapping[str, StatSeries] = field(default_factory=dict)
    mark_high: Mapping[str, StatSeries] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        source: str,
        timeframe_ms: int,
        symbols: Sequence[str],
        times: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
        server_time_ms: int,
        valid: npt.ArrayLike | None = None,
        simulated: bool = False,
        instruments: Mapping[str, Instrument] | None = None,
        funding: Mapping[str, StatSeries] | None = None,
        open_interest: Mapping[str, StatSeries] | None = None,
        depth: Mapping[str, DepthSeries] | None = None,
        liquidations: Mapping[str, StatSeries] | None = None,
        mark: Mapping[str, float] | None = None,
        missing: Mapping[str, str] | None = None,
        taker: Mapping[str, StatSeries] | None = None,
        basis: Mapping[str, StatSeries] | None = None,
        as_of_ms: int | None = None,
        mark_low: Mapping[str, StatSeries] | None = None,
        mark_high: Mapping[str, StatSeries] | None = None,
    ) -> MarketSnapshot:
        """Normalise raw arrays into a snapshot.

        Shapes are checked, dtypes made float64/int64, and bars that are NaN, non-positive, or
        zero-volume flat (high == low) are marked missing and their prices set to NaN.
        """
        t = np.ascontiguousarray(times, dtype=np.int64)
        if t.ndim != 1:
            raise ValueError("times must be one-dimensional")
        if t.size > 1 and np.any(np.diff(t) <= 0):
            raise ValueError("times must be strictly increasing")
        n = len(symbols)
        arrays = []
        for name, a in (("open", open), ("high", high), ("low", low), ("close", close),
                        ("volume", volume)):
            arr = np.array(a, dtype=np.float64, copy=True)
            if arr.ndim == 1 and n == 1:
                arr = arr[:, None]
            if arr.shape != (t.size, n):
                raise ValueError(f"{name} has shape {arr.shape}, expected {(t.size, n)}")
            arrays.append(arr)
        o, h, lo, c, v = arrays
        ok = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
        ok &= (c > 0) & (o > 0) & (h > 0) & (lo > 0)
        outage = (np.nan_to_num(v, nan=0.0) <= 0) & (h == lo)
        ok &= ~outage
        if valid is not None:
            ok &= np.asarray(valid, dtype=bool)
        for arr in (o, h, lo, c):
            arr[~ok] = np.nan
        v[~ok] = np.nan
        return cls(
            source=source,
            timeframe_ms=int(timeframe_ms),
            symbols=tuple(symbols),
            times=t,
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            valid=ok,
            server_time_ms=int(server_time_ms),
            simulated=simulated,
            instruments=_frozen_map(instruments),
            funding=_frozen_map(funding),
            open_interest=_frozen_map(open_interest),
            depth=_frozen_map(depth),
            liquidations=_frozen_map(liquidations),
            mark=_frozen_map(mark),
            missing=_frozen_map(missing),
            taker=_frozen_map(taker),
            basis=_frozen_map(basis),
            as_of=None if as_of_ms is None else int(as_of_ms),
            mark_low=_frozen_map(mark_low),
            mark_high=_frozen_map(mark_high),
        )

    @property
    def as_of_ms(self) -> int:
        """The moment the sampled inputs (depth, open interest, liquidations, ...) are read
        at: the last bar's close for a cycle, the exchange's clock for the one-minute watch."""
        return self.as_of if self.as_of is not None else self.last_bar_close_ms

    @property
    def n_bars(self) -> int:
        return int(self.times.shape[0])

    @property
    def n_symbols(self) -> int:
        return len(self.symbols)

    def index(self, symbol: str) -> int:
        """Column of ``symbol``; raises KeyError with the known symbols."""
        try:
            return self.symbols.index(symbol)
        except ValueError:
            known = ", ".join(self.symbols)
            raise KeyError(f"{symbol} is not in this snapshot ({known})") from None

    @property
    def last_bar_close_ms(self) -> int:
        """When the latest bar closed (its open time plus one bar); 0 for an empty snapshot."""
        return int(self.times[-1]) + self.timeframe_ms if self.n_bars else 0

    @property
    def data_age_ms(self) -> int:
        """How old the latest closed bar is, judged against the exchange's clock."""
        return max(0, self.server_time_ms - self.last_bar_close_ms) if self.n_bars else -1

    def last_price(self, symbol: str) -> float:
        """Mark price when known, else the last valid close; NaN when there is none."""
        if symbol in self.mark and np.isfinite(self.mark[symbol]):
            return float(self.mark[symbol])
        col = self.close[:, self.index(symbol)]
        ok = np.flatnonzero(np.isfinite(col))
        return float(col[ok[-1]]) if ok.size else float("nan")

    def last_prices(self) -> FloatArray:
        """``last_price`` of every symbol in one pass over the closes (the engine asks for
        all of them every cycle)."""
        ok = np.isfinite(self.close)
        t_len, n_sym = ok.shape
        last = t_len - 1 - np.argmax(ok[::-1], axis=0) if t_len else np.zeros(n_sym, np.int64)
        prices = np.full(n_sym, np.nan)
        has = ok.any(axis=0)
        prices[has] = self.close[last[has], np.flatnonzero(has)]
        for j, s in enumerate(self.symbols):
            mark = self.mark.get(s)
            if mark is not None and np.isfinite(mark):
                prices[j] = float(mark)
        return prices

    def upto(self, t: int) -> MarketSnapshot:
        """The snapshot as it was at the close of bar index ``t`` (inclusive): no later data."""
        end = t + 1
        cut_ms = int(self.times[t]) + self.timeframe_ms

        def cut(series: Mapping[str, _Series]) -> dict[str, _Series]:
            out: dict[str, _Series] = {}
            for k, s in series.items():
                keep = s.times <= cut_ms
                if isinstance(s, DepthSeries):
                    out[k] = DepthSeries(s.times[keep], s.bid[keep], s.ask[keep])
                else:
                    out[k] = StatSeries(s.times[keep], s.values[keep])
            return out

        return MarketSnapshot(
            source=self.source,
            timeframe_ms=self.timeframe_ms,
            symbols=self.symbols,
            times=self.times[:end],
            open=self.open[:end],
            high=self.high[:end],
            low=self.low[:end],
            close=self.close[:end],
            volume=self.volume[:end],
            valid=self.valid[:end],
            server_time_ms=cut_ms,
            simulated=self.simulated,
            instruments=self.instruments,
            funding=_frozen_map(cut(self.funding)),
            open_interest=_frozen_map(cut(self.open_interest)),
            depth=_frozen_map(cut(self.depth)),
            liquidations=_frozen_map(cut(self.liquidations)),
            mark={},
            missing=self.missing,
            taker=_frozen_map(cut(self.taker)),
            basis=_frozen_map(cut(self.basis)),
            mark_low=_frozen_map(cut(self.mark_low)),
            mark_high=_frozen_map(cut(self.mark_high)),
        )


SIDES = ("long", "short")


@dataclass(frozen=True)
class Position:
    """A leveraged perpetual position, as a trader logs it or asks about it.

    ``size`` is in base units (0.5 BTC), always positive; ``side`` gives the direction.
    ``margin`` is the isolated margin; when omitted it is entry × size / leverage.
    ``liquidation_price``, when given, is used instead of computing one from the margin (a
    position synced from an exchange account, judged by that exchange's rules on the whole
    account).
    """

    symbol: str
    side: str
    size: float
    entry: float
    leverage: float
    margin_mode: str = "isolated"  # "isolated" | "cross"
    margin: float | None = None
    liquidation_price: float | None = None

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"side must be long or short, not {self.side!r}")
        if not (self.size > 0 and np.isfinite(self.size)):
            raise ValueError(f"size must be a positive number, not {self.size!r}")
        if not (self.entry > 0 and np.isfinite(self.entry)):
            raise ValueError(f"entry must be a positive price, not {self.entry!r}")
        if not (self.leverage > 0 and np.isfinite(self.leverage)):
            raise ValueError(f"leverage must be positive, not {self.leverage!r}")
        if self.margin_mode not in ("isolated", "cross"):
            raise ValueError(f"margin_mode must be isolated or cross, not {self.margin_mode!r}")

    @property
    def sign(self) -> int:
        """+1 for a long, −1 for a short."""
        return 1 if self.side == "long" else -1

    @property
    def notional(self) -> float:
        """Entry notional in quote currency (USDT)."""
        return self.size * self.entry

    @property
    def isolated_margin(self) -> float:
        """The isolated margin: given, or entry × size / leverage."""
        return self.margin if self.margin is not None else self.notional / self.leverage
