"""One cycle's snapshot and the one-minute watch's, for ``CcxtMarket``: refresh every symbol
(``ccxt_refresh``), then read candles and statistics back from storage into a
``MarketSnapshot`` (``grid.build_snapshot``).

``SnapshotCycle`` is the part of ``CcxtMarket`` that does this, as ``FlowEndpoints`` is the
part that asks for the flow inputs; ``CycleHost`` is what it uses of the market.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

from core.types import Instrument, MarketSnapshot, StatSeries
from plugins.exchanges.ccxt_flow import StoredMark
from plugins.exchanges.ccxt_refresh import (
    RefreshedMarket,
    depth_series,
    refresh_symbol,
    refresh_watch,
    stat_series,
)
from plugins.exchanges.grid import build_snapshot
from plugins.exchanges.source import Candles
from storage import market_stats as stats

HISTORY_DAYS_MS = 86_400_000  # statistics read back: at least a day, more for long windows


class CycleHost(RefreshedMarket, Protocol):
    """What ``SnapshotCycle`` uses of the market it is part of (``CcxtMarket`` has it)."""

    unknown: dict[str, str]
    _universe: list[str]

    @property
    def taker_symbols(self) -> int: ...
    @property
    def instruments(self) -> Mapping[str, Instrument]: ...

    async def load_instruments(self) -> Mapping[str, Instrument]: ...
    def resolve(self, text: str) -> str: ...
    async def symbols(self) -> list[str]: ...
    async def server_time(self) -> int: ...
    def _note_age(self, symbol: str, c: Candles) -> None: ...
    def stored_mark(self, per_symbol: Mapping[str, Candles], start: int, end: int
                    ) -> StoredMark: ...
    def _assemble(self, syms: list[str], universe: list[str], bars: int, start: int, end: int,
                  server: int, end_at: int, missing: dict[str, str],
                  as_of_ms: int | None = None) -> MarketSnapshot: ...


class SnapshotCycle:
    """The market's cycle and watch: refresh in parallel, write the samples, read back."""

    async def snapshot(self: CycleHost, symbols: Sequence[str] | None = None, *, bars: int,
                       at_ms: int | None = None) -> MarketSnapshot:
        await self.load_instruments()
        syms = ([self.resolve(s) for s in symbols] if symbols is not None
                else await self.symbols())
        syms = list(dict.fromkeys(syms))
        server = await self.server_time()
        end_at = min(at_ms, server) if at_ms is not None else server
        end = end_at // self.timeframe_ms * self.timeframe_ms
        margin = max(2, bars // 20)
        start = end - (bars + margin) * self.timeframe_ms
        missing: dict[str, str] = dict(self.unknown) if symbols is None else {}
        rows: list[stats.StatRow] = []
        takers = set(syms[:self.taker_symbols])
        # samples are stamped with the close of the bar this cycle evaluates (see ccxt_refresh)
        await asyncio.gather(*(refresh_symbol(self, s, start, end, server, missing, rows,
                                              stamp=end, taker=s in takers) for s in syms))
        stats.write_stats(self.db, rows)
        if symbols is None:
            self._universe = syms
        return self._assemble(syms, syms, bars, start, end, server, end_at, missing,
                              as_of_ms=end)

    async def watch_snapshot(self: CycleHost, symbols: Sequence[str], *, bars: int
                             ) -> MarketSnapshot:
        """The one-minute watch: fresh depth, liquidations, taker flow and open interest of
        ``symbols`` stamped with the exchange's clock, read with the last cycle's samples of
        every other symbol (so market-wide inputs cover the same symbols as the cycle's)."""
        await self.load_instruments()
        syms = list(dict.fromkeys(self.resolve(s) for s in symbols))
        server = await self.server_time()
        end = server // self.timeframe_ms * self.timeframe_ms
        stamp = max(server, end + 1)  # never on a cycle's stamp
        start = end - (bars + max(2, bars // 20)) * self.timeframe_ms
        rows: list[stats.StatRow] = []
        await asyncio.gather(*(refresh_watch(self, s, start, end, server, stamp, rows)
                               for s in syms))
        stats.write_stats(self.db, rows)
        universe = list(dict.fromkeys([*syms, *self._universe]))
        return self._assemble(syms, universe, bars, start, end, server, server, {},
                              as_of_ms=stamp)

    def _assemble(self: CycleHost, syms: list[str], universe: list[str], bars: int,
                  start: int, end: int, server: int, end_at: int, missing: dict[str, str],
                  as_of_ms: int | None = None) -> MarketSnapshot:
        """The snapshot from storage: candles of ``syms``, samples of ``universe``."""
        since = end - max(bars * self.timeframe_ms, HISTORY_DAYS_MS)
        per_symbol = {s: self.cache.read(s, start, end) for s in syms}
        for s, c in per_symbol.items():
            self._note_age(s, c)
            if not len(c) and s not in missing:
                missing[s] = "no candles"
        until = end_at if as_of_ms is None else max(end_at, as_of_ms)

        mark = self.stored_mark(per_symbol, start, end)

        def series(kind: str) -> dict[str, StatSeries]:
            return {s: stat_series(self.db, self.name, s, kind, since, until) for s in universe}

        return build_snapshot(
            per_symbol, source=self.name, timeframe_ms=self.timeframe_ms, bars=bars,
            server_time_ms=server, end_ms=end,
            instruments={s: self.instruments[s] for s in syms},
            funding=series(stats.FUNDING), open_interest=series(stats.OPEN_INTEREST),
            depth={s: depth_series(self.db, self.name, s, since, until) for s in universe},
            liquidations=series(stats.LIQUIDATIONS), taker=series(stats.TAKER),
            basis=mark.basis, mark_low=mark.low, mark_high=mark.high,
            missing=missing, as_of_ms=as_of_ms,
        )
