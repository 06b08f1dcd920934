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

At 4 h and 24 h the error bends locally (at 24 h about a fifth too high between 2 % and 10 %,
right elsewhere), which no two-slope form takes: there a ``BinnedMap`` goes through the
realised rates of the first half's probability bins, linear in logit between them.

The constants are fitted on the first half of every dataset only
(``scripts/calibrate_risk.py --fit-map``; ``docs/risk-model.md`` says which period): they
are settings of the real-market model, like ``TailParams``' others, and passed in with them
(``TailParams.calibration``). A synthetic generator gets ``UNCALIBRATED``: the map corrects
what real markets do differently from the simulation, not the simulation itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from core.types import FloatArray
from core.types import as_floats as _f


def _mapped(logit_q: Callable[[FloatArray], FloatArray], p: npt.ArrayLike) -> FloatArray:
    """``p`` through a map given as p → logit q (for 0 < p < 1); 0 and 1 stay, NaN stays
    NaN. ``1 / (1 + e^−z)`` has no cancellation at either end (only ``1 − q`` would); this
    runs for every position at every horizon, so it spends one exp and the map's logs."""
    pp = _f(p)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = 1.0 / (1.0 + np.exp(-logit_q(pp)))
    out: FloatArray = np.where(pp > 0.0, np.where(pp < 1.0, q, 1.0),
                               np.where(pp <= 0.0, 0.0, np.nan))
    return out


def _not_above(apply: Callable[[npt.ArrayLike], FloatArray], x: float, q: float) -> float:
    """The probability of logit ``x``, stepped down by ulps until ``apply`` of it is at most
    ``q``: the inverse of a map, never above, so a distance solved for it is safe for q."""
    p = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    while p > 0.0 and float(apply(p)) > q:  # the last ulps of the round trip
        p = math.nextafter(p, 0.0)
    return p


def _check_target(q: float) -> float:
    if not 0.0 < q < 1.0:
        raise ValueError(f"a probability in (0, 1) is needed, not {q!r}")
    return math.log(q) - math.log1p(-q)


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
        if self.is_identity:  # exactly, not to the rounding of a round trip through logit
            return _f(p)
        return _mapped(self._logit_of_p, p)

    def _logit_of_p(self, p: FloatArray) -> FloatArray:
        out: FloatArray = self.c + self.a * np.log(p) - self.b * np.log1p(-p)
        return out

    def invert(self, q: float) -> float:
        """The largest simulated probability p with ``apply(p) <= q`` (0 < q < 1): equal to
        rounding, and never above, so a distance solved for p is safe for q."""
        want = _check_target(q)
        if self.is_identity:
            return q

        def softplus(x: float) -> float:
            return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

        lo, hi = -745.0, 745.0  # logit p; beyond, p rounds to 0 or 1
        for _ in range(80):  # halves a 1,490-wide interval to below 1e-20 of it
            mid = 0.5 * (lo + hi)
            if self.c - self.a * softplus(-mid) + self.b * softplus(mid) < want:
                lo = mid
            else:
                hi = mid
        return _not_above(self.apply, lo, q)


@dataclass(frozen=True)
class BinnedMap:
    """A map through knots (logit p → logit q), linear in logit between them and keeping the
    outermost knot's logit offset beyond them: where the error of the simulation has a shape
    no two-slope form takes (at 24 h about a fifth too high between 2 % and 10 % and right
    elsewhere), the knots are the realised rates of bins of cases (``backtest.touch_map_fit.
    fit_binned_map``). Both coordinates strictly increase, so the map is strictly increasing
    and its inverse exact."""

    knots: tuple[tuple[float, float], ...]  # (logit p, logit q)
    # the knots as arrays, with a far point of slope 1 at each end so one np.interp also
    # extrapolates (the logits reaching it are clipped to ±745)
    _xs: FloatArray = field(init=False, repr=False, compare=False)
    _ys: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        k = np.array(self.knots, dtype=np.float64).reshape(-1, 2)
        xs, ys = k[:, 0], k[:, 1]
        if not (xs.size and np.isfinite(xs).all() and np.isfinite(ys).all()
                and (np.diff(xs) > 0).all() and (np.diff(ys) > 0).all()):
            raise ValueError(f"a binned map needs finite, strictly increasing knots, not "
                             f"{self.knots!r}")
        far = 2048.0
        object.__setattr__(self, "_xs", np.r_[xs[0] - far, xs, xs[-1] + far])
        object.__setattr__(self, "_ys", np.r_[ys[0] - far, ys, ys[-1] + far])

    def logit(self, x: npt.ArrayLike) -> FloatArray:
        """logit q as a function of x = logit p (|x| ≤ 745 + 2048; NaN gives a knot's
        value — ``apply`` keeps NaN)."""
        out: FloatArray = np.interp(_f(x), self._xs, self._ys)
        return out

    def apply(self, p: npt.ArrayLike) -> FloatArray:
        """The calibrated probability of each simulated one (NaN stays NaN)."""
        return _mapped(self._logit_of_p, p)

    def _logit_of_p(self, p: FloatArray) -> FloatArray:
        return self.logit(np.clip(np.log(p / (1.0 - p)), -745.0, 745.0))

    def invert(self, q: float) -> float:
        """The largest simulated probability p with ``apply(p) <= q`` (0 < q < 1), never
        above: the same knots read the other way."""
        want = _check_target(q)
        return _not_above(self.apply, float(np.interp(want, self._ys, self._xs)), q)


IDENTITY = TouchMap()


@dataclass(frozen=True)
class TouchCalibration:
    """One map per fitted horizon (hours); a horizon without one is reported as simulated.

    ``fitted_on`` says on which cases the constants were fitted (shown in the docs).
    """

    maps: tuple[tuple[int, TouchMap | BinnedMap], ...] = ()
    fitted_on: str = "nothing: the simulation's own probabilities"

    def at(self, hours: float) -> TouchMap | BinnedMap:
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
        (4, BinnedMap(knots=(
            (-5.99747, -5.88962), (-4.92171, -5.24664), (-4.22233, -4.22199),
            (-3.36895, -3.45584), (-2.55072, -2.66453), (-1.77152, -1.83592),
            (-0.997398, -1.03463), (-0.314508, -0.324479), (0.375644, 0.398093),
            (1.19228, 1.31065)))),
        (24, BinnedMap(knots=(
            (-5.96891, -5.70508), (-4.92231, -4.8485), (-4.22401, -4.38872),
            (-3.36797, -3.59877), (-2.54753, -2.65793), (-1.76689, -1.80907),
            (-0.988121, -0.985469), (-0.304406, -0.317808), (0.417019, 0.391434),
            (1.37307, 1.31125), (2.48115, 2.49788)))),
    ),
    fitted_on="the first half of the five calibration datasets (217,578 cases, a case every "
              "4 h; bars up to 2025-12-31)",
)
"""The map the bot reports with, printed by ``scripts/calibrate_risk.py --fit-map``: fitted on
the first half of the five datasets of ``backtest.risk_calibration.FITTED_ON`` only — 1 h a
beta map (the form that scored best on the later part of the first half), 4 h and 24 h binned
maps (their error bends locally; ``docs/risk-model.md``, the third step)."""
