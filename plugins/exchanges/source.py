"""The one async market-source interface the rest of hedgewatch uses.

ccxt exchanges, the CSV market and the simulated market all implement ``MarketSource``. Values
returned are normalised here, at the boundary: closed bars only, float64 arrays, NaN never
handed on silently (a symbol without usable data is listed in ``MarketSnapshot.missing``).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from core.types import FloatArray, Instrument, IntArray, MarketSnapshot, Position, StatSeries, Tier
from i18n import _
from plugins.exchanges.errors import NotSupported
from plugins.exchanges.symbols import SymbolResolver
from settings.checks import Problem
from settings.config import ExchangeConfig
from settings.durations import Duration
from settings.secrets import Secrets


@dataclass(frozen=True, eq=False)
class Candles:
    """Closed OHLCV bars of one symbol, ascending by open time (ms)."""

    times: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @staticmethod
    def empty() -> Candles:
        z = np.zeros(0)
        return Candles(np.zeros(0, np.int64), z, z, z, z, z)


@dataclass(frozen=True)
class FundingInfo:
    rate: float  # current period's rate, a fraction (0.0001 = 0.01 %)
    time_ms: int  # when the current period settles
    next_rate: float | None = None
    next_time_ms: int | None = None
    interval_hours: float = 8.0


@dataclass(frozen=True)
class DepthSummary:
    """USDT notional on each side within ``core.types.DEPTH_BANDS`` of mid."""

    time_ms: int
    mid: float
    bid: tuple[float, ...]
    ask: tuple[float, ...]


@dataclass(frozen=True)
class AccountPositions:
    positions: tuple[Position, ...]
    can_trade: bool  # the key has trade permission: hedgewatch flags it to the user
    equity: float | None = None
    exchange_liquidation: Mapping[str, float] = field(default_factory=dict)  # cross-check


@dataclass(frozen=True)
class EndpointHealth:
    """One endpoint's requests since start: for ``/metrics``. ``latency_sum_s`` covers every
    request; the percentiles the recent ones."""

    requests: int = 0
    errors: int = 0
    latency_sum_s: float = 0.0
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None


@dataclass
class SourceHealth:
    """What ``/status`` and ``/metrics`` show per exchange."""

    name: str
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    last_success_ms: int | None = None
    requests: int = 0
    retries: int = 0
    errors: int = 0
    data_age_ms: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    endpoints: dict[str, EndpointHealth] = field(default_factory=dict)


class MarketSource(abc.ABC):
    """Base class of every exchange plugin. Subclasses set ``name`` and implement the fetches.

    ``load_instruments`` must be awaited before ``resolve``. All timestamps are Unix ms UTC;
    OHLCV bars are keyed by their open time and only closed bars are returned.
    """

    name: ClassVar[str]
    simulated: ClassVar[bool] = False
    local_clock: ClassVar[bool] = False  # server_time() needs no request (sims and replays)

    def __init__(self, config: ExchangeConfig, *, secrets: Secrets | None = None,
                 storage: Any = None) -> None:
        self.config = config
        self.secrets = secrets or Secrets()
        self.storage = storage
        self.timeframe_ms = config.timeframe.ms
        self.resolver = SymbolResolver({})

    # --- what the source can do (``bot.py check-config`` asks before anything is fetched) ---

    @classmethod
    def timeframes(cls) -> tuple[str, ...] | None:
        """The bar sizes this source offers ("1m", "15m", "1h", ...); None: it can't say
        before reading its data (``config_problems`` then checks what it can)."""
        return None

    @classmethod
    def history_limit(cls, config: ExchangeConfig) -> Duration | None:
        """How far back this source can give bars; None: as far as a window may reach."""
        return None

    @classmethod
    def config_problems(cls, config: ExchangeConfig) -> list[Problem]:
        """Problems with ``[exchange]`` that only this source knows about."""
        return []

    # --- instruments and symbols -----------------------------------------------------------

    @abc.abstractmethod
    async def load_instruments(self) -> Mapping[str, Instrument]:
        """Load (and cache) every usable instrument, keyed by canonical symbol."""

    def resolve(self, text: str) -> str:
        """Canonical symbol for any spelling; raises ``UnknownSymbol`` with close matches."""
        return self.resolver.resolve(text)

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return self.resolver.instruments

    # --- market data ----------------------------------------------------------------------

    @abc.abstractmethod
    async def server_time(self) -> int:
        """The exchange's clock (ms); data age is judged against it, not ours."""

    @abc.abstractmethod
    async def fetch_ohlcv(self, symbol: str, since_ms: int | None = None,
                          limit: int | None = None) -> Candles:
        """Closed bars with open time >= ``since_ms`` (the latest ``limit`` when None)."""

    async def fetch_funding(self, symbol: str) -> FundingInfo:
        raise NotSupported(f"{self.name} has no funding rates")

    async def fetch_funding_history(self, symbol: str, since_ms: int | None = None) -> StatSeries:
        raise NotSupported(f"{self.name} has no funding history")

    async def fetch_open_interest(self, symbol: str) -> float:
        """Open interest in USDT notional."""
        raise NotSupported(f"{self.name} has no open interest")

    async def fetch_depth(self, symbol: str) -> DepthSummary:
        raise NotSupported(f"{self.name} has no order book")

    async def fetch_tiers(self, symbol: str) -> tuple[Tier, ...]:
        return self.instruments[symbol].tiers if symbol in self.instruments else ()

    async def fetch_liquidations(self, symbol: str, since_ms: int | None = None) -> StatSeries:
        raise NotSupported(f"{self.name} has no liquidation feed")

    async def fetch_positions(self) -> AccountPositions:
        raise NotSupported(_("{source}: reading positions needs read-only API keys").format(
            source=self.name))

    @abc.abstractmethod
    async def snapshot(self, symbols: Sequence[str] | None = None, *, bars: int,
                       at_ms: int | None = None) -> MarketSnapshot:
        """The market on one grid: the last ``bars`` closed bars up to ``at_ms`` (default now).

        Symbols default to the configured ones. A symbol that fails is listed in
        ``snapshot.missing`` with the reason; one failing symbol never fails the snapshot.
        """

    async def watch_snapshot(self, symbols: Sequence[str], *, bars: int) -> MarketSnapshot:
        """The one-minute cascade watch's snapshot of ``symbols``. A live exchange samples
        only what moves between bars (book depth, liquidations, taker flow) and reads it as of
        its clock; a source of bars has nothing newer than its last bar: the snapshot."""
        return await self.snapshot(symbols, bars=bars)

    def assumptions(self, symbols: Sequence[str]) -> list[str]:
        """What this source assumed for ``symbols`` because it does not know (fees, tiers),
        one sentence each — answers and their JSON repeat them instead of using a guess
        silently. A live exchange knows: none."""
        return []

    def health(self) -> SourceHealth:
        return SourceHealth(self.name)

    async def close(self) -> None:  # noqa: B027 - optional hook for sources holding sessions
        """Release network sessions; always awaited on shutdown."""
