"""Distance to liquidation, touch probabilities and safe leverage, one position or many.

Conventions:

* ``distance_pct`` is the adverse move from mark to the liquidation price in percent of mark
  (9.6 means 9.6 %); negative once the mark is past the liquidation price.
* Distances in σ use the *log* distance |ln(liq / mark)| divided by σ_h = σ_bar · √(bars in
  the horizon), the scale on which the touch probabilities are computed.
* Touch probabilities are fractions (0–1) of the price touching the liquidation price within
  the horizon (first passage, see ``core.touch``), not only ending beyond it.
* Safe leverage is the highest leverage for a *new* position at the current mark, same side
  and size (so same tier), whose 24 h touch probability is at most ``target_prob``; capped at
  the instrument's and the tier's maximum leverage.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from core.liquidation import (
    DEFAULT_MMR,
    TierTable,
    isolated_liquidation_price,
    liquidation,
    tier_amount,
)
from core.touch import empirical_touch, norm_isf, touch_probability
from core.types import FloatArray, Instrument, IntArray, Position
from core.types import as_floats as _f
from core.types import finite_or_none as _num

HORIZONS_H = (1, 24)
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


def required_log_distance(target_prob: float, sigma_h: npt.ArrayLike,
                          drift_toward_h: npt.ArrayLike = 0.0) -> FloatArray:
    """Smallest log distance with touch probability ≤ ``target_prob`` over one horizon.

    Driftless: closed form z·σ_h with Φ(−z) = target/2. With drift: vectorised bisection
    on the first-passage formula (monotone decreasing in the distance).
    """
    s = _f(sigma_h)
    z = norm_isf(target_prob / 2.0)
    nu = _f(drift_toward_h)
    if not np.any(nu):
        return z * s
    s, nu = np.broadcast_arrays(s, nu)
    lo = np.zeros(s.shape)
    hi = np.maximum(z * s + np.abs(nu), 1e-12) * 2.0 + np.maximum(nu, 0.0) * 2.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        too_close = touch_probability(mid, s, 1.0, nu) > target_prob
        lo = np.where(too_close, mid, lo)
        hi = np.where(too_close, hi, mid)
    return np.where(np.isnan(s), np.nan, hi)


def safe_leverage(sigma_per_bar: npt.ArrayLike, bars: npt.ArrayLike, sign: npt.ArrayLike,
                  mmr: npt.ArrayLike, fee: npt.ArrayLike, max_leverage: npt.ArrayLike, *,
                  target_prob: float = 0.01, drift_per_bar: npt.ArrayLike = 0.0,
                  cum_frac: npt.ArrayLike = 0.0) -> FloatArray:
    """Highest leverage whose touch probability over ``bars`` stays ≤ ``target_prob``.

    Opened at mark P with margin P·N/L, the isolated liquidation price is
    P·(1 − s/L − s·c)/(1 − s·k), k = mmr + fee, c = cum / notional (Binance; 0 on OKX).
    Requiring |ln(liq/P)| ≥ d* (the required log distance) gives, in closed form,

        long  1/L ≥ 1 − c − (1 − k)·e^(−d*)        short  1/L ≥ (1 + k)·e^(d*) − 1 − c

    A non-positive bound means any leverage is safe: the result is the cap. NaN where σ is.
    """
    s = _f(sign)
    sig = _f(sigma_per_bar)
    nu = -s * _f(drift_per_bar)
    sigma_h = sig * np.sqrt(_f(bars))
    d_req = required_log_distance(target_prob, sigma_h, nu * _f(bars))
    k = _f(mmr) + _f(fee)
    c = _f(cum_frac)
    inv = np.where(s > 0, 1.0 - c - (1.0 - k) * np.exp(-d_req),
                   (1.0 + k) * np.exp(d_req) - 1.0 - c)
    cap = _f(max_leverage)
    with np.errstate(divide="ignore"):
        lev = np.where(inv > 0, 1.0 / np.where(inv > 0, inv, 1.0), np.inf)
    return np.where(np.isnan(sig), np.nan, np.minimum(lev, cap))


# --------------------------------------------------------------------------- many positions


@dataclass(frozen=True, eq=False)
class RiskArrays:
    """``risk_many`` output: one entry per position, NaN where unavailable."""

    liquidation_price: FloatArray  # 0.0: a long that cannot be liquidated
    distance_pct: FloatArray
    distance_sigma_1h: FloatArray
    distance_sigma_24h: FloatArray
    touch_prob_1h: FloatArray
    touch_prob_24h: FloatArray
    safe_leverage: FloatArray
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
              liquidation: npt.ArrayLike | None = None) -> RiskArrays:
    """Risk of many isolated positions at once (OKX formula).

    Position arrays: ``entry``, ``size`` (base units), ``sign`` (±1), ``margin``. Market
    arrays ``mark``, ``sigma_per_bar``, ``bars_per_hour``, ``contract_value``, ``fee``,
    ``max_leverage``, ``drift_per_bar`` are per position, or per symbol when ``symbol_idx``
    (each position's symbol row) is given. The mmr comes from ``mmr`` (per position), else
    from ``tiers`` (contract-unit ``TierTable``, row = symbol), else ``DEFAULT_MMR``.
    ``liquidation`` (per position, NaN where not given) replaces the OKX formula's price for
    positions priced another way — e.g. Binance brackets via ``binance_liquidation_price``.
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
    out_sig: dict[str, FloatArray] = {}
    for h in HORIZONS_H:
        bars = bph * h
        sigma_h = sig * np.sqrt(bars)
        out_sig[f"d{h}"] = dlog / sigma_h
        out_sig[f"p{h}"] = touch_probability(dlog, sig, bars, -s * drift)
    safe = safe_leverage(sig, bph * 24, s, rate, fee_, cap, target_prob=target_prob,
                         drift_per_bar=drift)
    return RiskArrays(
        liquidation_price=liq,
        distance_pct=distance_pct(px, liq, s),
        distance_sigma_1h=out_sig["d1"],
        distance_sigma_24h=out_sig["d24"],
        touch_prob_1h=out_sig["p1"],
        touch_prob_24h=out_sig["p24"],
        safe_leverage=safe,
        mmr=np.asarray(rate, dtype=np.float64),
        tier=tier,
        unrealised_pnl=s * n * (px - e),
    )


# --------------------------------------------------------------------------- one position


@dataclass(frozen=True)
class RiskReport:
    """One position's liquidation risk, JSON-ready through ``to_dict`` (None, never NaN)."""

    symbol: str
    side: str
    mark: float
    liquidation_price: float | None
    distance_pct: float | None
    distance_sigma_1h: float | None
    distance_sigma_24h: float | None
    touch_prob_1h: float | None
    touch_prob_24h: float | None
    touch_prob_24h_empirical: float | None
    safe_leverage: float | None
    mmr: float
    tier: int | None
    fee: float
    margin: float
    unrealised_pnl: float
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        return d


def risk_report(position: Position, instrument: Instrument, mark: float,
                sigma_per_bar: float | None, bars_per_hour: float, *,
                closes: npt.ArrayLike | None = None, target_prob: float = 0.01,
                mmr: float | None = None, fee: float | None = None,
                drift_per_bar: float = 0.0, lows: npt.ArrayLike | None = None,
                highs: npt.ArrayLike | None = None,
                liquidation_price: float | None = None) -> RiskReport:
    """Liquidation price, distances, touch probabilities and safe leverage of one position.

    ``sigma_per_bar`` is σ of log returns per bar; when None/NaN it is estimated from
    ``closes`` (EWMA, half-life one day of bars). ``closes`` (oldest first, ending at the
    current bar; with optional ``lows``/``highs``) also feed the empirical 24 h touch
    probability. ``mmr``/``fee`` override the tier and the instrument's taker fee.
    ``liquidation_price`` replaces the isolated formula's price (a cross-margin position's,
    from ``cross_liquidation_price`` on the whole account); NaN means the account is already
    below its maintenance margin.
    """
    if not (mark > 0 and math.isfinite(mark)):
        raise ValueError(f"mark must be a positive price, not {mark!r}")
    warnings: list[str] = []
    liq = liquidation(position, instrument, mmr=mmr, fee=fee)
    s = position.sign
    if liquidation_price is not None:
        if math.isnan(liquidation_price):
            warnings.append("account equity is below its total maintenance margin: "
                            "liquidation is under way")
            liquidation_price = float(mark)  # at it now: distance 0, touch certain
        liq = replace(liq, price=float(liquidation_price))
        if position.margin_mode == "cross":
            warnings.append("cross margin: liquidation estimated from the account's equity "
                            "with every other position held at its mark")
    elif position.margin_mode == "cross":
        warnings.append("cross margin: liquidation price computed as if isolated with the "
                        "position's margin; see cross_liquidation_price for the account view")
    if mmr is None and not instrument.tiers:
        warnings.append(f"no tiers for {instrument.symbol}: default mmr {DEFAULT_MMR} used")
    cap = instrument.max_leverage
    if liq.tier_max_leverage is not None:
        cap = min(cap, liq.tier_max_leverage)
        last = max(instrument.tiers, key=lambda t: t.max_size)
        unit = last.unit
        amount = float(tier_amount(position.size, position.entry, instrument.contract_value,
                                   unit))
        if amount > last.max_size:
            warnings.append("position size above the largest tier: last tier's mmr used")
    if position.leverage > cap * (1 + 1e-9):
        warnings.append(f"leverage above instrument maximum ({cap:g}x)")
    sig = float("nan") if sigma_per_bar is None else float(sigma_per_bar)
    if not math.isfinite(sig) and closes is not None:
        sig = ewma_sigma(closes, halflife_bars=24 * bars_per_hour)
    if not math.isfinite(sig):
        warnings.append("not enough data for volatility")

    liq_px: float | None = liq.price
    if liq.price <= 0:
        liq_px = None
        warnings.append("cannot be liquidated: margin covers the whole position")
    dpct = float(distance_pct(mark, liq.price, s))
    dlog = float(log_distance(mark, liq.price, s))
    if liq_px is not None and dpct <= 0:
        warnings.append("already past liquidation price")
    sig_h = {h: sig * math.sqrt(bars_per_hour * h) for h in HORIZONS_H}
    p = {h: float(touch_probability(dlog, sig, bars_per_hour * h, -s * drift_per_bar))
         for h in HORIZONS_H}
    emp = float("nan")
    if closes is not None and math.isfinite(sig):
        emp = float(empirical_touch(dlog, closes, round(24 * bars_per_hour), s, sig,
                                    lows=lows, highs=highs))
    if not math.isfinite(emp):
        warnings.append("not enough history for the empirical touch probability")
    cum_frac = 0.0
    binance = mmr is None and any(t.unit == "notional" for t in instrument.tiers)
    if binance and liq.tier is not None:  # Binance bracket: cum enters the formula
        t = next(t for t in instrument.tiers if t.tier == liq.tier)
        cum_frac = t.maintenance_amount / (position.size * mark)
    safe = float(safe_leverage(sig, bars_per_hour * 24, s, liq.mmr, liq.fee, cap,
                               target_prob=target_prob, drift_per_bar=drift_per_bar,
                               cum_frac=cum_frac))
    return RiskReport(
        symbol=position.symbol,
        side=position.side,
        mark=float(mark),
        liquidation_price=liq_px,
        distance_pct=_num(dpct) if liq_px is not None else None,
        distance_sigma_1h=_num(dlog / sig_h[1]) if liq_px is not None else None,
        distance_sigma_24h=_num(dlog / sig_h[24]) if liq_px is not None else None,
        touch_prob_1h=_num(p[1]),
        touch_prob_24h=_num(p[24]),
        touch_prob_24h_empirical=_num(emp),
        safe_leverage=_num(safe),
        mmr=liq.mmr,
        tier=liq.tier,
        fee=liq.fee,
        margin=float(liq.margin),
        unrealised_pnl=float(s * position.size * (mark - position.entry)),
        warnings=tuple(warnings),
    )
