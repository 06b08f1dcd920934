"""The CSV market: a trader's own history, for offline use and backtests on real data.

``[exchange] data_dir`` holds ``<SYMBOL>_<timeframe>.csv[.gz]`` files (see ``csv_files``).
Every symbol in the folder is served unless narrowed (the ``symbols`` argument, or
``[exchange] symbols`` when the user set it). Each base gets one canonical id,
``<BASE>-USDT-SWAP``, so ``BTC``, ``BTCUSDT`` and ``BTC/USDT:USDT`` all resolve to the file
``BTCUSDT_15m.csv.gz`` or ``BTC-USDT-SWAP_15m.csv.gz``; ``AVAXUSDT_spot_1h.csv.gz`` holds spot
candles, served under the same id when no swap file exists and named in the assumptions.

The cascade score's evidence inputs: funding from ``[exchange] funding_dir`` and the
perp's discount to its mark price from ``[exchange] mark_dir`` (``<SYMBOL>_mark_<tf>.csv``,
e.g. OKX's hourly mark candles) when given; order-book depth, open interest, liquidations
and taker flow are not in files of bars (``inputs_missing`` says so), and the score leaves
them out.

"Now" is a replay clock: the close of the last bar in the folder unless ``at_ms`` is given
(the CLI's ``--at``); ``advance()`` moves it bar by bar. Only bars closed by the clock are seen.

Defaults when no tier table covers a symbol (stated, not guessed from the exchange):

* contract value: OKX's published ``ctVal`` for BTC (0.01) and ETH (0.1) when the file uses
  OKX names (``BTC-USDT-SWAP``), otherwise 1 base unit per contract (Binance trades in base);
* one tier, unlimited size, maintenance-margin rate 0.005, max leverage 100 (``DEFAULT_TIER``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.types import Instrument, MarketSnapshot, StatSeries, Tier
from plugins.exchanges import csv_files
from plugins.exchanges.csv_files import CsvFormatError
from plugins.exchanges.errors import MarketError, UnknownSymbol
from plugins.exchanges.grid import build_snapshot
from plugins.exchanges.source import Candles, FundingInfo, MarketSource
from plugins.exchanges.symbols import SymbolResolver, base_of
from settings.checks import Problem
from settings.config import ExchangeConfig
from settings.durations import Duration, format_duration
from settings.secrets import Secrets

__all__ = ["DEFAULT_TIER", "OKX_CONTRACT_VALUES", "CsvFormatError", "CsvMarket"]

DEFAULT_TIER = Tier(tier=1, min_size=0.0, max_size=math.inf, mmr=0.005, max_leverage=100.0,
                    unit="notional")
OKX_CONTRACT_VALUES: Mapping[str, float] = {"BTC": 0.01, "ETH": 0.1}
FUNDING_INTERVAL_MS = 8 * 3_600_000
NOT_IN_FILES = ("order-book depth", "open interest", "liquidations", "taker flow")


SPOT_TAG = "_SPOT"  # AVAXUSDT_spot_1h.csv.gz: spot candles, served as AVAX-USDT-SWAP


def canonical(base: str) -> str:
    return f"{base.upper()}-USDT-SWAP"


class CsvMarket(MarketSource):
    """Market data from CSV files: replayable at any moment, bar by bar."""

    name: ClassVar[str] = "csv"
    local_clock: ClassVar[bool] = True  # the replay clock: asked at every answer

    def __init__(self, config: ExchangeConfig, *, secrets: Secrets | None = None,
                 storage: Any = None, symbols: Sequence[str] | None = None,
                 at_ms: int | None = None) -> None:
        super().__init__(config, secrets=secrets, storage=storage)
        if not config.data_dir:
            raise MarketError("the csv exchange needs [exchange] data_dir (a folder of "
                              "<SYMBOL>_<timeframe>.csv[.gz] files)")
        self.data_dir = Path(config.data_dir).expanduser()
        self.funding_dir = Path(config.funding_dir).expanduser() if config.funding_dir else None
        self.mark_dir = Path(config.mark_dir).expanduser() if config.mark_dir else None
        if symbols is not None:
            self._wanted: list[str] | str | None = list(symbols)
        elif "symbols" in config.model_fields_set:
            self._wanted = config.symbols
        else:
            self._wanted = None  # every symbol in the folder
        self._clock_ms: int | None = at_ms
        self._files: dict[str, Path] = {}  # canonical symbol -> OHLCV file
        self._spot: set[str] = set()  # symbols read from <BASE>USDT_spot_<tf> files
        self._candles: dict[str, Candles] = {}
        self._funding_files: dict[str, list[Path]] = {}
        self._funding: dict[str, StatSeries] = {}
        self._mark_files: dict[str, tuple[Path, str]] = {}
        self._basis: dict[str, StatSeries] = {}
        self._selected: tuple[str, ...] = ()

    @classmethod
    def config_problems(cls, config: ExchangeConfig) -> list[Problem]:
        """A folder with files of the configured timeframe (what the CSV source "offers")."""
        if not config.data_dir:
            return [Problem("exchange.data_dir", "the csv exchange needs a folder of "
                            "<SYMBOL>_<timeframe>.csv[.gz] files", show_value=False)]
        folder = Path(config.data_dir).expanduser()
        tf = format_duration(config.timeframe.seconds)
        if folder.is_dir() and not csv_files.discover_ohlcv(folder, tf):
            return [Problem("exchange.timeframe", f"the csv folder {folder} has no "
                            f"<SYMBOL>_{tf}.csv[.gz] files")]
        return []

    # --- instruments ------------------------------------------------------------------------

    async def load_instruments(self) -> Mapping[str, Instrument]:
        if self.resolver.instruments:
            return self.resolver.instruments
        tf = format_duration(self.timeframe_ms / 1000)
        found = csv_files.discover_ohlcv(self.data_dir, tf)
        if not found:
            raise MarketError(f"no <SYMBOL>_{tf}.csv[.gz] files in {self.data_dir}")
        tiers = csv_files.read_tiers(self.config.tiers_file) if self.config.tiers_file else {}
        okx_named: dict[str, bool] = {}
        for file_sym, path in found.items():
            spot = file_sym.upper().endswith(SPOT_TAG)
            base = base_of(file_sym[:-len(SPOT_TAG)] if spot else file_sym)
            sym = canonical(base)
            # One file per base; an exact canonical name beats e.g. BTCUSDT, a swap beats spot.
            if sym not in self._files or file_sym.upper() == sym or \
                    (sym in self._spot and not spot):
                self._files[sym] = path
                okx_named[sym] = file_sym.upper().endswith("-SWAP")
                self._spot.discard(sym)
                if spot:
                    self._spot.add(sym)
        insts = []
        for sym in self._files:
            base = base_of(sym)
            ct = OKX_CONTRACT_VALUES.get(base, 1.0) if okx_named[sym] else 1.0
            t = tiers.get(base) or (DEFAULT_TIER,)
            insts.append(Instrument(symbol=sym, base=base, contract_value=ct, tiers=t,
                                    max_leverage=max(x.max_leverage for x in t)))
        self.resolver = SymbolResolver(insts)
        if self.funding_dir is not None:
            for base, paths in csv_files.discover_funding(self.funding_dir).items():
                if canonical(base) in self._files:
                    self._funding_files[canonical(base)] = paths
        if self.mark_dir is not None:
            for base, mark in csv_files.discover_mark(self.mark_dir).items():
                if canonical(base) in self._files:
                    self._mark_files[canonical(base)] = mark
        self._selected = self._select()
        return self.resolver.instruments

    def assumptions(self, symbols: Sequence[str]) -> list[str]:
        """A CSV folder has no fee schedule, and tiers only from ``[exchange] tiers_file``."""
        fees = sorted({self.instruments[s].taker_fee for s in symbols if s in self.instruments})
        out = [f"fees: a CSV folder has no fee schedule; a taker fee of "
               f"{', '.join(f'{f:.3%}' for f in fees)} is assumed"] if fees else []
        untiered = sorted(s for s in symbols if s in self.instruments
                          and self.instruments[s].tiers == (DEFAULT_TIER,))
        if untiered:
            out.append(f"tiers: no tier table for {', '.join(untiered)}; one tier at "
                       f"{DEFAULT_TIER.mmr:.1%} maintenance margin, up to "
                       f"{DEFAULT_TIER.max_leverage:g}x, is assumed")
        spot = sorted(s for s in symbols if s in self._spot)
        if spot:
            out.append(f"prices: {', '.join(spot)} come from spot candles (…_spot_<timeframe> "
                       "files), standing in for the perpetual's")
        return out

    def _select(self) -> tuple[str, ...]:
        everything = tuple(sorted(self._files))
        if self._wanted is None:
            return everything
        if isinstance(self._wanted, str):  # "top:N": the N with most recent quote volume
            n = int(self._wanted.partition(":")[2])
            return tuple(sorted(everything, key=self._recent_quote_volume, reverse=True)[:n])
        out, bad = [], []
        for text in self._wanted:
            try:
                out.append(self.resolver.resolve(text))
            except UnknownSymbol:
                bad.append(text)
        if bad:
            raise MarketError(
                f"symbol(s) {', '.join(bad)} have no {format_duration(self.timeframe_ms / 1000)} "
                f"file in {self.data_dir}; it has: {', '.join(everything)}")
        return tuple(dict.fromkeys(out))

    def _recent_quote_volume(self, sym: str) -> float:
        c = self.candles(sym)
        return float(np.nansum(c.close[-96:] * c.volume[-96:]))

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols served by default (after ``load_instruments``)."""
        return self._selected

    # --- cached arrays ----------------------------------------------------------------------

    def candles(self, symbol: str) -> Candles:
        """Every bar of ``symbol``'s file, loaded once per instance."""
        sym = self.resolve(symbol)
        if sym not in self._candles:
            self._candles[sym] = csv_files.load_candles(self._files[sym])
        return self._candles[sym]

    def funding_history(self, symbol: str) -> StatSeries:
        sym = self.resolve(symbol)
        if sym not in self._funding:
            paths = self._funding_files.get(sym, [])
            self._funding[sym] = csv_files.load_funding(paths) if paths else StatSeries.empty()
        return self._funding[sym]

    def basis_history(self, symbol: str) -> StatSeries:
        """``close / mark − 1`` wherever a mark bar closes with a trade bar (hourly mark
        candles give one a hour on 15-minute bars), stamped at that close."""
        sym = self.resolve(symbol)
        if sym not in self._basis:
            found = self._mark_files.get(sym)
            if found is None:
                self._basis[sym] = StatSeries.empty()
            else:
                path, tf = found
                mark = csv_files.load_mark_closes(path, Duration.parse(tf).ms)
                c = self.candles(sym)
                closes = c.times + self.timeframe_ms
                at = np.searchsorted(closes, mark.times)
                hit = at < len(closes)
                hit[hit] &= closes[at[hit]] == mark.times[hit]
                with np.errstate(invalid="ignore", divide="ignore"):
                    b = c.close[at[hit]] / mark.values[hit] - 1.0
                ok = np.isfinite(b)
                self._basis[sym] = StatSeries(mark.times[hit][ok], b[ok])
        return self._basis[sym]

    def inputs_missing(self) -> list[str]:
        """The cascade score's inputs these files cannot give (for /market and reports)."""
        out = list(NOT_IN_FILES)
        if not self._funding_files:
            out.append("funding (no [exchange] funding_dir)")
        if not self._mark_files:
            out.append("mark price (no [exchange] mark_dir)")
        return out

    # --- the replay clock -------------------------------------------------------------------

    def _data_end_ms(self) -> int:
        ends = [int(c.times[-1]) + self.timeframe_ms
                for c in (self.candles(s) for s in self._selected) if len(c)]
        if not ends:
            raise MarketError(f"no bars in {self.data_dir}")
        return max(ends)

    @property
    def clock_ms(self) -> int:
        """The replay clock: the given time, else the close of the last bar on disk."""
        return self._clock_ms if self._clock_ms is not None else self._data_end_ms()

    def set_clock(self, at_ms: int | None) -> None:
        """Replay from ``at_ms`` (None: the end of the data)."""
        self._clock_ms = None if at_ms is None else int(at_ms)

    def advance(self, bars: int = 1) -> int:
        """Move the replay clock forward by ``bars`` bars; returns the new clock (ms)."""
        self._clock_ms = self.clock_ms + bars * self.timeframe_ms
        return self._clock_ms

    async def server_time(self) -> int:
        await self.load_instruments()
        return self.clock_ms

    # --- market data ------------------------------------------------------------------------

    def _closed(self, sym: str, end_ms: int) -> Candles:
        c = self.candles(sym)
        k = int(np.searchsorted(c.times, end_ms - self.timeframe_ms, side="right"))
        return Candles(c.times[:k], c.open[:k], c.high[:k], c.low[:k], c.close[:k], c.volume[:k])

    async def fetch_ohlcv(self, symbol: str, since_ms: int | None = None,
                          limit: int | None = None) -> Candles:
        await self.load_instruments()
        c = self._closed(self.resolve(symbol), self.clock_ms)
        lo = 0 if since_ms is None else int(np.searchsorted(c.times, since_ms, side="left"))
        hi = len(c) if limit is None or since_ms is None else min(len(c), lo + limit)
        if since_ms is None and limit is not None:
            lo = max(0, hi - limit)
        return Candles(c.times[lo:hi], c.open[lo:hi], c.high[lo:hi], c.low[lo:hi],
                       c.close[lo:hi], c.volume[lo:hi])

    async def fetch_funding_history(self, symbol: str, since_ms: int | None = None) -> StatSeries:
        await self.load_instruments()
        s = self.funding_history(symbol)
        keep = s.times <= self.clock_ms
        if since_ms is not None:
            keep &= s.times >= since_ms
        return StatSeries(s.times[keep], s.values[keep])

    async def fetch_funding(self, symbol: str) -> FundingInfo:
        s = await self.fetch_funding_history(symbol)
        if not len(s):
            raise MarketError(f"no funding rates for {self.resolve(symbol)} up to the clock")
        t = int(s.times[-1])
        interval = int(s.times[-1] - s.times[-2]) if len(s) > 1 else FUNDING_INTERVAL_MS
        return FundingInfo(rate=s.last, time_ms=t, interval_hours=interval / 3_600_000)

    async def snapshot(self, symbols: Sequence[str] | None = None, *, bars: int,
                       at_ms: int | None = None) -> MarketSnapshot:
        await self.load_instruments()
        end = self.clock_ms if at_ms is None else int(at_ms)
        per_symbol: dict[str, Candles] = {}
        missing: dict[str, str] = {}
        for text in (self._selected if symbols is None else symbols):
            try:
                sym = self.resolve(text)
            except UnknownSymbol as e:
                missing[text] = str(e)
                continue
            c = self._closed(sym, end)
            if not len(c):
                missing[sym] = f"no bar in {self._files[sym].name} closed by {end} ms"
                continue
            per_symbol[sym] = Candles(*(a[-bars:] for a in (c.times, c.open, c.high, c.low,
                                                            c.close, c.volume)))
        funding: dict[str, StatSeries] = {}
        basis: dict[str, StatSeries] = {}
        if per_symbol:
            start = min(int(c.times[0]) for c in per_symbol.values()) - FUNDING_INTERVAL_MS
            for sym in per_symbol:
                for out, s in ((funding, self.funding_history(sym)),
                               (basis, self.basis_history(sym))):
                    keep = (s.times <= end) & (s.times >= start)
                    if keep.any():
                        out[sym] = StatSeries(s.times[keep], s.values[keep])
        return build_snapshot(
            per_symbol, source=self.name, timeframe_ms=self.timeframe_ms, bars=bars,
            server_time_ms=end, end_ms=end,
            instruments={s: self.instruments[s] for s in per_symbol},
            funding=funding, basis=basis, missing=missing)
