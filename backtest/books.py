"""One strategy's account within one start: entries, funding, fills, deposits, liquidations.

**Cash and collateral.** ``cash`` is everything in the account that is not unrealised P&L:
deposits, realised P&L, fees, slippage and funding. Equity is ``cash + Σ n·(price − entry)``.
The trader deposits ``capital`` at each entry (less whatever the account still holds), and at
each hedge fill exactly what the exchange asks for to place it: in a cross account, enough
that equity covers the initial margin of everything held (main at its leverage, hedges at
theirs, at the fill prices) plus the fill's fee and slippage; in isolated mode, enough free
cash (cash less the isolated margins held) for the new legs' margins plus their costs. The
sum of deposits is the strategy's **total collateral**, and returns are measured on it.

**Liquidation.** Cross: the whole account, when equity meets the maintenance margin
(``backtest.account.cross_breach``); every position is closed and the equity that was left
is lost — OKX's full liquidation for tier 1–2 positions, at the bankruptcy price, with the
remainder to the insurance fund (partial liquidation only applies from tier 3, far above
these sizes). Isolated: a leg whose price is crossed loses exactly its margin; a main leg's
liquidation closes the rest of the book and its hedges at that bar's close (fees and
slippage). After a liquidation the account re-enters ``reentry`` bars later, or never.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backtest.account import CHUNK, cross_breach, fill_cost, leg_crossing
from backtest.margin import leg_liquidation_price
from backtest.records import Context, LiquidationEvent, Trade, holdings
from core.types import FloatArray, Position
from plugins.strategies.asking import ask
from plugins.strategies.base import BarView, Strategy, TargetLeg
from plugins.strategies.rebalance import rebalance

SIZE, ENTRY, MARGIN, LIQ = range(4)  # fields of a held leg: [signed size, entry, margin, liq]


class Book:
    """One strategy's account over ``[start, stop)``; arrays are indexed by ``t − start``."""

    def __init__(self, name: str, strategy: Strategy, ctx: Context) -> None:
        self.name, self.strategy, self.ctx = name, strategy, ctx
        self._pm, self._threshold, self._keep = ctx.pm, ctx.threshold, ctx.keep
        h = ctx.stop - ctx.start
        self.cash = self.deposited = 0.0
        self.first_life: float | None = None
        self.main: dict[int, list[float]] = {}
        self.hedge: dict[int, list[float]] = {}
        self.position: Position | None = None
        self.legs: tuple[TargetLeg, ...] = ()
        self.pending: tuple[TargetLeg, ...] | None = None
        self.reason = ""
        self.state: Any = None
        self.alive = False
        self.reenter: int | None = None
        self.next = ctx.stop
        self.failed: str | None = None
        self.lives = self.liquidations = self.hedge_liquidations = self.n_trades = 0
        self.fees, self.slip, self.fund, self.adj, self.dep, self.turn = (
            np.zeros(h) for _ in range(6))
        self.h_fees, self.h_slip, self.h_fund = (np.zeros(h) for _ in range(3))
        self.events: list[tuple[int, int, float]] = []  # (2(t−start) [+1 at the close], j, net)
        self.trades: list[Trade] = []
        self.liqs: list[LiquidationEvent] = []
        self.decisions: list[tuple[int, tuple[TargetLeg, ...], bool]] = []

    # --- the account ---------------------------------------------------------------------

    def _net(self, j: int) -> float:
        return (self.main[j][SIZE] if j in self.main else 0.0) + \
            (self.hedge[j][SIZE] if j in self.hedge else 0.0)

    def _mark(self, k: int, j: int) -> None:
        self.events.append((k, j, self._net(j)))

    def _deposit(self, i: int, amount: float) -> None:
        if amount > 0:
            self.cash += amount
            self.deposited += amount
            self.dep[i] += amount

    def enter(self, t: int) -> bool:
        """Open the main book at bar ``t``'s open; False (and retry next bar) without prices."""
        c, m = self.ctx, self.ctx.m
        opens = [float(m.snap.open[t, j]) for j in m.main_cols]
        if not all(o > 0 for o in opens) or not m.snap.open[t, m.target] > 0:
            self.reenter = t + 1 if t + 1 < c.stop else None
            return False
        i, sign, notional = t - c.start, m.book.sign, c.capital * c.leverage
        free = self.cash - sum(v[MARGIN] for v in self.hedge.values())
        self._deposit(i, c.capital - free)
        for (_, w), j, o in zip(m.book.legs, m.main_cols, opens, strict=True):
            n = sign * notional * w / o
            f, s = fill_cost(m, j, t, n * o)
            self.cash -= f + s
            self.fees[i] -= f
            self.slip[i] -= s
            margin = c.capital * w
            liq = leg_liquidation_price(m.insts[j], n, o, margin, m.fees[j])
            self.main[j] = [n, o, margin, liq]
            self._mark(2 * i, j)
        self.position = c.position_at(t)
        self.alive, self.reenter, self.state, self.legs, self.pending = True, None, None, (), None
        self.lives += 1
        self.next = t
        return True

    def pay_funding(self, t: int) -> None:
        m, i = self.ctx.m, t - self.ctx.start
        for book, hedge in ((self.main, False), (self.hedge, True)):
            for j, v in book.items():
                r = m.fund[t, j]
                if r:
                    cash = -v[SIZE] * float(m.po[t, j]) * r
                    self.cash += cash
                    self.fund[i] += cash
                    if hedge:
                        self.h_fund[i] += cash

    def fill(self, t: int) -> None:
        """Trade the pending legs at bar ``t``'s open (a symbol without an open is skipped:
        the next decision re-issues it)."""
        c, m = self.ctx, self.ctx.m
        want: dict[int, float] = {}
        for leg in self.pending or ():
            j = c.index[leg.symbol]
            want[j] = want.get(j, 0.0) + leg.signed()
        self.pending = None
        i, costs, new_margin, traded = t - c.start, 0.0, 0.0, False
        for j in sorted(set(want) | set(self.hedge)):
            have = self.hedge[j][SIZE] if j in self.hedge else 0.0
            new = want.get(j, 0.0)
            price = float(m.snap.open[t, j])
            if new == have or not price > 0:
                continue
            traded = True
            self.n_trades += 1
            if have:
                self.cash += have * (price - self.hedge.pop(j)[ENTRY])  # closed at the fill
            f, s = fill_cost(m, j, t, (new - have) * price)
            costs += f + s
            self.fees[i] -= f
            self.slip[i] -= s
            self.h_fees[i] -= f
            self.h_slip[i] -= s
            self.turn[i] += abs(new - have) * price
            if new:
                margin = abs(new) * price / c.hedge_leverage
                liq = 0.0 if c.cross else leg_liquidation_price(m.insts[j], new, price, margin,
                                                                m.fees[j])
                self.hedge[j] = [new, price, margin, liq]
                new_margin += margin
            self._mark(2 * i, j)
            if c.keep:
                self.trades.append(Trade(t, m.snap.symbols[j], new - have, price, f, s,
                                         self.reason))
        if not traded:
            return
        if c.cross:
            po = m.po[t]
            held = [*self.main.items(), *self.hedge.items()]
            equity = self.cash + sum(v[SIZE] * (float(po[j]) - v[ENTRY]) for j, v in held)
            im = sum(abs(v[SIZE]) * float(po[j]) for j, v in self.main.items()) / c.leverage \
                + sum(abs(v[SIZE]) * float(po[j]) for j, v in self.hedge.items()) \
                / c.hedge_leverage
            self._deposit(i, im + costs - equity)
        else:
            locked = sum(v[MARGIN] for v in (*self.main.values(), *self.hedge.values()))
            self._deposit(i, locked + costs - self.cash)  # free cash ≥ new margins + costs
        self.cash -= costs
        self.legs = tuple(TargetLeg(m.snap.symbols[j], "long" if v[SIZE] > 0 else "short",
                                    abs(v[SIZE])) for j, v in sorted(self.hedge.items()))
        self.next = t

    def check(self, t: int) -> None:
        """Liquidations in bar ``t`` (called when ``t`` reaches ``self.next``)."""
        c, m = self.ctx, self.ctx.m
        end = min(c.stop, t + CHUNK)
        if c.cross:
            legs = [(j, v[SIZE], v[ENTRY]) for j, v in (*self.main.items(), *self.hedge.items())]
            u = cross_breach(m, self.cash, legs, t, end)
            if u == t:
                self._liquidate_account(t)
            else:
                self.next = end if u is None else u
            return
        main = {j: leg_crossing(m, j, v[SIZE], v[LIQ], t, end) for j, v in self.main.items()}
        if t in main.values():
            self._liquidate_main(t, [j for j, u in main.items() if u == t])
            return
        hedge = {j: leg_crossing(m, j, v[SIZE], v[LIQ], t, end) for j, v in self.hedge.items()}
        for j in [j for j, u in hedge.items() if u == t]:
            self._liquidate_leg(t, j)
        self.next = min([u for u in (*main.values(), *hedge.values())
                         if u is not None and u > t] + [end])

    def _liquidate_account(self, t: int) -> None:
        m, i = self.ctx.m, t - self.ctx.start
        held = [*self.main.items(), *self.hedge.items()]
        equity = self.cash + sum(v[SIZE] * (float(m.pc[t, j]) - v[ENTRY]) for j, v in held)
        self.adj[i] -= equity  # the account is left with nothing
        self.cash = 0.0
        cols = sorted({j for j, _ in held})
        self.main.clear()
        self.hedge.clear()
        for j in cols:
            self._mark(2 * i + 1, j)
        self.liqs.append(LiquidationEvent(t, "account", m.book.side, float("nan"), equity, True))
        self.liquidations += 1
        self._die(t)

    def _liquidate_leg(self, t: int, j: int) -> None:
        m, i = self.ctx.m, t - self.ctx.start
        v = self.hedge.pop(j)
        self.cash -= v[MARGIN]
        self.adj[i] -= v[MARGIN] + v[SIZE] * (float(m.pc[t, j]) - v[ENTRY])
        self._mark(2 * i + 1, j)
        self.liqs.append(LiquidationEvent(t, m.snap.symbols[j], "long" if v[SIZE] > 0 else
                                          "short", v[LIQ], v[MARGIN], False))
        self.hedge_liquidations += 1
        self.legs = tuple(x for x in self.legs if x.symbol != m.snap.symbols[j])

    def _liquidate_main(self, t: int, gone: list[int]) -> None:
        c, m, i = self.ctx, self.ctx.m, t - self.ctx.start
        for j in gone:
            v = self.main.pop(j)
            self.cash -= v[MARGIN]
            self.adj[i] -= v[MARGIN] + v[SIZE] * (float(m.pc[t, j]) - v[ENTRY])
            self._mark(2 * i + 1, j)
            self.liqs.append(LiquidationEvent(t, m.snap.symbols[j], m.book.side, v[LIQ],
                                              v[MARGIN], True))
        for book, hedge in ((self.main, False), (self.hedge, True)):  # the rest at the close
            for j in list(book):
                v = book.pop(j)
                px = float(m.pc[t, j])
                f, s = fill_cost(m, j, t, v[SIZE] * px)
                self.cash += v[SIZE] * (px - v[ENTRY]) - f - s
                self.fees[i] -= f
                self.slip[i] -= s
                if hedge:
                    self.h_fees[i] -= f
                    self.h_slip[i] -= s
                self._mark(2 * i + 1, j)
                if c.keep and hedge:
                    self.trades.append(Trade(t, m.snap.symbols[j], -v[SIZE], px, f, s,
                                             "main position liquidated: hedges closed"))
        self.liquidations += 1
        self._die(t)

    def _die(self, t: int) -> None:
        c = self.ctx
        self.alive, self.position, self.legs, self.pending, self.state = False, None, (), None, None
        if self.first_life is None:
            self.first_life = self.deposited
        self.next = c.stop
        due = t + c.reentry if c.reentry is not None else c.stop
        self.reenter = due if due < c.stop else None

    # --- the strategy --------------------------------------------------------------------

    def decide(self, t: int, view: BarView) -> None:
        """Ask the strategy at bar ``t``'s close; a trade is filled at the next open."""
        answer = ask(self.strategy, view, self.state, self._pm, where="a backtest bar")
        d = answer.decision
        if d is None:
            self.failed = f"{answer.warning} (at bar {t})"
            self.alive, self.reenter = False, None
            return
        self.state = d.state
        if d.legs == self.legs:  # holding exactly the target: the policy would not trade
            legs, traded = self.legs, False
        else:
            legs, traded = rebalance(self.legs, d.legs, view.prices, view.notional(),
                                     self._threshold)
        if self._keep:
            self.decisions.append((t, legs, traded))
        if traded:
            self.pending, self.reason = legs, str(d.reason)  # the reader's language

    # --- after the loop ------------------------------------------------------------------

    def equity(self) -> tuple[FloatArray, FloatArray]:
        """Equity and cumulative deposits after each bar's close, marked to the close."""
        c, m = self.ctx, self.ctx.m
        s, e = c.start, c.stop
        h_mid, h_end = holdings(e - s, m.snap.n_symbols, self.events)
        po, pc = m.po[s:e], m.pc[s:e]
        prev = np.vstack([np.zeros((1, h_end.shape[1])), h_end[:-1]])
        prev_close = np.vstack([po[:1], pc[:-1]])
        with np.errstate(invalid="ignore"):
            pnl = (np.where(prev != 0, prev * (po - prev_close), 0.0)
                   + np.where(h_mid != 0, h_mid * (pc - po), 0.0)).sum(axis=1)
        flows = self.fees + self.slip + self.fund + self.adj + self.dep
        return np.cumsum(pnl + flows), np.cumsum(self.dep)

    def held_mark(self, t: int) -> float:
        """Equity at bar ``t``'s close from the account's own state (a cross-check)."""
        m = self.ctx.m
        return self.cash + sum(v[SIZE] * (float(m.pc[t, j]) - v[ENTRY])
                               for j, v in (*self.main.items(), *self.hedge.items()))


__all__ = ["Book"]
