"""Hedge recommendations for positions: the β hedge, what the seed's rule would do, and the
take-profit signal on a hedge that is in profit during a cascade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.hedging import HedgeLeg, size_leg
from core.regimes import HIGH, LOW, REGIME_NAMES, UNKNOWN, level_regimes
from core.rolling import rolling_pair_series
from core.seed_rule import seed_multiplier
from core.types import FloatArray, Instrument, Position
from core.types import finite_or_none as _num
from i18n import L_, Msg


def leg_dict(leg: HedgeLeg | None) -> dict[str, Any] | None:
    if leg is None:
        return None
    return {"symbol": leg.symbol, "side": leg.side, "size": leg.size,
            "contracts": _num(leg.contracts), "notional": leg.notional, "beta": _num(leg.beta)}


@dataclass(frozen=True)
class HedgeRecommendation:
    """The minimum-variance hedge of one position with one instrument, and the seed's view."""

    symbol: str
    hedge_symbol: str | None
    beta_fast: float
    beta_ewma: float
    effectiveness: float  # ρ² on the fast window
    corr_fast: float
    corr_slow: float
    regime: str  # pair regime with hysteresis: high / normal / low / unknown
    leg: HedgeLeg | None  # the β (fast window) hedge
    seed_multiplier: float
    seed_leg: HedgeLeg | None  # the β hedge after the seed's shrink/grow rule
    warnings: tuple[str | Msg, ...] = field(default=())  # rendered where shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "hedge_symbol": self.hedge_symbol,
            "beta_fast": _num(self.beta_fast), "beta_ewma": _num(self.beta_ewma),
            "effectiveness": _num(self.effectiveness), "correlation_fast": _num(self.corr_fast),
            "correlation_slow": _num(self.corr_slow), "regime": self.regime,
            "leg": leg_dict(self.leg), "seed_multiplier": _num(self.seed_multiplier),
            "seed_leg": leg_dict(self.seed_leg), "warnings": [str(w) for w in self.warnings],
        }


def best_hedge(target: int, rho_fast: FloatArray, candidates: Sequence[int]) -> int | None:
    """The candidate with the highest ρ² to the target on the fast window (the most variance
    a single minimum-variance leg can remove); None when no candidate has a correlation."""
    cands = np.asarray([j for j in candidates if j != target], dtype=np.int64)
    if cands.size == 0:
        return None
    rho2 = rho_fast[target, cands] ** 2
    if not np.isfinite(rho2).any():
        return None
    return int(cands[np.nanargmax(rho2)])


def best_hedges(targets: Sequence[int], rho_fast: FloatArray, candidates: Sequence[int]
                ) -> list[int | None]:
    """:func:`best_hedge` of many targets in one pass over a (targets, candidates) block:
    a target is never its own hedge, and ties go to the earlier candidate as there."""
    t = np.asarray(targets, dtype=np.int64).reshape(-1)
    c = np.asarray(candidates, dtype=np.int64).reshape(-1)
    if t.size == 0 or c.size == 0:
        return [None] * t.size
    rho2 = rho_fast[np.ix_(t, c)] ** 2
    rho2[t[:, None] == c[None, :]] = np.nan
    ok = np.isfinite(rho2)
    pick = np.argmax(np.where(np.isnan(rho2), -np.inf, rho2), axis=1)  # = np.nanargmax
    return [int(c[j]) if any_ok else None
            for j, any_ok in zip(pick.tolist(), np.any(ok, axis=1).tolist(), strict=True)]


def pair_regimes(returns: FloatArray, pairs: Sequence[tuple[int, int]], window: int,
                 min_periods: int, high: float, low: float, hysteresis: float,
                 min_bars: int, lookback: int) -> dict[tuple[int, int], int]:
    """Regime code of each (x, h) pair at the last bar, with hysteresis over ``lookback``."""
    if not pairs:
        return {}
    tail = returns[-(window + lookback):]
    ps = rolling_pair_series(tail, list(pairs), window, min_periods)
    codes = level_regimes(ps.corr[window:], high, low, hysteresis, min_bars)
    return {p: int(codes[-1, k]) if codes.shape[0] else UNKNOWN for k, p in enumerate(pairs)}


@dataclass(frozen=True)
class HedgePlan:
    """The hedge of one symbol per unit of notional: shared by every position in it."""

    symbol: str
    target: int
    hedge: int | None
    beta_fast: float = np.nan
    beta_ewma: float = np.nan
    rho_fast: float = np.nan
    corr_slow: float = np.nan
    regime_code: int = UNKNOWN
    seed_multiplier: float = np.nan


def plan_hedge(target: int, hedge: int | None, *, symbols: Sequence[str],
               beta_fast: FloatArray, beta_ewma: FloatArray, rho_fast: FloatArray,
               corr_slow: FloatArray, regime_code: int, high_corr: float, low_corr: float,
               shrink: float, grow: float) -> HedgePlan:
    """β, ρ and the seed's multiplier of ``symbols[target]`` hedged with ``symbols[hedge]``."""
    if hedge is None:
        return HedgePlan(symbols[target], target, None)
    rho = rho_fast[target, hedge]
    regime = np.nan if regime_code == UNKNOWN else (
        1.0 if regime_code == HIGH else -1.0 if regime_code == LOW else 0.0)
    mult = float(seed_multiplier(rho, high_corr, low_corr, shrink, grow,
                                 regime=np.array(regime)))
    return HedgePlan(symbols[target], target, hedge, float(beta_fast[target, hedge]),
                     float(beta_ewma[target, hedge]), float(rho),
                     float(corr_slow[target, hedge]), regime_code, mult)


def recommend(position: Position, plan: HedgePlan, *, symbols: Sequence[str],
              instruments: Mapping[str, Instrument], prices: FloatArray
              ) -> HedgeRecommendation:
    """Size the β hedge of one position (a long is hedged by a short) and the seed-rule
    variant, from its symbol's plan."""
    if plan.hedge is None:
        return HedgeRecommendation(position.symbol, None, np.nan, np.nan, np.nan, np.nan,
                                   np.nan, "unknown", None, np.nan, None,
                                   (L_("no hedge instrument with enough common data"),))
    hs = symbols[plan.hedge]
    b, mult = plan.beta_fast, plan.seed_multiplier
    price_x = prices[plan.target]
    notional = position.size * (price_x if np.isfinite(price_x) else position.entry)
    hedge_notional = -position.sign * b * notional
    inst = instruments.get(hs) or Instrument(hs, hs.split("-")[0])
    leg = size_leg(inst, hedge_notional, prices[plan.hedge], b)
    seed_leg = size_leg(inst, hedge_notional * mult, prices[plan.hedge], b * mult) \
        if np.isfinite(mult) else None
    warnings: list[str | Msg] = []
    if leg is None:
        warnings.append(L_("not enough data to size a hedge in {symbol}", symbol=hs))
    elif abs(b) < 1e-12:
        warnings.append(L_("{hedge} does not move with {symbol}: no hedge", hedge=hs,
                           symbol=position.symbol))
    return HedgeRecommendation(position.symbol, hs, b, plan.beta_ewma, plan.rho_fast ** 2,
                               plan.rho_fast, plan.corr_slow, REGIME_NAMES[plan.regime_code],
                               leg, mult, seed_leg, tuple(warnings))


@dataclass(frozen=True)
class HeldHedge:
    """A hedge leg the trader holds, so hedgewatch can tell when to take profit on it."""

    position_index: int
    symbol: str
    side: str
    size: float
    entry: float


@dataclass(frozen=True)
class TakeProfitSignal:
    position_index: int
    symbol: str
    side: str
    pnl: float  # USDT
    pnl_pct: float  # of the leg's entry notional, percent
    level: str
    message: str | Msg  # rendered in the reader's language where shown

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the message in the language of the moment (English in the cycle)."""
        return {**self.__dict__, "message": str(self.message)}


def take_profit_signals(held: Sequence[HeldHedge], prices: Mapping[str, float], level: str,
                        level_rank: int, min_rank: int = 2) -> list[TakeProfitSignal]:
    """The seed's rule: a hedge leg in profit while the cascade level is high or above →
    take profit on the hedge and tighten the main position."""
    if level_rank < min_rank:
        return []
    out = []
    for h in held:
        p = prices.get(h.symbol, np.nan)
        if not np.isfinite(p):
            continue
        sign = 1 if h.side == "long" else -1
        pnl = sign * h.size * (p - h.entry)
        if pnl > 0:
            pct = 100 * pnl / (h.size * h.entry)
            out.append(TakeProfitSignal(
                h.position_index, h.symbol, h.side, pnl, pct, level,
                L_("Cascade level {level}: your {side} {symbol} hedge is up {pnl:,.2f} USDT "
                   "({pct:.1f}%). Take profit on the hedge and tighten the main position.",
                   level=L_(level), side=L_(h.side), symbol=h.symbol, pnl=pnl, pct=pct)))
    return out
