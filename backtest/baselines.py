"""The unhedged account, vectorised: the baselines every hedge is measured against.

Two baselines per start: ``none`` at the main leverage (what the trader would do without a
hedge) and ``matched`` — the same main notional, unhedged, with the same total collateral a
hedged strategy was given in its first life, all of it deposited at the start (so the
leverage is ``notional / collateral``). A hedge at 10x is partly just less exposure per
dollar in the account; it has to beat that to be worth its cost. Giving the matched account
all of its collateral up front (the hedged one receives it as hedges are opened) favours
the baseline slightly, which is the conservative side for a claim that hedging helps.

The model is the engine's (``backtest.books``) for a strategy that never hedges, computed
life by life with array operations instead of a bar loop; ``tests/backtest/test_baselines.py``
checks it against the engine's ``none`` strategy bar for bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backtest.account import cross_breach, fill_cost, leg_crossing
from backtest.margin import leg_liquidation_price
from backtest.prepared import Prepared
from core.types import FloatArray


@dataclass(frozen=True, eq=False)
class Path:
    """An account's equity and cumulative deposits after each bar's close, and its
    liquidation bars."""

    equity: FloatArray
    deposits: FloatArray
    liquidated: tuple[int, ...]
    first_life_collateral: float


def unhedged(m: Prepared, start: int, stop: int, capital: float, leverage: float, *,
             cross: bool, reentry: int | None) -> Path:
    """The main book alone, ``capital`` deposited at each entry, notional ``capital ·
    leverage``, over ``[start, stop)``."""
    h = stop - start
    equity = np.zeros(h)
    dep = np.zeros(h)
    liquidated: list[int] = []
    first_life: float | None = None
    cash, deposited, a = 0.0, 0.0, start
    notional, sign = capital * leverage, m.book.sign
    while a < stop:
        opens = [float(m.snap.open[a, j]) for j in m.main_cols]
        if not all(o > 0 for o in opens) or not m.snap.open[a, m.target] > 0:
            equity[a - start] = cash
            a += 1
            continue
        add = max(0.0, capital - cash)
        cash += add
        deposited += add
        dep[a - start] += add
        legs = []
        for (_, w), j, o in zip(m.book.legs, m.main_cols, opens, strict=True):
            n = sign * notional * w / o
            f, s = fill_cost(m, j, a, n * o)
            cash -= f + s
            legs.append((j, n, o, capital * w))
        if cross:
            end = cross_breach(m, cash, [(j, n, e) for j, n, e, _ in legs], a, stop)
            gone = [j for j, *_ in legs]
        else:
            due = {j: leg_crossing(m, j, n, leg_liquidation_price(m.insts[j], n, e, mg,
                                                                  m.fees[j]), a, stop)
                   for j, n, e, mg in legs}
            hits = [u for u in due.values() if u is not None]
            end = min(hits) if hits else None
            gone = [j for j, u in due.items() if u == end]
        last = stop - 1 if end is None else end
        span = slice(a, last + 1)
        flows = np.zeros(last + 1 - a)
        value = np.full(last + 1 - a, cash)
        for j, n, e, _ in legs:
            flows -= n * m.po[span, j] * m.fund[span, j]
            value += n * (m.pc[span, j] - e)
        flows[0] = 0.0  # funding at the entry bar falls before the main is opened
        value += np.cumsum(flows)
        equity[a - start:last + 1 - start] = value
        if end is None:
            break
        cash += float(np.sum(flows))
        if cross:
            cash = 0.0
        else:
            for j, n, e, mg in legs:
                if j in gone:
                    cash -= mg
                else:
                    px = float(m.pc[end, j])
                    f, s = fill_cost(m, j, end, n * px)
                    cash += n * (px - e) - f - s
        equity[end - start] = cash
        liquidated.append(end)
        if first_life is None:
            first_life = deposited
        if reentry is None or end + reentry >= stop:
            equity[end - start:] = cash
            break
        equity[end - start:end + reentry - start] = cash
        a = end + reentry
    return Path(equity, np.cumsum(dep), tuple(liquidated),
                first_life if first_life is not None else deposited)
