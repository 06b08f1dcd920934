"""Liquidation risk of many isolated positions at once, as arrays: the vectorised twin of
``core.risk.risk_report`` (the same numbers, checked position by position in the tests), for
the engine's 10,000 positions a cycle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.liquidation import DEFAULT_MMR, TierTable, isolated_liquidation_price
from core.risk import distance_pct, leverage_for_distance, log_distance
from core.risk_models import move_for_distance, touch_numbers
from core.tail_risk import TailFit
from core.types import BoolArray, FloatArray, IntArray
from core.types import as_floats as _f


@dataclass(frozen=True, eq=False)
class RiskArrays:
    """``risk_many`` output: one entry per position, NaN where unavailable."""

    liquidation_price: FloatArray  # 0.0: a long that cannot be liquidated
    distance_pct: FloatArray
    distance_sigma_1h: FloatArray
    distance_sigma_24h: FloatArray
    touch_prob_1h: FloatArray  # the calibrated tail model (module docstring)
    touch_prob_4h: FloatArray
    touch_prob_24h: FloatArray
    touch_prob_1h_gaussian: FloatArray
    touch_prob_4h_gaussian: FloatArray
    touch_prob_24h_gaussian: FloatArray
    safe_leverage: FloatArray
    safe_leverage_gaussian: FloatArray
    safe_distance_pct: FloatArray  # the adverse move the 24 h target needs, % of mark
    calibrated: BoolArray  # False where the Gaussian stood in for the tail model
    mmr: FloatArray
    tier: IntArray  # -1 where no tier table was used
    unrealised_pnl: FloatArray


def risk_many(entry: npt.ArrayLike, size: npt.ArrayLike, sign: npt.ArrayLike,
              margin: npt.ArrayLike, mark: npt.ArrayLike, sigma_per_bar: npt.ArrayLike,
              bars_per_hour: npt.ArrayLike, *, symbol_idx: npt.ArrayLike | None = None,
              mmr: npt.ArrayLike | None = None, tiers: TierTable | None = None,
              contract_value: npt.ArrayLike = 1.0, fee: npt.ArrayLike = 0.0005,
              max_leverage: npt.ArrayLike = 100.0, target_prob: float = 0.01,
              drift_per_bar: npt.ArrayLike = 0.0,
              liquidation: npt.ArrayLike | None = None,
              tails: TailFit | None = None) -> RiskArrays:
    """Risk of many isolated positions at once (OKX formula).

    Position arrays: ``entry``, ``size`` (base units), ``sign`` (±1), ``margin``. Market
    arrays ``mark``, ``sigma_per_bar``, ``bars_per_hour``, ``contract_value``, ``fee``,
    ``max_leverage``, ``drift_per_bar`` are per position, or per symbol when ``symbol_idx``
    (each position's symbol row) is given. The mmr comes from ``mmr`` (per position), else
    from ``tiers`` (contract-unit ``TierTable``, row = symbol), else ``DEFAULT_MMR``.
    ``liquidation`` (per position, NaN where not given) replaces the OKX formula's price for
    positions priced another way — e.g. Binance brackets via ``binance_liquidation_price``.
    ``tails`` (one row per symbol, in ``symbol_idx`` order; one row when positions are not
    indexed) gives the calibrated numbers; without it they are the Gaussian's.
    """
    e, n, s, m = (_f(x) for x in (entry, size, sign, margin))

    def per_pos(x: npt.ArrayLike) -> FloatArray:
        a = _f(x)
        return a[np.asarray(symbol_idx)] if symbol_idx is not None and a.ndim else a

    px, sig, bph = per_pos(mark), per_pos(sigma_per_bar), per_pos(bars_per_hour)
    fee_, cap, drift = per_pos(fee), per_pos(max_leverage), per_pos(drift_per_bar)
    tier = np.full(e.shape, -1, dtype=np.int64)
    if mmr is not None:
        rate = np.broadcast_to(_f(mmr), e.shape)
    elif tiers is not None:
        if tiers.unit != "contracts":
            raise ValueError("risk_many uses the OKX formula: tiers must be in contracts")
        rows = np.zeros(e.shape, np.int64) if symbol_idx is None else np.asarray(symbol_idx)
        amount = np.round(n / per_pos(contract_value), 8)
        col = tiers.lookup(rows, amount)
        rate = tiers.mmr[rows, col]
        tier = tiers.tier[rows, col]
        cap = np.minimum(cap, tiers.max_leverage[rows, col])
    else:
        rate = np.full(e.shape, DEFAULT_MMR)
    liq = isolated_liquidation_price(e, n, s, m, rate, fee_)
    if liquidation is not None:
        given = np.broadcast_to(_f(liquidation), liq.shape)
        liq = np.where(np.isfinite(given), given, liq)
    dlog = log_distance(px, liq, s)
    tail_rows = None if symbol_idx is None else np.asarray(symbol_idx)
    tn = touch_numbers(dlog, s, sig, bph, tails=tails, rows=tail_rows, target_prob=target_prob,
                       drift_per_bar=drift)
    lev = leverage_for_distance(tn.safe_distance, s, rate, fee_, cap)
    lev_g = leverage_for_distance(tn.safe_distance_gaussian, s, rate, fee_, cap)
    sig_h = {h: sig * np.sqrt(bph * h) for h in (1, 24)}
    return RiskArrays(
        liquidation_price=liq,
        distance_pct=distance_pct(px, liq, s),
        distance_sigma_1h=dlog / sig_h[1],
        distance_sigma_24h=dlog / sig_h[24],
        touch_prob_1h=tn.touch[1],
        touch_prob_4h=tn.touch[4],
        touch_prob_24h=tn.touch[24],
        touch_prob_1h_gaussian=tn.gaussian[1],
        touch_prob_4h_gaussian=tn.gaussian[4],
        touch_prob_24h_gaussian=tn.gaussian[24],
        safe_leverage=np.where(np.isnan(sig) & ~tn.calibrated, np.nan, lev),
        safe_leverage_gaussian=np.where(np.isnan(sig), np.nan, lev_g),
        safe_distance_pct=move_for_distance(tn.safe_distance, s) * 100.0,
        calibrated=tn.calibrated,
        mmr=np.asarray(rate, dtype=np.float64),
        tier=tier,
        unrealised_pnl=s * n * (px - e),
    )
