"""Engine parameters in bars, built from the ``[engine]``, ``[risk]`` and ``[strategies]``
config: the one place durations become bar counts for ``core``."""

from __future__ import annotations

import math

from core.evaluate import EngineParams
from core.views import CorrelationParams
from settings.config import Config


def engine_params(config: Config) -> EngineParams:
    e, tf = config.engine, config.exchange.timeframe
    fast, slow = e.fast_window.bars(tf), e.slow_window.bars(tf)
    seed = config.strategies.params.get("seed_regime", {})
    corr = CorrelationParams(
        fast=fast, slow=slow, halflife=e.ewma_halflife.seconds / tf.seconds,
        min_fast=max(2, math.ceil(e.min_periods * fast)),
        min_slow=max(2, math.ceil(e.min_periods * slow)),
        min_ewma=max(2, math.ceil(e.min_periods * fast)),
        high_corr=e.high_corr, low_corr=e.low_corr, hysteresis=e.hysteresis,
        min_regime_bars=e.min_regime_time.bars(tf), regime_z=e.regime_z,
        timeframe_ms=tf.ms,
    )
    return EngineParams(
        corr=corr, target_touch_prob=config.risk.safe_touch_prob,
        taker_fee=config.risk.taker_fee,
        seed_shrink=float(seed.get("shrink", 0.5)), seed_grow=float(seed.get("grow", 1.25)),
        regime_lookback=fast,
    )
