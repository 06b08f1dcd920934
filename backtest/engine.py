"""The bar loop: a leveraged main book plus the hedge legs each strategy asks for.

The model, bar by bar (t = start … stop−1), for every strategy at once, each in its own
account (``backtest.books``):

1. **Funding** at the bar's funding times, on the legs held going into the bar's open.
2. **Entry** at the open: at ``start``, and after a liquidation when the re-entry policy says
   so — the trader deposits ``capital`` and opens the main book at ``leverage``.
3. **Fills** at the open: the legs decided at the previous close (after the shared rebalance
   policy) are traded — taker fee and slippage on each size change (``backtest.costs``). A
   changed leg is closed and reopened at the fill price. Orders for a symbol without a
   valid open are dropped; the next decision re-issues them. The trader deposits what the
   exchange requires to place the order (``backtest.books``).
4. **Liquidation** on the bar's range (or the mark-price range): the whole account in cross
   margin, each leg in isolated margin (``backtest.account``).
5. **Decision** at the close from the ``BarView`` of that bar (data up to the close only),
   traded at the next bar's open. Nothing is decided at the last bar.

Nothing is closed at ``stop``: positions are marked at the last close (no exit fee).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from backtest.books import Book
from backtest.costs import CostParams
from backtest.margin import leg_liquidation_price
from backtest.prepared import MainBook, Prepared, filled_prices, prepare
from backtest.records import Context, LiquidationEvent, Trade, holdings
from backtest.views import ViewMaker
from core.evaluate import EngineParams
from core.types import FloatArray, IntArray, MarketSnapshot
from i18n import _
from plugins.manager import PluginManager
from plugins.strategies.base import BarView, Strategy, TargetLeg

MARGIN_MODES = ("cross", "isolated")


class NoPriceAtStart(ValueError):
    """The main book cannot be opened at the start bar: a leg has no open price there."""


@dataclass(frozen=True)
class BacktestParams:
    """What to backtest: the main book, the margin mode and the cost and policy assumptions."""

    main: str  # canonical symbol of the main position (the first of a book)
    side: str = "long"
    leverage: float = 10.0
    capital: float = 2000.0  # USDT deposited at each entry: the main's initial margin
    start: int = 0  # bar index whose open opens the main position
    rebalance_threshold: float = 0.10
    costs: CostParams = field(default_factory=CostParams)
    hedge_leverage: float | None = None  # None: the main's leverage
    margin: str = "cross"  # "cross" | "isolated"
    reentry_bars: int | None = None  # re-enter this many bars after a liquidation; None: never
    stop: int | None = None  # the bar after the last one (None: the end of the data)
    weights: tuple[tuple[str, float], ...] = ()  # a book: (symbol, weight); () = main alone

    def __post_init__(self) -> None:
        if self.margin not in MARGIN_MODES:
            raise ValueError(f"margin must be cross or isolated, not {self.margin!r}")

    @property
    def book(self) -> MainBook:
        if self.weights:
            return MainBook.of(tuple(s for s, _ in self.weights),
                               tuple(w for _, w in self.weights), self.side)
        return MainBook(((self.main, 1.0),), self.side)


@dataclass(eq=False)
class StrategyRun:
    """One strategy's path over the window: arrays of ``stop − start`` bars."""

    name: str
    equity: FloatArray  # account equity after each bar's close (deposits included)
    deposits: FloatArray  # cumulative deposits: the collateral put in so far
    fees: FloatArray  # ≤ 0
    slippage: FloatArray  # ≤ 0
    funding: FloatArray  # received (+) / paid (−)
    hedge_fees: FloatArray
    hedge_slippage: FloatArray
    hedge_funding: FloatArray
    traded_notional: FloatArray  # hedge trades, USDT
    holdings: FloatArray  # (bars, N) net signed sizes held over each bar, main included
    trades: list[Trade]
    liquidations: list[LiquidationEvent]
    decisions: list[tuple[int, tuple[TargetLeg, ...], bool]]  # (t, legs to hold, traded)
    collateral: float  # total deposits
    first_life_collateral: float  # deposits up to the first liquidation (or the end)
    lives: int

    @property
    def pnl(self) -> FloatArray:
        """Equity less the deposits so far: what trading made or lost."""
        out: FloatArray = self.equity - self.deposits
        return out


@dataclass(eq=False)
class BacktestResult:
    snap: MarketSnapshot  # the snapshot the strategies saw (with BOOK for a book)
    params: BacktestParams
    prepared: Prepared
    start: int
    stop: int
    main_size: float  # the first entry's size of the main (the book's index units)
    main_entry: float
    main_liq_price: float  # isolated price of the unhedged main with the capital (NaN: book)
    runs: dict[str, StrategyRun]
    funding_notes: list[str]
    warnings: list[str] = field(default_factory=list)  # strategies left out, and why

    @property
    def end(self) -> int:
        return self.stop


def new_context(m: Prepared, params: BacktestParams, start: int, stop: int, *, keep: bool,
                pm: PluginManager | None = None) -> Context:
    return Context(m, start, stop, params.margin == "cross", params.capital, params.leverage,
                   params.hedge_leverage or params.leverage, params.rebalance_threshold,
                   params.reentry_bars, keep, pm)


def run_books(ctx: Context, views: ViewMaker, strategies: Mapping[str, Strategy],
              progress: Callable[[int], None] | None = None) -> list[Book]:
    """Every strategy's account over ``[ctx.start, ctx.stop)``."""
    start, stop, last = ctx.start, ctx.stop, ctx.stop - 1
    m = ctx.m
    if not all(m.snap.open[start, j] > 0 for j in (*m.main_cols, m.target)):
        raise NoPriceAtStart(_("{main} has no open price at the start bar").format(
            main=m.book.label()))
    books = [Book(name, s, ctx) for name, s in strategies.items()]
    for b in books:
        b.reenter = start  # entered in the loop: after the start bar's funding time
    fund_bar = m.fund_bar.tolist()
    live = list(books)
    for t in range(start, stop):
        here: dict[int, BarView] = {}
        for b in live:
            if not b.alive:
                if b.reenter != t or not b.enter(t):
                    continue
            elif fund_bar[t]:
                b.pay_funding(t)
            if b.pending is not None:
                b.fill(t)
            if t >= b.next:
                b.check(t)
            if not b.alive or t == last:
                continue
            pos = b.position
            view = here.get(id(pos))
            if view is None:
                view = here[id(pos)] = views.view(t, pos)  # type: ignore[arg-type]
            b.decide(t, view)
        if (t - start) % 64 == 63:
            live = [b for b in live if b.alive or b.reenter is not None]
            if not live:
                break
            if progress is not None and (t - start) % 512 == 511:
                progress(t - start + 1)
    if progress is not None:
        progress(stop - start)
    return books


def strategy_run(b: Book) -> StrategyRun:
    equity, deposits = b.equity()
    c = b.ctx
    h_mid, _ = holdings(c.stop - c.start, c.m.snap.n_symbols, b.events)
    return StrategyRun(b.name, equity, deposits, b.fees, b.slip, b.fund, b.h_fees, b.h_slip,
                       b.h_fund, b.turn, h_mid, b.trades, b.liqs, b.decisions, b.deposited,
                       b.first_life if b.first_life is not None else b.deposited, b.lives)


def run_backtest(snap: MarketSnapshot, strategies: Mapping[str, Strategy], params: BacktestParams,
                 engine: EngineParams, *, liq_low: FloatArray | None = None,
                 liq_high: FloatArray | None = None,
                 progress: Callable[[int], None] | None = None,
                 pm: PluginManager | None = None, prepared: Prepared | None = None,
                 views: ViewMaker | None = None) -> BacktestResult:
    """Run every strategy over ``snap`` from bar ``params.start`` to ``params.stop``.

    ``liq_low``/``liq_high`` are the (T, N) ranges liquidation is checked on (default: the
    bars' low and high). ``progress(k)`` is called with the number of bars done, now and
    then. A strategy that fails (``plugins.strategies.asking.ask``) is left out of ``runs``
    and named in ``warnings``; failures are recorded in ``pm`` when it is given.
    """
    m = prepared or prepare(snap, params.book, engine, params.costs, liq_low, liq_high)
    start, stop = params.start, params.stop if params.stop is not None else m.n_bars
    if not 0 <= start < stop <= m.n_bars:
        raise NoPriceAtStart(_("start bar {start} is outside the data (0…{last})").format(
            start=start, last=m.n_bars - 1))
    views = views or ViewMaker.of(m, engine)
    books = run_books(new_context(m, params, start, stop, keep=True, pm=pm), views, strategies,
                      progress)
    entry = float(m.snap.open[start, m.target])
    size = params.capital * params.leverage / entry
    liq = float("nan")
    if m.book.single:
        j = m.target
        liq = leg_liquidation_price(m.insts[j], m.book.sign * size, entry, params.capital,
                                    m.fees[j])
    return BacktestResult(m.snap, params, m, start, stop, size, entry, liq,
                          {b.name: strategy_run(b) for b in books if not b.failed},
                          list(m.funding_notes), [b.failed for b in books if b.failed])


def decision_bars(result: BacktestResult) -> IntArray:
    """Bar indexes where any strategy traded (for charts and tests)."""
    ts = sorted({t for r in result.runs.values() for t, _, traded in r.decisions if traded})
    return np.array(ts, dtype=np.int64)


__all__ = ["BacktestParams", "BacktestResult", "LiquidationEvent", "NoPriceAtStart",
           "StrategyRun", "Trade", "decision_bars", "filled_prices", "run_backtest"]
