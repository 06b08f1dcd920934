"""What a command answers with: the services (config, database, market) and who is asking.

``Services`` keeps a warm snapshot of the configured symbols, refreshed as soon as the exchange
has closed a newer bar, so answering a command normally costs engine time only, not exchange
round trips — and never answers from an older bar without saying so (``freshness``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chat.freshness import EXCHANGE_DOWN, NO_NEW_BARS, Freshness
from chat.grammar import ArgumentError
from core.alerts import AlertKinds
from core.types import Instrument, MarketSnapshot
from i18n import _
from plugins.alert_rules.registry import load_alert_kinds
from plugins.exchanges.errors import MarketError, UnknownSymbol
from plugins.manager import PluginManager
from plugins.strategies.registry import load_strategies
from runtime import Runtime
from settings.config import Config

log = logging.getLogger(__name__)

LOCAL_USER_ID = 0
RETRY_S = 15.0  # after a refresh that brought nothing newer, ask the exchange again after this
"""The user (and private chat) id of the console and the one-shot CLI: one local trader."""


class Services:
    """Shared by every command: ``config``, ``db`` (sqlite-utils), ``market`` (MarketSource).

    ``market`` may be a source or a zero-argument factory, called on first use, so commands
    that need no market (``/help``, the trade log's writes) work without one.

    ``at_ms`` replays the market at a moment (CSV replay, ``--at``); ``clock`` returns Unix
    seconds (tests pass a fixed one); ``commands`` maps names to commands (for ``/help``).
    ``strategies`` and ``alert_kinds`` are what the plugins registered (``from_runtime``
    passes them); left out, they are loaded from ``plugins`` (or the built-ins) on first use.
    """

    def __init__(self, config: Config, db: Any, market: Any, *,
                 commands: Mapping[str, Any] | None = None, at_ms: int | None = None,
                 clock: Callable[[], float] = time.time,
                 plugins: PluginManager | None = None,
                 strategies: Mapping[str, Any] | None = None,
                 alert_kinds: AlertKinds | None = None, accounts: Any = None) -> None:
        self.config = config
        self._accounts = accounts  # plugins.accounts.service.Accounts, or a factory of one
        self.plugins = plugins
        self._strategies = strategies
        self._alert_kinds = alert_kinds
        self._market_state: Any = None
        self.db = db
        self._market = market
        self._market_made = not callable(market) or hasattr(market, "snapshot")
        self.commands: dict[str, Any] = dict(commands or {})
        self.at_ms = at_ms
        self.clock = clock
        self._snapshots: dict[tuple[str, ...] | None, tuple[float, MarketSnapshot]] = {}
        self._behind: dict[tuple[str, ...] | None, tuple[float, str]] = {}  # when, why
        self._lock = asyncio.Lock()
        self._instruments_loaded = False
        self._tiers_loaded: set[str] = set()

    @classmethod
    def from_runtime(cls, rt: Runtime, db: Any, market: Any, *, at_ms: int | None = None,
                     clock: Callable[[], float] = time.time) -> Services:
        """The services of a composed bot (``runtime.build_runtime``)."""
        ext = rt.extensions
        services = cls(rt.config, db, market, commands=ext.command_map, at_ms=at_ms,
                       clock=clock, plugins=rt.plugins, strategies=ext.strategies,
                       alert_kinds=ext.alert_kinds)
        if rt.secrets.account_key:  # else /connect is off: ccxt's async client stays unloaded
            services._accounts = lambda: rt.accounts(db, services.market)
        return services

    @property
    def accounts(self) -> Any:
        """The traders' connected exchange accounts (None: this bot has none to offer)."""
        if callable(self._accounts) and not hasattr(self._accounts, "sync"):
            self._accounts = self._accounts()
        return self._accounts

    @property
    def market(self) -> Any:
        if not self._market_made:
            self._market = self._market()
            self._market_made = True
        return self._market

    async def close(self) -> None:
        """Close the market source if it was ever opened (and the accounts' sources)."""
        if self._accounts is not None and not callable(self._accounts):
            await self._accounts.close()
        if self._market_made:
            await self._market.close()

    def _plugins(self) -> PluginManager:
        if self.plugins is None:
            self.plugins = PluginManager(disabled=self.config.plugins.disabled,
                                         entry_points=self.config.plugins.entry_points)
        return self.plugins

    @property
    def strategies(self) -> Mapping[str, Any]:
        """Every registered strategy with its configured parameters (loaded once)."""
        if self._strategies is None:
            self._strategies = load_strategies(self._plugins(), self.config.strategies.params)
        return self._strategies

    @property
    def alert_kinds(self) -> AlertKinds:
        """Every alert kind users can subscribe to: built-ins, then plugins' (loaded once)."""
        if self._alert_kinds is None:
            self._alert_kinds = load_alert_kinds(self._plugins())
        return self._alert_kinds

    @property
    def timeframe_ms(self) -> int:
        return self.config.exchange.timeframe.ms

    @property
    def bars(self) -> int:
        """Bars per snapshot: the slow (30-day) correlation window plus one for the returns."""
        e = self.config.engine
        return e.slow_window.bars(self.config.exchange.timeframe) + 1

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def instruments(self) -> Mapping[str, Instrument]:
        if not self._instruments_loaded:
            await self.market.load_instruments()
            self._instruments_loaded = True
        instruments: Mapping[str, Instrument] = self.market.instruments
        return instruments

    async def load_tiers(self, symbols: Iterable[str]) -> None:
        """Fetch each symbol's maintenance-margin tiers once: a position past tier 1 is
        liquidated at a higher mmr than the default. A failure leaves the default (and the
        report's warning) in place rather than failing the answer."""
        for symbol in sorted(set(symbols) - self._tiers_loaded):
            try:
                await self.market.fetch_tiers(symbol)
                self._tiers_loaded.add(symbol)
            except MarketError as e:
                log.warning("tiers for %s not loaded (%s): tier-1 default mmr used", symbol, e)

    def instrument(self, snap: MarketSnapshot, symbol: str) -> Instrument:
        """The instrument of ``symbol``: the snapshot's, or the market's when only the
        market's has the tiers ``load_tiers`` fetched after the snapshot was taken."""
        inst = snap.instruments.get(symbol)
        live: Instrument | None = self.market.instruments.get(symbol)
        if live is not None and (inst is None or (live.tiers and not inst.tiers)):
            return live
        if inst is None:
            raise KeyError(symbol)
        return inst

    async def resolve(self, text: str, example: str) -> str:
        """Canonical symbol, or ``ArgumentError`` with the close matches and an example."""
        await self.instruments()
        try:
            symbol: str = self.market.resolve(text)
            return symbol
        except UnknownSymbol as e:
            if e.matches:
                raise ArgumentError(_("I don't know the symbol '{text}'. Did you mean "
                                      "{matches}? e.g. {example}").format(
                    text=text, matches=", ".join(e.matches), example=example)) from None
            raise ArgumentError(_("I don't know the symbol '{text}'. e.g. {example}").format(
                text=text, example=example)) from None

    async def snapshot(self, symbols: Sequence[str] | None = None) -> MarketSnapshot:
        """The warm snapshot (configured symbols) or one holding ``symbols``.

        A cached snapshot is reused only while it holds the newest bar the exchange has
        closed; otherwise it is fetched again. When that fetch fails the cached one still
        answers — ``freshness`` then says how old it is and why — and the exchange is asked
        again after ``RETRY_S`` at the earliest, not on every command.
        """
        await self.instruments()
        async with self._lock:
            if symbols is not None:
                default = self._snapshots.get(None)
                if default is not None and all(s in default[1].symbols for s in symbols) \
                        and await self._usable(None, *default):
                    return default[1]
            key = None if symbols is None else tuple(symbols)
            cached = self._snapshots.get(key)
            if cached is not None and await self._usable(key, *cached):
                return cached[1]
            try:
                snap: MarketSnapshot = await self.market.snapshot(
                    None if key is None else list(key), bars=self.bars, at_ms=self.at_ms)
            except MarketError as e:
                if cached is None:
                    raise
                log.warning("market refresh failed; answering from data fetched earlier: %s",
                            e)
                self._behind[key] = (self.clock(), f"{EXCHANGE_DOWN} ({str(e)[:120]})")
                return cached[1]
            self._snapshots[key] = (self.clock(), snap)
            self._behind.pop(key, None)
            if not await self._holds_newest(snap, self.clock()):
                self._behind[key] = (self.clock(), NO_NEW_BARS)
            return snap

    async def _usable(self, key: tuple[str, ...] | None, fetched_at: float,
                      snap: MarketSnapshot) -> bool:
        """Reuse ``snap``: it holds the newest closed bar, or the last refresh brought
        nothing newer less than ``RETRY_S`` ago."""
        if self.at_ms is not None or await self._holds_newest(snap, fetched_at):
            return True
        behind = self._behind.get(key)
        return behind is not None and self.clock() - behind[0] < RETRY_S

    async def exchange_now_ms(self, snap: MarketSnapshot, fetched_at: float | None = None
                              ) -> int:
        """The exchange's clock now: asked of a local source (a simulation or a replay
        keeps its own time), else the snapshot's server time plus our time since."""
        if self.at_ms is not None:
            return snap.server_time_ms
        if getattr(self.market, "local_clock", False):
            return int(await self.market.server_time())
        if fetched_at is None:
            fetched_at = next((at for at, s in self._snapshots.values() if s is snap),
                              self.clock())
        return snap.server_time_ms + max(0, int((self.clock() - fetched_at) * 1000))

    async def _holds_newest(self, snap: MarketSnapshot, fetched_at: float) -> bool:
        """Whether ``snap`` has the newest bar the exchange has closed by now, allowing it
        ``[schedule] delay`` after the close to publish the bar."""
        if not snap.n_bars:
            return False
        now = await self.exchange_now_ms(snap, fetched_at)
        grace = self.config.schedule.delay.ms
        newest_close = (now - grace) // self.timeframe_ms * self.timeframe_ms
        return snap.last_bar_close_ms >= newest_close

    async def freshness(self, snap: MarketSnapshot) -> Freshness:
        """How old ``snap``'s newest bar is *now*, on the exchange's clock, and why it is
        behind when it is: what every answer prints next to its numbers."""
        if not snap.n_bars:
            return Freshness(-1, False, self._reason(snap))
        if self.at_ms is not None:  # a replay: as old as it was at that moment
            return Freshness(snap.data_age_ms)
        now = await self.exchange_now_ms(snap)
        age = max(0, now - snap.last_bar_close_ms)
        fetched_at = next((at for at, s in self._snapshots.values() if s is snap),
                          self.clock())
        if await self._holds_newest(snap, fetched_at):
            return Freshness(age)
        return Freshness(age, False, self._reason(snap))

    def _reason(self, snap: MarketSnapshot) -> str:
        key = next((k for k, (_, s) in self._snapshots.items() if s is snap), None)
        behind = self._behind.get(key)
        return behind[1] if behind is not None else NO_NEW_BARS

    async def engine_market(self, snap: MarketSnapshot) -> Any:
        """The engine's market-wide state for ``snap``, computed once per snapshot (off the
        event loop): every ``/hedge`` and ``/market`` on a warm snapshot shares it."""
        from core.evaluate import market_state
        from settings.engine import engine_params

        cached = self._market_state
        if cached is not None and cached.snap is snap:
            return cached
        state = await asyncio.get_running_loop().run_in_executor(
            None, market_state, snap, engine_params(self.config))
        self._market_state = state
        return state

    def cached_snapshot(self) -> MarketSnapshot | None:
        """The warm default snapshot if one has been fetched, else None."""
        cached = self._snapshots.get(None)
        return cached[1] if cached else None

    async def warm(self) -> None:
        """Fetch the default snapshot now so the first command answers fast."""
        await self.snapshot()


@dataclass
class CommandContext:
    """Who is asking, where, and the services to answer with.

    ``chat_type`` is Telegram's: "private", "group", "supergroup" or "channel". ``is_admin``
    is whether the user may change this chat's settings (always true in a private chat).
    ``is_operator`` is whether the user runs this bot — the console and the CLI, or one of
    ``[telegram] admins`` in a private chat: only they may see the exchange account whose keys
    are in the bot's environment.
    """

    user_id: int
    chat_id: int
    services: Services
    chat_type: str = "private"
    is_admin: bool = True
    bot_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    is_operator: bool = False

    @property
    def is_private(self) -> bool:
        return self.chat_type == "private"

    @property
    def may_change_settings(self) -> bool:
        return self.is_private or self.is_admin

    @classmethod
    def local(cls, services: Services) -> CommandContext:
        """The console's and CLI's context: the local user in their private chat."""
        return cls(user_id=LOCAL_USER_ID, chat_id=LOCAL_USER_ID, services=services,
                   is_operator=True)
