"""Liquidation prices judged on a whole margin account, and Bybit's isolated formula.

Vectorised like ``core.liquidation``: scalars or arrays that broadcast; ``n`` sizes in base
units (positive), ``sign`` +1 long / −1 short.

Account level. A cross position shares the account's collateral: the account is liquidated
when its equity falls to its maintenance margin. Moving one position's price from its mark to P
with everything else held, equity changes by ``s·N·(P − mark)`` and the maintenance margin by
``N·k·(P − mark)`` (``k`` = that position's maintenance rate plus the fee to close it), so

    P = mark − s·(equity − maintenance) / (N·(1 − s·k))

This is OKX's cross formula (``core.liquidation.cross_liquidation_price``) written with the
account's own totals, which is what OKX multi-currency and portfolio margin (``adjEq``,
``mmr``) and Bybit's unified account (``totalEquity``, ``totalMaintenanceMargin``) report.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from core.types import FloatArray
from core.types import as_floats as _f


def account_liquidation_price(equity: npt.ArrayLike, maintenance: npt.ArrayLike,
                              mark: npt.ArrayLike, n: npt.ArrayLike, sign: npt.ArrayLike,
                              k: npt.ArrayLike) -> FloatArray:
    """Where the account's equity meets its maintenance margin as this position's price moves
    (module docstring). NaN where the account is already below its maintenance margin; 0.0
    for a long the account can carry to a price of zero."""
    e, mm, m, nn, s, kk = (_f(x) for x in (equity, maintenance, mark, n, sign, k))
    px = m - s * (e - mm) / (nn * (1.0 - s * kk))
    return np.where(e < mm, np.nan, np.maximum(px, 0.0))


def bybit_isolated_liquidation_price(entry: npt.ArrayLike, n: npt.ArrayLike,
                                     sign: npt.ArrayLike, margin: npt.ArrayLike,
                                     mmr: npt.ArrayLike, deduction: npt.ArrayLike = 0.0
                                     ) -> FloatArray:
    """Bybit's isolated USDT-perpetual liquidation price (its "Liquidation Price" help page):

        long  = entry − (margin − MM) / N        short = entry + (margin − MM) / N
        MM    = N × entry × mmr − deduction       (the risk-limit tier's rate and deduction)

    with ``margin`` the position's margin (initial margin plus any added). 0.0 for a long
    whose margin covers it to zero."""
    e, nn, s, mg = _f(entry), _f(n), _f(sign), _f(margin)
    mm = nn * e * _f(mmr) - _f(deduction)
    return np.maximum(e - s * (mg - mm) / nn, 0.0)
