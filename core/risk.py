"""Distance to liquidation, touch probabilities and safe leverage, one position or many.

Conventions:

* ``distance_pct`` is the adverse move from mark to the liquidation price in percent of mark
  (9.6 means 9.6 %); negative once the mark is past the liquidation price.
* Distances in σ use the *log* distance |ln(liq / mark)| divided by σ_h = σ_bar · √(bars in
  the horizon), the scale on which the touch probabilities are computed.
* Touch probabilities are fractions (0–1) of the price touching the liquidation price within
  the horizon, not only ending beyond it: ``touch_prob_*`` from the calibrated tail model
  (``core.tail_risk``; the Gaussian stands in where a symbol has too little history) and
  ``touch_prob_*_gaussian`` from the Gaussian first passage (``core.touch``), for comparison.
* Safe leverage is the highest leverage for a *new* position at the current mark, same side
  and size (so same tier), whose 24 h touch probability is at most ``target_prob``; capped at
  the instrument's and the tier's maximum leverage. ``safe_distance_pct`` is the adverse move
  to the liquidation price that target needs (what "add margin" advice aims for).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from core.liquidation import (
    DEFAULT_MMR,
    liquidation,
    tier_amount,
)
from core.risk_models import REPORTED_H, move_for_distance, touch_numbers
from core.tail_risk import TailFit
from core.touch import required_log_distance
from core.types import FloatArray, Instrument, Position
from core.types import as_floats as _f
from core.types import finite_or_none as _num
from i18n import L_, Msg

HORIZONS_H = REPORTED_H
MIN_RETURNS_FOR_VOL = 20
"""Fewer log returns than this and the EWMA volatility is reported as unavailable."""



def ewma_sigma(closes: npt.ArrayLike, halflife_bars: float) -> float:
    """EWMA σ of log close-to-close returns per bar (zero mean, RiskMetrics style).

    NaN with fewer than ``MIN_RETURNS_FOR_VOL`` finite returns.
    """
    c = _f(closes)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(c))
    r = r[np.isfinite(r)]
    if r.size < MIN_RETURNS_FOR_VOL:
        return float("nan")
    lam = 0.5 ** (1.0 / halflife_bars)
    w = lam ** np.arange(r.size - 1, -1, -1, dtype=np.float64)
    return float(np.sqrt(np.sum(w * r * r) / np.sum(w)))


# --------------------------------------------------------------------------- kernels


def distance_pct(mark: npt.ArrayLike, liq: npt.ArrayLike, sign: npt.ArrayLike) -> FloatArray:
    """Adverse distance to liquidation in percent of mark (negative when already past)."""
    m = _f(mark)
    return _f(sign) * (m - _f(liq)) / m * 100.0


def log_distance(mark: npt.ArrayLike, liq: npt.ArrayLike, sign: npt.ArrayLike) -> FloatArray:
    """Adverse log distance sign·ln(mark / liq); +inf for a long that cannot be liquidated."""
    with np.errstate(divide="ignore"):
        d: FloatArray = _f(sign) * (np.log(_f(mark)) - np.log(_f(liq)))
    return d


def leverage_for_distance(d_req: npt.ArrayLike, sign: npt.ArrayLike, mmr: npt.ArrayLike,
                          fee: npt.ArrayLike, max_leverage: npt.ArrayLike,
                          cum_frac: npt.ArrayLike = 0.0) -> FloatArray:
    """Highest leverage for a new isolated position at the mark whose liquidation price is
    at least the log distance ``d_req`` away, capped at ``max_leverage``.

    Opened at mark P with margin P·N/L, the isolated liquidation price is
    P·(1 − s/L − s·c)/(1 − s·k), k = mmr + fee, c = cum / notional (Binance; 0 on OKX).
    Requiring |ln(liq/P)| ≥ d gives, in closed form,

        long  1/L ≥ 1 − c − (1 − k)·e^(−d)        short  1/L ≥ (1 + k)·e^(d) − 1 − c

    A non-positive bound means any leverage is safe: the result is the cap. NaN where
    ``d_req`` is NaN.
    """
    s = _f(sign)
    d = _f(d_req)
    k = _f(mmr) + _f(fee)
    c = _f(cum_frac)
    with np.errstate(over="ignore", invalid="ignore"):
        inv = np.where(s > 0, 1.0 - c - (1.0 - k) * np.exp(-d), (1.0 + k) * np.exp(d) - 1.0 - c)
    cap = _f(max_leverage)
    with np.errstate(divide="ignore"):
        lev = np.where(inv > 0, 1.0 / np.where(inv > 0, inv, 1.0), np.inf)
    return np.where(np.isnan(d), np.nan, np.minimum(lev, cap))


def safe_leverage(sigma_per_bar: npt.ArrayLike, bars: npt.ArrayLike, sign: npt.ArrayLike,
                  mmr: npt.ArrayLike, fee: npt.ArrayLike, max_leverage: npt.ArrayLike, *,
                  target_prob: float = 0.01, drift_per_bar: npt.ArrayLike = 0.0,
                  cum_frac: npt.ArrayLike = 0.0) -> FloatArray:
    """Highest leverage whose Gaussian touch probability over ``bars`` stays ≤
    ``target_prob`` (``leverage_for_distance`` of the Gaussian's required distance). NaN
    where σ is."""
    s = _f(sign)
    sig = _f(sigma_per_bar)
    nu = -s * _f(drift_per_bar)
    sigma_h = sig * np.sqrt(_f(bars))
    d_req = required_log_distance(target_prob, sigma_h, nu * _f(bars))
    lev = leverage_for_distance(d_req, s, mmr, fee, max_leverage, cum_frac)
    return np.where(np.isnan(sig), np.nan, lev)


# --------------------------------------------------------------------------- one position


@dataclass(frozen=True)
class RiskReport:
    """One position's liquidation risk, JSON-ready through ``to_dict`` (None, never NaN).
    ``touch_prob_*`` are the calibrated tail model's (``risk_model`` says "tail", or
    "gaussian" where the symbol had too little history), ``touch_prob_*_gaussian`` the
    Gaussian first passage's."""

    symbol: str
    side: str
    mark: float
    liquidation_price: float | None
    distance_pct: float | None
    distance_sigma_1h: float | None
    distance_sigma_24h: float | None
    touch_prob_1h: float | None
    touch_prob_4h: float | None
    touch_prob_24h: float | None
    touch_prob_1h_gaussian: float | None
    touch_prob_4h_gaussian: float | None
    touch_prob_24h_gaussian: float | None
    safe_leverage: float | None
    safe_leverage_gaussian: float | None
    safe_distance_pct: float | None
    risk_model: str
    mmr: float
    tier: int | None
    fee: float
    margin: float
    unrealised_pnl: float
    warnings: tuple[str | Msg, ...] = field(default_factory=tuple)  # rendered when shown

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the warnings in the language of the moment (keys stay English)."""
        d = asdict(self)
        d["warnings"] = [str(w) for w in self.warnings]
        return d


def _margin_warnings(position: Position, liquidation_price: float | None,
                     cross_note: str | Msg | None) -> list[str | Msg]:
    if liquidation_price is not None:
        out: list[str | Msg] = []
        if math.isnan(liquidation_price):
            out.append(L_("account equity is below its total maintenance margin: liquidation "
                          "is under way"))
        if position.margin_mode == "cross":
            out.append(cross_note or L_("cross margin: liquidation estimated from the "
                                        "account's equity with every other position held at "
                                        "its mark"))
        return out
    if position.margin_mode == "cross":
        return [L_("cross margin: liquidation price computed as if isolated with the "
                   "position's margin; see cross_liquidation_price for the account view")]
    return []


def risk_report(position: Position, instrument: Instrument, mark: float,
                sigma_per_bar: float | None, bars_per_hour: float, *,
                closes: npt.ArrayLike | None = None, target_prob: float = 0.01,
                mmr: float | None = None, fee: float | None = None,
                drift_per_bar: float = 0.0, liquidation_price: float | None = None,
                tails: TailFit | None = None, tail_row: int = 0,
                cross_note: str | Msg | None = None) -> RiskReport:
    """Liquidation price, distances, touch probabilities and safe leverage of one position.

    ``sigma_per_bar`` is σ of log returns per bar for the Gaussian; when None/NaN it is
    estimated from ``closes`` (EWMA, half-life one day of bars). ``tails`` (row
    ``tail_row``: this symbol's) gives the calibrated numbers. ``mmr``/``fee`` override the
    tier and the instrument's taker fee. ``liquidation_price`` replaces the isolated
    formula's price (a cross-margin position's, from the account; ``cross_note`` says how it
    was found); NaN means the account is already below its maintenance margin.
    """
    if not (mark > 0 and math.isfinite(mark)):
        raise ValueError(f"mark must be a positive price, not {mark!r}")
    warnings = _margin_warnings(position, liquidation_price, cross_note)
    liq = liquidation(position, instrument, mmr=mmr, fee=fee)
    s = position.sign
    if liquidation_price is not None:
        at = float(mark) if math.isnan(liquidation_price) else float(liquidation_price)
        liq = replace(liq, price=at)  # NaN: at it now, distance 0, touch certain
    if mmr is None and not instrument.tiers:
        warnings.append(L_("no tiers for {symbol}: default mmr {mmr} used",
                           symbol=instrument.symbol, mmr=DEFAULT_MMR))
    cap = instrument.max_leverage
    if liq.tier_max_leverage is not None:
        cap = min(cap, liq.tier_max_leverage)
        last = max(instrument.tiers, key=lambda t: t.max_size)
        unit = last.unit
        amount = float(tier_amount(position.size, position.entry, instrument.contract_value,
                                   unit))
        if amount > last.max_size:
            warnings.append(L_("position size above the largest tier: last tier's mmr used"))
    if position.leverage > cap * (1 + 1e-9):
        warnings.append(L_("leverage above instrument maximum ({cap:g}x)", cap=cap))
    sig = float("nan") if sigma_per_bar is None else float(sigma_per_bar)
    if not math.isfinite(sig) and closes is not None:
        sig = ewma_sigma(closes, halflife_bars=24 * bars_per_hour)
    if not math.isfinite(sig):
        warnings.append(L_("not enough data for volatility"))

    liq_px: float | None = liq.price
    if not 0 < liq.price < math.inf:
        liq_px = None
        warnings.append(L_("cannot be liquidated: margin covers the whole position")
                        if liquidation_price is None else
                        L_("no move of this asset (to −99.9 % or +1,900 %) liquidates the "
                           "account"))
    dpct = float(distance_pct(mark, liq.price, s))
    dlog = float(log_distance(mark, liq.price, s))
    if liq_px is not None and dpct <= 0:
        warnings.append(L_("already past liquidation price"))
    tn = touch_numbers(dlog, s, sig, bars_per_hour, tails=tails, rows=tail_row,
                       target_prob=target_prob, drift_per_bar=drift_per_bar)
    calibrated = bool(tn.calibrated)
    if not calibrated and math.isfinite(sig):
        warnings.append(L_("too little history for the calibrated tail model: Gaussian touch "
                           "probabilities, which understate crypto's tails"))
    cum_frac = 0.0
    binance = mmr is None and any(t.unit == "notional" for t in instrument.tiers)
    if binance and liq.tier is not None:  # Binance bracket: cum enters the formula
        t = next(t for t in instrument.tiers if t.tier == liq.tier)
        cum_frac = t.maintenance_amount / (position.size * mark)
    safe = float(leverage_for_distance(tn.safe_distance, s, liq.mmr, liq.fee, cap, cum_frac))
    safe_g = float(leverage_for_distance(tn.safe_distance_gaussian, s, liq.mmr, liq.fee, cap,
                                         cum_frac))
    sig_h = {h: sig * math.sqrt(bars_per_hour * h) for h in (1, 24)}
    far = liq_px is not None
    p = {h: _num(float(tn.touch[h])) for h in HORIZONS_H}
    g = {h: _num(float(tn.gaussian[h])) for h in HORIZONS_H}
    return RiskReport(
        symbol=position.symbol,
        side=position.side,
        mark=float(mark),
        liquidation_price=liq_px,
        distance_pct=_num(dpct) if far else None,
        distance_sigma_1h=_num(dlog / sig_h[1]) if far else None,
        distance_sigma_24h=_num(dlog / sig_h[24]) if far else None,
        touch_prob_1h=p[1], touch_prob_4h=p[4], touch_prob_24h=p[24],
        touch_prob_1h_gaussian=g[1], touch_prob_4h_gaussian=g[4], touch_prob_24h_gaussian=g[24],
        safe_leverage=_num(safe) if calibrated or math.isfinite(sig) else None,
        safe_leverage_gaussian=_num(safe_g),
        safe_distance_pct=_num(float(move_for_distance(tn.safe_distance, s)) * 100.0),
        risk_model="tail" if calibrated else "gaussian",
        mmr=liq.mmr,
        tier=liq.tier,
        fee=liq.fee,
        margin=float(liq.margin),
        unrealised_pnl=float(s * position.size * (mark - position.entry)),
        warnings=tuple(warnings),
    )
