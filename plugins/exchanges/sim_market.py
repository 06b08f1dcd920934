"""The simulated market: the embedded default behind ``make demo`` and a realistic test bed.

Deterministic from ``[exchange] seed``. ``sim_days`` of history end at the sim clock, and
``future_days`` more are generated for the clock to advance through (``advance()``, one bar per
call), so the scheduled pipeline can run days in seconds. Two stress episodes are always
scheduled: one ending about a week before the clock (so history holds a cascade) and one whose
cascade starts 18 hours after the clock (so the demo sees one live). The Markov chain in
``sim_model`` adds others at random. Everything built from it is labelled SIMULATED.

Symbols: the first ``n_symbols`` of a dozen majors (then synthetic ``SYN001``… up to 300) plus
the counterweight ``VOLX`` (a synthetic volatility index that gains in cascades), all as
``<BASE>-USDT-SWAP`` with OKX-like contract values and tier ladders (sizes in contracts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from core.types import DepthSeries, Instrument, MarketSnapshot, StatSeries, Tier
from plugins.exchanges import sim_model
from plugins.exchanges.errors import MarketError, UnknownSymbol
from plugins.exchanges.source import Candles, DepthSummary, FundingInfo, MarketSource
from plugins.exchanges.symbols import SymbolResolver
from settings.config import ExchangeConfig
from settings.durations import Duration
from settings.secrets import Secrets

DEFAULT_CLOCK_MS = 1_772_323_200_000  # 2026-03-01 00:00 UTC: the sim clock at start
DAY_MS = 86_400_000
SIM_TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")
MIN_CONTRACTS = 0.01  # the smallest order, as on OKX's BTC and ETH swaps
# OKX-like ladder, for BTC-sized books (scaled down by open interest for smaller ones).
TIER_NOTIONAL = (0.0, 1e6, 5e6, 2e7, 4e7, 1e8, 2e8, math.inf)
TIER_MMR = (0.004, 0.005, 0.0075, 0.0125, 0.02, 0.03, 0.05)


def sim_tiers(spec: sim_model.AssetSpec) -> tuple[Tier, ...]:
    """Tiers in contracts: BTC's ladder scaled by open interest; small books pay double mmr."""
    scale = min(1.0, max(0.02, spec.oi_usd / 9e9))
    mmr_mult = 1.0 if spec.oi_usd >= 1e9 else 2.0
    per_contract = spec.price * spec.contract_value
    out = []
    for i, mmr in enumerate(TIER_MMR):
        lo = TIER_NOTIONAL[i] * scale / per_contract
        hi = TIER_NOTIONAL[i + 1] * scale / per_contract
        m = mmr * mmr_mult
        out.append(Tier(tier=i + 1, min_size=round(lo, 2), max_size=round(hi, 2) if
                        math.isfinite(hi) else math.inf, mmr=m,
                        max_leverage=math.floor(100 / (2.5 * m)) / 100, unit="contracts"))
    return tuple(out)


class SimMarket(MarketSource):
    """A deterministic simulated market with regimes, cascades and a counterweight."""

    name: ClassVar[str] = "sim"
    simulated: ClassVar[bool] = True
    local_clock: ClassVar[bool] = True  # its own clock: asked at every answer, no request

    def __init__(self, config: ExchangeConfig, *, secrets: Secrets | None = None,
                 storage: Any = None, n_symbols: int | None = None, counterweight: bool = True,
                 future_days: int = 30, clock_ms: int = DEFAULT_CLOCK_MS,
                 params: sim_model.SimParams | None = None) -> None:
        super().__init__(config, secrets=secrets, storage=storage)
        wanted = config.symbols if "symbols" in config.model_fields_set else None
        if n_symbols is None:
            n_symbols = int(wanted.partition(":")[2]) if isinstance(wanted, str) else 12
        self._wanted = wanted if isinstance(wanted, list) else None
        self.specs = sim_model.universe(n_symbols, counterweight=counterweight, seed=config.seed)
        self.counterweight = sim_model.COUNTERWEIGHT.base if counterweight else None
        bar = self.timeframe_ms
        if DAY_MS % bar:
            raise MarketError(f"the simulated market needs a timeframe that divides a day, "
                              f"not {config.timeframe}")
        per_day = DAY_MS // bar
        self.history_bars = config.sim_days * per_day
        self.future_bars = future_days * per_day
        self.start_ms = int(clock_ms) - self.history_bars * bar
        self._clock_ms = int(clock_ms)
        self.params = params or sim_model.SimParams()
        h = self.history_bars
        hours = per_day // 24 or 1
        self.episodes = (
            sim_model.Episode(h - 8 * per_day, 12 * hours, 6 * hours, 12 * hours),
            sim_model.Episode(h + 6 * hours, 12 * hours, 6 * hours, 12 * hours),
        )
        self._paths: sim_model.SimPaths | None = None
        symbols = [f"{s.base}-USDT-SWAP" for s in self.specs]
        self._columns = {s: j for j, s in enumerate(symbols)}
        self.resolver = SymbolResolver([
            Instrument(symbol=sym, base=s.base, contract_value=s.contract_value,
                       tick_size=10.0 ** math.floor(math.log10(s.price) - 4),
                       max_leverage=sim_tiers(s)[0].max_leverage, tiers=sim_tiers(s),
                       min_size=MIN_CONTRACTS * s.contract_value)
            for sym, s in zip(symbols, self.specs, strict=True)])

    @classmethod
    def timeframes(cls) -> tuple[str, ...]:
        """Bars that divide a day (the simulation is generated per day), a minute or longer."""
        return SIM_TIMEFRAMES

    @classmethod
    def history_limit(cls, config: ExchangeConfig) -> Duration:
        return Duration(config.sim_days * 86_400.0, f"{config.sim_days}d ([exchange] sim_days)")

    # --- the generated paths and the clock --------------------------------------------------

    @property
    def paths(self) -> sim_model.SimPaths:
        """Every generated bar (history and future), built once on first use."""
        if self._paths is None:
            self._paths = sim_model.simulate(
                self.specs, n_bars=self.history_bars + self.future_bars, start_ms=self.start_ms,
                bar_ms=self.timeframe_ms, seed=self.config.seed, anchor=self.history_bars - 1,
                episodes=self.episodes, params=self.params)
        return self._paths

    @property
    def clock_ms(self) -> int:
        return self._clock_ms

    @property
    def end_ms(self) -> int:
        """The close of the last generated bar: the clock cannot pass it."""
        return self.start_ms + (self.history_bars + self.future_bars) * self.timeframe_ms

    def advance(self, bars: int = 1) -> int:
        """Move the sim clock forward ``bars`` bars; returns the new clock (ms)."""
        self.set_clock(self._clock_ms + bars * self.timeframe_ms)
        return self._clock_ms

    def set_clock(self, at_ms: int) -> None:
        if not self.start_ms < at_ms <= self.end_ms:
            raise MarketError(f"the simulation covers {self.start_ms}..{self.end_ms} ms; "
                              f"{at_ms} is outside it (raise future_days to run longer)")
        self._clock_ms = int(at_ms)

    @property
    def regimes(self) -> np.ndarray:
        """Regime code of every generated bar (0 calm, 1 stressed, 2 cascade)."""
        return self.paths.regime

    def regime_at(self, t_ms: int) -> str:
        """``"calm"``, ``"stressed"`` or ``"cascade"``: the regime of the bar holding ``t_ms``."""
        k = (int(t_ms) - self.start_ms) // self.timeframe_ms
        if not 0 <= k < len(self.paths.times):
            raise MarketError(f"{t_ms} is outside the simulation")
        return sim_model.REGIME_NAMES[int(self.paths.regime[k])]

    def _last_closed(self, end_ms: int) -> int:
        """Index of the last bar closed by ``end_ms`` (−1 when none)."""
        if end_ms > self.end_ms:
            raise MarketError(f"{end_ms} is after the end of the simulation ({self.end_ms})")
        return (int(end_ms) - self.start_ms) // self.timeframe_ms - 1

    def _col(self, symbol: str) -> int:
        return self._columns[self.resolve(symbol)]

    # --- MarketSource -----------------------------------------------------------------------

    async def load_instruments(self) -> Mapping[str, Instrument]:
        return self.resolver.instruments

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols served by default: the configured ones when set, else all."""
        if self._wanted is None:
            return tuple(self._columns)
        out, bad = [], []
        for text in self._wanted:
            try:
                out.append(self.resolve(text))
            except UnknownSymbol:
                bad.append(text)
        if bad:
            raise MarketError(f"the simulated market has no {', '.join(bad)}; it has "
                              f"{', '.join(self._columns)}")
        return tuple(dict.fromkeys(out))

    async def server_time(self) -> int:
        return self._clock_ms

    async def fetch_ohlcv(self, symbol: str, since_ms: int | None = None,
                          limit: int | None = None) -> Candles:
        j, p = self._col(symbol), self.paths
        hi = self._last_closed(self._clock_ms) + 1
        lo = 0 if since_ms is None else int(np.searchsorted(p.times[:hi], since_ms))
        if limit is not None:
            lo, hi = (max(lo, hi - limit), hi) if since_ms is None else (lo, min(hi, lo + limit))
        s = slice(lo, hi)
        return Candles(p.times[s], p.open[s, j], p.high[s, j], p.low[s, j], p.close[s, j],
                       p.volume[s, j])

    def _funding_series(self, j: int, start_ms: int, end_ms: int) -> StatSeries:
        p = self.paths
        keep = (p.funding_times <= end_ms) & (p.funding_times >= start_ms)
        return StatSeries(p.funding_times[keep], p.funding[keep, j])

    async def fetch_funding_history(self, symbol: str, since_ms: int | None = None) -> StatSeries:
        return self._funding_series(self._col(symbol), since_ms or 0, self._clock_ms)

    async def fetch_funding(self, symbol: str) -> FundingInfo:
        s = await self.fetch_funding_history(symbol)
        nxt = int(s.times[-1]) + sim_model.FUNDING_INTERVAL_MS
        return FundingInfo(rate=s.last, time_ms=int(s.times[-1]), next_time_ms=nxt)

    async def fetch_open_interest(self, symbol: str) -> float:
        return float(self.paths.open_interest[self._last_closed(self._clock_ms), self._col(symbol)])

    async def fetch_depth(self, symbol: str) -> DepthSummary:
        k, j, p = self._last_closed(self._clock_ms), self._col(symbol), self.paths
        return DepthSummary(self._clock_ms, float(p.close[k, j]), tuple(p.depth_bid[k, j]),
                            tuple(p.depth_ask[k, j]))

    async def fetch_liquidations(self, symbol: str, since_ms: int | None = None) -> StatSeries:
        k, j, p = self._last_closed(self._clock_ms), self._col(symbol), self.paths
        keep = p.times[: k + 1] >= (since_ms or 0)
        return StatSeries(p.times[: k + 1][keep], p.liquidations[: k + 1, j][keep])

    async def snapshot(self, symbols: Sequence[str] | None = None, *, bars: int,
                       at_ms: int | None = None) -> MarketSnapshot:
        end = self._clock_ms if at_ms is None else int(at_ms)
        k = self._last_closed(end)
        cols, names, missing = [], [], {}
        for text in (self.symbols if symbols is None else symbols):
            try:
                sym = self.resolve(text)
            except UnknownSymbol as e:
                missing[text] = str(e)
                continue
            if sym not in names:
                names.append(sym)
                cols.append(self._columns[sym])
        p, rows = self.paths, slice(max(0, k + 1 - bars), k + 1)
        t = p.times[rows]
        start = int(t[0]) - sim_model.FUNDING_INTERVAL_MS if len(t) else end
        closes = t + self.timeframe_ms  # a bar's statistics are known at its close
        pairs = list(zip(names, cols, strict=True))
        return MarketSnapshot.build(
            source=self.name, timeframe_ms=self.timeframe_ms, symbols=names, times=t,
            open=p.open[rows][:, cols], high=p.high[rows][:, cols], low=p.low[rows][:, cols],
            close=p.close[rows][:, cols], volume=p.volume[rows][:, cols],
            server_time_ms=end, simulated=True,
            instruments={s: self.instruments[s] for s in names},
            funding={s: self._funding_series(j, start, end) for s, j in pairs},
            open_interest={s: StatSeries(closes, p.open_interest[rows, j]) for s, j in pairs},
            liquidations={s: StatSeries(closes, p.liquidations[rows, j]) for s, j in pairs},
            depth={s: DepthSeries(closes, p.depth_bid[rows, j], p.depth_ask[rows, j])
                   for s, j in pairs},
            taker={s: StatSeries(closes, p.taker_sell[rows, j]) for s, j in pairs},
            basis={s: StatSeries(closes, p.basis[rows, j]) for s, j in pairs},
            missing=missing)
