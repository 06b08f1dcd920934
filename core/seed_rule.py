"""The seed article's hedge rule, kept apart so the backtest can compare it with plain β.

*Shrink the hedge when correlation spikes above ``high_corr``, grow it below ``low_corr``.*

What the rule assumes: the hedge is a **diversifying** leg — a position in another asset held
because it usually moves differently, so it cushions the main position. When everything
moves together (correlation → 1 in a cascade) such a leg stops diversifying and falls with
the position, so the rule cuts it; when correlation is low it diversifies well, so the rule
adds to it.

How that differs from an **offsetting short** hedge (short H against long X, sized by β):
its effectiveness is ρ², which *rises* with correlation. For an offsetting hedge, high
correlation is when the hedge works best, and shrinking it then removes protection exactly
when the cascade arrives. ``tests/core/test_seed_rule.py`` shows both effects on simulated
data; the backtester measures which one wins on real data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.types import FloatArray


def seed_multiplier(corr: FloatArray | float, high_corr: float = 0.7, low_corr: float = 0.3,
                    shrink: float = 0.5, grow: float = 1.25,
                    regime: FloatArray | None = None) -> FloatArray:
    """The factor the seed's rule applies to a β hedge: ``shrink`` at or above ``high_corr``,
    ``grow`` at or below ``low_corr``, 1 in between; NaN where the correlation is unknown.

    When ``regime`` is given (+1 high, −1 low, 0 normal, NaN unknown — e.g. from the
    hysteresis regimes in :mod:`core.regimes`) it decides instead of the raw thresholds, so a
    correlation dancing around 0.7 does not flip the hedge size every bar.
    """
    c = np.asarray(corr, dtype=np.float64)
    if regime is None:
        state = np.where(c >= high_corr, 1.0, np.where(c <= low_corr, -1.0, 0.0))
        state = np.where(np.isfinite(c), state, np.nan)
    else:
        state = np.asarray(regime, dtype=np.float64)
    out = np.where(state > 0, shrink, np.where(state < 0, grow, 1.0))
    return np.where(np.isfinite(state), out, np.nan)


def seed_hedge_notional(beta_notional: FloatArray | float, corr: FloatArray | float,
                        **rule: Any) -> FloatArray:
    """The β hedge notional (signed) scaled by the seed's rule (see ``seed_multiplier``)."""
    return np.asarray(beta_notional, dtype=np.float64) * seed_multiplier(corr, **rule)
