"""The recalibration map of the tail model's touch probabilities, one per horizon.

The simulation (``core.tail_risk``) ranks risk well, but on real markets its level can be a
little off: on the first half of the data its 1 h numbers above 35 % were too low. A monotone
map from the simulated probability p to the reported one q corrects the level and keeps the
ranking. Its form is *beta calibration* (Kull, Silva Filho & Flach, 2017):

    logit q = c + a · ln p − b · ln(1 − p),        a, b > 0

monotone and smooth; a power law q ≈ e^c · p^a far in the lower tail and
1 − q ≈ e^−c · (1 − p)^b near certainty, so tiny and large probabilities extrapolate sanely;
a = b is the logistic (Platt) map of logit p, and c = 0, a = b = 1 the identity. It is
strictly increasing, so the inverse — the simulated probability a target needs, from which
``tail_required_distance`` finds the distance — is solved to rounding by bisection.

The constants are fitted on the first half of every dataset only
(``scripts/calibrate_risk.py --fit-map``; ``docs/risk-model.md`` says which period): they
are settings of the real-market model, like ``TailParams``' others, and passed in with them
(``TailParams.calibration``). A synthetic generator gets ``UNCALIBRATED``: the map corrects
what real markets do differently from the simulation, not the simulation itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.types import FloatArray
from core.types import as_floats as _f


@dataclass(frozen=True)
class TouchMap:
    """``logit q = c + a·ln p − b·ln(1 − p)`` (module docstring); p = 0 and p = 1 stay."""

    c: float = 0.0
    a: float = 1.0
    b: float = 1.0

    def __post_init__(self) -> None:
        if not (self.a > 0 and self.b > 0 and math.isfinite(self.c)):
            raise ValueError(f"a touch map needs a, b > 0 and a finite c, not {self!r}")

    def logit(self, x: npt.ArrayLike) -> FloatArray:
        """logit q as a function of x = logit p: c − a·softplus(−x) + b·softplus(x)."""
        xx = _f(x)
        return self.c - self.a * np.logaddexp(0.0, -xx) + self.b * np.logaddexp(0.0, xx)

    @property
    def is_identity(self) -> bool:
        return self.c == 0.0 and self.a == 1.0 and self.b == 1.0

    def apply(self, p: npt.ArrayLike) -> FloatArray:
        """The calibrated probability of each simulated one (NaN stays NaN)."""
        pp = _f(p)
        if self.is_identity:  # exactly, not to the rounding of a round trip through logit
            return pp
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log(pp) - np.log1p(-pp)
            z = self.logit(np.clip(x, -745.0, 745.0))
            ez = np.exp(-np.abs(z))  # the logistic without cancellation on either side
            q = np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))
        return np.where(pp <= 0.0, 0.0, np.where(pp >= 1.0, 1.0, q))

    def invert(self, q: float) -> float:
        """The largest simulated probability p with ``apply(p) <= q`` (0 < q < 1): equal to
        rounding, and never above, so a distance solved for p is safe for q."""
        if not 0.0 < q < 1.0:
            raise ValueError(f"a probability in (0, 1) is needed, not {q!r}")
        if self.is_identity:
            return q
        want = math.log(q) - math.log1p(-q)

        def softplus(x: float) -> float:
            return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

        lo, hi = -745.0, 745.0  # logit p; beyond, p rounds to 0 or 1
        for _ in range(80):  # halves a 1,490-wide interval to below 1e-20 of it
            mid = 0.5 * (lo + hi)
            if self.c - self.a * softplus(-mid) + self.b * softplus(mid) < want:
                lo = mid
            else:
                hi = mid
        p = 1.0 / (1.0 + math.exp(-lo)) if lo >= 0 else math.exp(lo) / (1.0 + math.exp(lo))
        while p > 0.0 and float(self.apply(p)) > q:  # the last ulps of the round trip
            p = math.nextafter(p, 0.0)
        return p


IDENTITY = TouchMap()


@dataclass(frozen=True)
class TouchCalibration:
    """One map per fitted horizon (hours); a horizon without one is reported as simulated.

    ``fitted_on`` says on which cases the constants were fitted (shown in the docs).
    """

    maps: tuple[tuple[int, TouchMap], ...] = ()
    fitted_on: str = "nothing: the simulation's own probabilities"

    def at(self, hours: float) -> TouchMap:
        """The map of horizon ``hours`` (the identity when none was fitted for it)."""
        for h, m in self.maps:
            if math.isclose(h, hours):
                return m
        return IDENTITY


UNCALIBRATED = TouchCalibration()
"""No map: the simulation's probabilities as they come (synthetic data, the map's fit)."""

REAL_MARKETS = TouchCalibration(
    maps=(
        (1, TouchMap(c=-0.120882, a=0.977781, b=1.29285)),
        (4, TouchMap(c=0, a=1, b=1)),
        (24, TouchMap(c=0.0288017, a=1.03162, b=0.957369)),
    ),
    fitted_on="the first half of every dataset it was fitted on (217,578 cases, a case every "
              "4 h; bars up to 2025-12-31)",
)
"""The map the bot reports with, printed by ``scripts/calibrate_risk.py --fit-map``: fitted on
the first half of every dataset in ``../shared/data`` only. At 4 h and 24 h no fitted map beat
the simulation's own numbers on the later part of the first half, so those stay as simulated."""
