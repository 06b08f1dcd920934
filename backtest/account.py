"""The account's arithmetic over bars, vectorised: when a cross account meets its maintenance
margin, when an isolated leg is liquidated, and what a fill costs.

Holdings only change at fills, so between two fills the account's equity is known in advance
bar by bar: ``cash + Σ n·(price − entry) + funding still to come``. The engine therefore asks
"when would these holdings be liquidated?" once per change, over a look-ahead window of
``CHUNK`` bars, instead of checking every bar in Python. The answer uses prices *of* each bar
only to check that bar (the check needs the bar's range), never to decide anything.

**Cross scenarios.** Within a bar we only know each symbol's low and high, not when they
happened. The account is checked at three points per bar: every symbol at its close
(simultaneous, real prices), every symbol at its low together, every symbol at its high
together. Lows-together is the cascade assumption — correlated coins bottom in the same
minutes — under which a short hedge's gain at the low offsets the main's loss; a hedge that
spikes while the main falls within one 15-minute bar is not seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backtest.costs import fee as taker_fee
from backtest.costs import slippage_rate
from backtest.margin import maintenance
from backtest.prepared import Prepared

CHUNK = 384  # bars one liquidation search looks ahead (4 days of 15m bars)


def cross_breach(m: Prepared, cash: float, legs: Sequence[tuple[int, float, float]], a: int,
                 end: int) -> int | None:
    """First bar in ``[a, end)`` at which a cross account holding ``legs`` — (column, signed
    size, entry) — from bar ``a`` on, with ``cash`` after bar ``a``'s funding and fills, has
    equity at or below its maintenance margin in any scenario; None if none does.

    Funding at later bars is paid from the account as it falls due (on the open of the bar).
    Positions in the same symbol are netted for the maintenance margin (one-way mode).
    """
    if end <= a or not legs:
        return None
    funding = np.zeros(end - a)
    scen = {"close": np.full(end - a, cash), "low": np.full(end - a, cash),
            "high": np.full(end - a, cash)}
    net: dict[int, float] = {}
    for j, n, e in legs:
        net[j] = net.get(j, 0.0) + n
        scen["close"] += n * (m.pc[a:end, j] - e)
        scen["low"] += n * (m.low_x[a:end, j] - e)
        scen["high"] += n * (m.high_x[a:end, j] - e)
        if m.fund_bar[a + 1:end].any():
            funding -= n * m.po[a:end, j] * m.fund[a:end, j]
    funding[0] = 0.0  # bar a's funding is in ``cash`` already
    flows = np.cumsum(funding)
    hit = np.zeros(end - a, dtype=bool)
    for name, px in (("close", m.pc), ("low", m.low_x), ("high", m.high_x)):
        mm = np.zeros(end - a)
        for j, n in net.items():
            if n:
                mm += maintenance(m.mm[j], abs(n), px[a:end, j], m.fees[j])
        with np.errstate(invalid="ignore"):
            hit |= scen[name] + flows <= mm
    idx = np.flatnonzero(hit)
    return a + int(idx[0]) if idx.size else None


def leg_crossing(m: Prepared, j: int, signed: float, liq: float, a: int, end: int
                 ) -> int | None:
    """First bar in ``[a, end)`` whose liquidation range reaches an isolated leg's price."""
    with np.errstate(invalid="ignore"):
        hit = m.low[a:end, j] <= liq if signed > 0 else m.high[a:end, j] >= liq
    idx = np.flatnonzero(hit)
    return a + int(idx[0]) if idx.size else None


def fill_cost(m: Prepared, j: int, t: int, notional: float) -> tuple[float, float]:
    """Taker fee and slippage (USDT, both ≥ 0) of a fill of ``notional`` in column ``j`` at
    bar ``t``'s open (see ``backtest.costs``)."""
    notional = abs(notional)
    slip = slippage_rate(float(m.sigma[t, j]), notional, float(m.volnot[t, j]), m.costs)
    return taker_fee(notional, m.fees[j]), slip * notional
