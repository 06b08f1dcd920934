"""Build the ``BarView`` a strategy sees: live from an ``EngineResult``, or bar by bar from
every-bar series for backtests and replays. Both give the same fields with the same
meanings, so a strategy cannot tell (and need not care) which one it runs in."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from core.cascade_series import snapshot_cascade_series
from core.counterweights import Counterweight, counterweights, stress_mask
from core.evaluate import EngineParams, EngineResult
from core.market_inputs import market_returns
from core.position_series import PositionSeries, position_series
from core.regimes import REGIME_NAMES
from core.returns import log_returns
from core.types import MarketSnapshot, Position
from core.volatility import rolling_vol
from plugins.strategies.base import BarView


def bar_view(result: EngineResult, i: int) -> BarView:
    """The live bar for position ``i`` of an engine result."""
    pos = result.positions[i]
    plan = result.hedge_plans[pos.symbol]
    cws = result.counterweights_for(i)
    x = result.index(pos.symbol)

    def pair(symbol: str) -> tuple[float, float]:
        if symbol not in result.symbols:
            return float("nan"), float("nan")
        j = result.index(symbol)
        return float(result.beta_fast[x, j]), float(result.rho_fast[x, j])

    return BarView(
        t=-1, time_ms=result.time_ms, position=pos,
        prices=dict(zip(result.symbols, result.prices.tolist(), strict=True)),
        instruments=result.instruments,
        hedge_symbol=result.symbols[plan.hedge] if plan.hedge is not None else None,
        beta_fast=plan.beta_fast, beta_ewma=plan.beta_ewma, corr_fast=plan.rho_fast,
        corr_slow=plan.corr_slow, effectiveness=plan.rho_fast ** 2,
        regime=REGIME_NAMES[plan.regime_code], cascade_level=result.cascade.level,
        cascade_score=result.cascade.score, high_corr=result.params.corr.high_corr,
        low_corr=result.params.corr.low_corr,
        _counterweights=lambda: cws.legs if cws else (), _pair=pair,
    )


def replay_bars(snap: MarketSnapshot, position: Position, params: EngineParams,
                start: int = 0, series: PositionSeries | None = None) -> Iterator[BarView]:
    """Bar views for ``position`` at every bar from ``start``, each built from data up to
    that bar only. Counterweights are computed on demand from returns up to the bar."""
    cp = params.corr
    target = snap.index(position.symbol)
    s = series or position_series(  # scored as the live cycle and the backtest score it
        snap.close, target, cp, cascade_score=snapshot_cascade_series(snap, cp).score)
    r = log_returns(snap.close)
    mvol = rolling_vol(market_returns(r), cp.fast, cp.min_fast)[:, 0]
    for t in range(start, snap.n_bars):
        prices = {sym: float(snap.close[t, j]) for j, sym in enumerate(snap.symbols)}
        h = int(s.hedge[t])

        def cw(t: int = t) -> tuple[Counterweight, ...]:
            past = r[: t + 1]
            return counterweights(past, snap.symbols, target, position.sign,
                                  stress_mask(mvol[: t + 1]),
                                  np.diff(mvol[: t + 1], prepend=np.nan),
                                  k=params.counterweights_k,
                                  min_stress_bars=params.min_stress_bars).legs

        def pair(symbol: str, t: int = t) -> tuple[float, float]:
            if symbol not in snap.symbols:
                return float("nan"), float("nan")
            return s.pair(t, snap.index(symbol))

        yield BarView(
            t=t, time_ms=int(snap.times[t]) + snap.timeframe_ms, position=position,
            prices=prices, instruments=snap.instruments,
            hedge_symbol=snap.symbols[h] if h >= 0 else None,
            beta_fast=float(s.beta_fast[t]), beta_ewma=float(s.beta_ewma[t]),
            corr_fast=float(s.corr_fast[t]), corr_slow=float(s.corr_slow[t]),
            effectiveness=float(s.corr_fast[t] ** 2), regime=REGIME_NAMES[int(s.regime[t])],
            cascade_level=s.cascade_level(t), cascade_score=float(s.cascade_score[t]),
            high_corr=cp.high_corr, low_corr=cp.low_corr, _counterweights=cw, _pair=pair,
        )
