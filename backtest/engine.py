"""The bar loop: a leveraged main position plus the hedge legs each strategy asks for.

The model, bar by bar (t = start … T−1), for every strategy at once:

1. **Funding** at the bar's funding times, on the legs held going into the bar's open.
2. **Fills** at the bar's open: the legs decided at the previous close (after the shared
   rebalance policy) are traded — taker fee and slippage on each size change
   (``backtest.costs``). A changed leg is closed and reopened at the fill price: its entry
   resets to the open and its isolated margin to ``|notional| / leverage``. Orders for a
   symbol without a valid open are dropped; the next decision re-issues them.
3. **Liquidations** on the bar's low/high (or mark-price range): a leg whose liquidation
   price (``backtest.margin``) is crossed loses exactly its isolated margin. A liquidated
   hedge leg counts as not held, so the next decision may reopen it through the rebalance
   policy. When the main position is liquidated its hedges are closed at the bar's close
   (fees and slippage), the main is not re-entered and equity stays flat from then on.
4. **Decision** at the close from the ``BarView`` of that bar (data up to the close only),
   traded at the next bar's open.

The main position: isolated, margin = ``capital``, size = capital · leverage / open of the
start bar, opened at that open (fee and slippage paid), never resized. The hedge legs each
have their own isolated margin of notional / leverage taken from the account: equity is
``capital`` plus all P&L and costs, and ``peak_margin`` reports how much collateral the legs
needed at most (above ``capital`` when hedges are open). Positions are marked at each close;
nothing is closed at the end (no exit fee).

Speed: the statistics come from ``core.position_series`` once; the loop only does
bookkeeping, and mark-to-market P&L is computed afterwards from the holdings, vectorised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backtest import costs as C
from backtest.margin import crossed, first_crossing, leg_liquidation_price
from core.cascade_series import snapshot_cascade_series
from core.evaluate import EngineParams
from core.position_series import PositionSeries, position_series
from core.types import BoolArray, FloatArray, Instrument, IntArray, MarketSnapshot, Position
from plugins.manager import PluginManager
from plugins.strategies.asking import ask
from plugins.strategies.bars import replay_bars
from plugins.strategies.base import Strategy, TargetLeg
from plugins.strategies.rebalance import rebalance


@dataclass(frozen=True)
class BacktestParams:
    """What to backtest: the main position and the cost and policy assumptions."""

    main: str  # canonical symbol of the main position
    side: str = "long"
    leverage: float = 10.0
    capital: float = 2000.0  # USDT: the main position's isolated margin
    start: int = 0  # bar index whose open opens the main position
    rebalance_threshold: float = 0.10
    costs: C.CostParams = field(default_factory=C.CostParams)
    hedge_leverage: float | None = None  # None: the main's leverage


@dataclass(frozen=True)
class Trade:
    t: int  # bar index of the fill
    symbol: str
    delta: float  # signed base units bought (+) or sold (−)
    price: float
    fee: float
    slippage: float
    reason: str


@dataclass(frozen=True)
class LiquidationEvent:
    t: int
    symbol: str
    side: str
    price: float  # the leg's liquidation price
    margin_lost: float
    main: bool


@dataclass(eq=False)
class StrategyRun:
    """One strategy's path: (T,) arrays over the whole grid (zero before ``start``)."""

    name: str
    equity: FloatArray  # after each bar's close; capital before start
    pnl: FloatArray  # price P&L of all legs
    fees: FloatArray  # ≤ 0
    slippage: FloatArray  # ≤ 0
    funding: FloatArray  # received (+) / paid (−)
    hedge_fees: FloatArray
    hedge_slippage: FloatArray
    hedge_funding: FloatArray
    traded_notional: FloatArray  # hedge trades, USDT
    holdings: FloatArray  # (T, N) signed hedge sizes held over each bar
    trades: list[Trade]
    liquidations: list[LiquidationEvent]
    decisions: list[tuple[int, tuple[TargetLeg, ...], bool]]  # (t, legs to hold, traded)
    peak_margin: float


@dataclass(eq=False)
class BacktestResult:
    snap: MarketSnapshot
    params: BacktestParams
    start: int
    main_size: float
    main_entry: float
    main_liq_price: float
    main_liquidated_at: int | None
    series: PositionSeries
    runs: dict[str, StrategyRun]
    funding_notes: list[str]
    warnings: list[str] = field(default_factory=list)  # strategies left out, and why

    @property
    def end(self) -> int:
        return self.snap.n_bars


def filled_prices(snap: MarketSnapshot) -> tuple[FloatArray, FloatArray]:
    """Opens and closes with missing bars filled by the last close: no move over a gap."""
    t, n = snap.close.shape
    seq = np.empty((2 * t, n))
    seq[0::2], seq[1::2] = snap.open, snap.close
    ok = np.isfinite(seq)
    idx = np.where(ok, np.arange(2 * t)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = seq[idx, np.arange(n)]
    filled[~ok & (idx == 0) & ~ok[0]] = np.nan
    return filled[0::2], filled[1::2]


@dataclass(eq=False)
class _Book:
    """Mutable per-strategy state inside the loop."""

    strategy: Strategy
    held: dict[int, list[float]] = field(default_factory=dict)  # j -> [size, entry, liq, margin]
    legs: tuple[TargetLeg, ...] = ()
    pending: tuple[TargetLeg, ...] | None = None
    reason: str = ""
    state: Any = None
    alive: bool = True
    failed: str | None = None  # why the strategy was left out (``plugins.strategies.asking``)
    events: list[tuple[int, int, float]] = field(default_factory=list)  # (2t[+1], j, size)
    trades: list[Trade] = field(default_factory=list)
    liqs: list[LiquidationEvent] = field(default_factory=list)
    decisions: list[tuple[int, tuple[TargetLeg, ...], bool]] = field(default_factory=list)
    peak_hedge_margin: float = 0.0


def run_backtest(snap: MarketSnapshot, strategies: Mapping[str, Strategy], params: BacktestParams,
                 engine: EngineParams, *, liq_low: FloatArray | None = None,
                 liq_high: FloatArray | None = None,
                 progress: Callable[[int], None] | None = None,
                 pm: PluginManager | None = None) -> BacktestResult:
    """Run every strategy over ``snap`` from bar ``params.start`` to the last bar.

    ``liq_low``/``liq_high`` are the (T, N) ranges liquidation is checked on (default: the
    bars' low and high). ``progress(k)`` is called with the number of bars done, now and
    then. A strategy that fails (``plugins.strategies.asking.ask``) is left out of ``runs``
    and named in ``warnings``; failures are recorded in ``pm`` when it is given.
    """
    p, cp = params, params.costs
    T, N = snap.close.shape
    start = p.start
    if not 0 <= start < T:
        raise ValueError(f"start bar {start} is outside the data (0…{T - 1})")
    target = snap.index(p.main)
    sign = 1 if p.side == "long" else -1
    hedge_lev = p.hedge_leverage or p.leverage
    low = snap.low if liq_low is None else liq_low
    high = snap.high if liq_high is None else liq_high
    po, pc = filled_prices(snap)
    sigma, volnot = C.slippage_inputs(snap, cp.window)
    fund, notes = C.funding_matrix(snap, cp)
    fund_bar: BoolArray = np.any(fund, axis=1)
    insts = [snap.instruments.get(s) or Instrument(s, s.split("-")[0]) for s in snap.symbols]
    fees_rate = [cp.taker_fee if cp.taker_fee is not None else i.taker_fee for i in insts]
    series = position_series(snap.close, target, engine.corr,  # the live cascade score
                             snapshot_cascade_series(snap, engine.corr).score)

    # --- the main position: the same for every strategy, vectorised --------------------------
    entry = float(snap.open[start, target])
    if not entry > 0:
        raise ValueError(f"{p.main} has no open price at the start bar")
    size = p.capital * p.leverage / entry
    main_liq = leg_liquidation_price(insts[target], sign * size, entry, p.capital,
                                     fees_rate[target])
    liq_at = first_crossing(sign, main_liq, low[:, target], high[:, target], start)
    main_pnl, main_fund = _main_path(
        T, start, sign * size, entry, p.capital, pc[:, target], po[:, target], fund[:, target],
        liq_at)
    notional0 = size * entry
    main_fee = C.fee(notional0, fees_rate[target])
    main_slip = C.slippage_rate(sigma[start, target], notional0, volnot[start, target],
                                cp) * notional0
    position = Position(p.main, p.side, size, entry, p.leverage, margin=p.capital)

    books = {name: _Book(s) for name, s in strategies.items()}
    fees = {name: np.zeros(T) for name in books}
    slip = {name: np.zeros(T) for name in books}
    fnd = {name: np.zeros(T) for name in books}
    adj = {name: np.zeros(T) for name in books}
    turn = {name: np.zeros(T) for name in books}
    syms = snap.symbols
    index = {s: j for j, s in enumerate(syms)}
    threshold = p.rebalance_threshold

    def fill(b: _Book, name: str, t: int, want: dict[int, float], px: FloatArray,
             closing: bool) -> None:
        for j in sorted(set(want) | set(b.held)):
            have = b.held[j][0] if j in b.held else 0.0
            new = want.get(j, 0.0)
            delta = new - have
            if delta == 0.0:
                continue
            price = float(px[j])
            if not price > 0:
                continue  # no valid price: the order is dropped
            notional = abs(delta) * price
            f = C.fee(notional, fees_rate[j])
            s = C.slippage_rate(float(sigma[t, j]), notional, float(volnot[t, j]), cp) * notional
            fees[name][t] -= f
            slip[name][t] -= s
            turn[name][t] += notional
            b.trades.append(Trade(t, syms[j], delta, price, f, s, b.reason))
            if new == 0.0:
                del b.held[j]
            else:
                margin = abs(new) * price / hedge_lev
                b.held[j] = [new, price, leg_liquidation_price(
                    insts[j], new, price, margin, fees_rate[j]), margin]
            b.events.append((2 * t + (1 if closing else 0), j, new))
        b.legs = tuple(TargetLeg(syms[j], "long" if v[0] > 0 else "short", abs(v[0]))
                       for j, v in sorted(b.held.items()))
        b.peak_hedge_margin = max(b.peak_hedge_margin, sum(v[3] for v in b.held.values()))

    views = replay_bars(snap, position, engine, start, series)
    for t in range(start, T):
        view = next(views)
        main_dead_now = liq_at == t
        for name, b in books.items():
            if not b.alive:
                continue
            if fund_bar[t] and b.held:
                for j, v in b.held.items():
                    r = fund[t, j]
                    if r:
                        fnd[name][t] += C.funding_payment(v[0], float(po[t, j]), r)
            if b.pending is not None:
                want: dict[int, float] = {}
                for leg in b.pending:
                    j = index[leg.symbol]
                    want[j] = want.get(j, 0.0) + leg.signed()
                b.pending = None
                fill(b, name, t, want, snap.open[t], closing=False)
            if b.held:
                for j in [j for j, v in b.held.items()
                          if crossed(v[0], v[2], low[t, j], high[t, j])]:
                    v = b.held.pop(j)
                    adj[name][t] += -v[3] - v[0] * (pc[t, j] - v[1])
                    b.events.append((2 * t + 1, j, 0.0))
                    b.liqs.append(LiquidationEvent(t, syms[j], "long" if v[0] > 0 else "short",
                                                   v[2], v[3], False))
                    b.legs = tuple(leg for leg in b.legs if leg.symbol != syms[j])
            if main_dead_now:
                b.liqs.append(LiquidationEvent(t, p.main, p.side, main_liq, p.capital, True))
                b.reason = "main position liquidated: hedges closed"
                fill(b, name, t, {}, pc[t], closing=True)
                b.alive = False
                continue
            if t == T - 1:
                continue  # nothing left to trade at
            answer = ask(b.strategy, view, b.state, pm, where=f"backtest bar {t}")
            if answer.decision is None:
                b.alive, b.failed = False, f"{answer.warning} (at bar {t})"
                continue
            d = answer.decision
            b.state = d.state
            if d.legs == b.legs:  # holding exactly the target: the policy would not trade
                legs, traded = b.legs, False
            else:
                legs, traded = rebalance(b.legs, d.legs, view.prices,
                                         size * float(pc[t, target]), threshold)
            b.decisions.append((t, legs, traded))
            if traded:
                b.pending = legs
                b.reason = d.reason
        if progress is not None and (t - start) % 512 == 0:
            progress(t - start)
    if progress is not None:
        progress(T - start)

    runs = {}
    warnings = [b.failed for b in books.values() if b.failed]
    for name, b in books.items():
        if b.failed:
            continue
        h_mid, h_end = _holdings(T, N, b.events)
        prev = np.vstack([np.zeros((1, N)), h_end[:-1]])
        prev_close = np.vstack([po[:1], pc[:-1]])
        with np.errstate(invalid="ignore"):
            leg_pnl = (np.where(prev != 0, prev * (po - prev_close), 0.0)
                       + np.where(h_mid != 0, h_mid * (pc - po), 0.0)).sum(axis=1)
        pnl = main_pnl + leg_pnl + adj[name]
        fee_all = fees[name].copy()
        fee_all[start] -= main_fee
        slip_all = slip[name].copy()
        slip_all[start] -= main_slip
        fund_all = fnd[name] + main_fund
        equity = p.capital + np.cumsum(pnl + fee_all + slip_all + fund_all)
        equity[:start] = p.capital
        runs[name] = StrategyRun(
            name, equity, pnl, fee_all, slip_all, fund_all, fees[name], slip[name], fnd[name],
            turn[name], h_mid, b.trades, b.liqs, b.decisions,
            p.capital + b.peak_hedge_margin)
    return BacktestResult(snap, p, start, size, entry, main_liq, liq_at, series, runs, notes,
                          warnings)


def _main_path(T: int, start: int, signed: float, entry: float, margin: float,
               pc: FloatArray, po: FloatArray, fund: FloatArray, liq_at: int | None
               ) -> tuple[FloatArray, FloatArray]:
    """Price P&L and funding of the main position per bar (its liquidation included)."""
    pnl = np.zeros(T)
    end = T if liq_at is None else liq_at + 1
    marks = pc[start:end]
    pnl[start:end] = signed * np.diff(np.concatenate([[entry], marks]))
    funding = np.zeros(T)
    # funding at the start bar's open falls before the main is opened
    funding[start + 1:end] = -signed * po[start + 1:end] * fund[start + 1:end]
    if liq_at is not None:
        pnl[liq_at] += -margin - signed * (pc[liq_at] - entry)
    return pnl, funding


def _holdings(T: int, N: int, events: list[tuple[int, int, float]]
              ) -> tuple[FloatArray, FloatArray]:
    """Hedge sizes held over each bar (after its open's fills) and after its close."""
    seq = np.full((2 * T, N), np.nan)
    for k, j, v in events:
        seq[k, j] = v
    ok = np.isfinite(seq)
    idx = np.where(ok, np.arange(2 * T)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = np.where(idx >= 0, seq[np.maximum(idx, 0), np.arange(N)], 0.0)
    return out[0::2], out[1::2]


def decision_bars(result: BacktestResult) -> IntArray:
    """Bar indexes where any strategy traded (for charts and tests)."""
    ts = sorted({t for r in result.runs.values() for t, _, traded in r.decisions if traded})
    return np.array(ts, dtype=np.int64)
