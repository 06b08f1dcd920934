"""Touch probabilities and safe leverage of many positions under both models at once: the
calibrated tail model (``core.tail_risk``), whose numbers the bot reports and acts on, and
the Gaussian first passage (``core.touch``), kept next to it so users and tests can compare.

Where a symbol has no tail fit (too little history) the reported numbers are the Gaussian's
and ``calibrated`` is False there, so the report can say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.tail_risk import TailFit, tail_required_distance, tail_touch_probabilities
from core.touch import required_log_distance, touch_probability
from core.types import BoolArray, FloatArray
from core.types import as_floats as _f

REPORTED_H: tuple[int, ...] = (1, 4, 24)
SAFE_H = 24  # safe leverage and the "add margin" distance are for this horizon


@dataclass(frozen=True, eq=False)
class TouchNumbers:
    touch: dict[int, FloatArray]  # hours → the reported probability (tail model)
    gaussian: dict[int, FloatArray]  # hours → the Gaussian first passage
    safe_distance: FloatArray  # log distance the 24 h target needs (reported model)
    safe_distance_gaussian: FloatArray
    calibrated: BoolArray  # the tail model answered (else the Gaussian stands in)


def touch_numbers(dlog: npt.ArrayLike, sign: npt.ArrayLike, sigma_per_bar: npt.ArrayLike,
                  bars_per_hour: npt.ArrayLike, *, tails: TailFit | None = None,
                  rows: npt.ArrayLike | None = None, target_prob: float = 0.01,
                  drift_per_bar: npt.ArrayLike = 0.0) -> TouchNumbers:
    """Both models' touch probabilities over ``REPORTED_H`` and the distance the target
    needs over ``SAFE_H``, for positions at adverse log distance ``dlog``.

    ``rows`` are the positions' rows in ``tails`` (row 0 for all when None). The Gaussian
    uses ``sigma_per_bar`` and the drift; the tail model its own σ (no drift).
    """
    d, s = np.broadcast_arrays(_f(dlog), _f(sign))
    sig, bph = _f(sigma_per_bar), _f(bars_per_hour)
    nu = -s * _f(drift_per_bar)
    gauss = {h: touch_probability(d, sig, bph * h, nu) for h in REPORTED_H}
    d_gauss = required_log_distance(target_prob, sig * np.sqrt(bph * SAFE_H),
                                         nu * bph * SAFE_H)
    d_gauss = np.broadcast_to(d_gauss, d.shape)
    if tails is None:
        return TouchNumbers(gauss, gauss, d_gauss, d_gauss, np.zeros(d.shape, dtype=bool))
    r = np.zeros(d.shape, np.int64) if rows is None else np.broadcast_to(
        np.asarray(rows, dtype=np.int64), d.shape)
    ok = tails.ok[r]
    tail = tail_touch_probabilities(tails, r, s, d, REPORTED_H)
    touch = {h: np.where(ok, tail[h], gauss[h]) for h in REPORTED_H}
    d_tail = tail_required_distance(tails, r, s, target_prob, SAFE_H)
    return TouchNumbers(touch, gauss, np.where(ok, d_tail, d_gauss), d_gauss, ok)


def move_for_distance(d: npt.ArrayLike, sign: npt.ArrayLike) -> FloatArray:
    """The adverse price move, as a fraction of the price, of a log distance: 1 − e^−d for
    a long, e^d − 1 for a short."""
    dd, s = _f(d), _f(sign)
    with np.errstate(over="ignore"):
        return np.where(s > 0, -np.expm1(-dd), np.expm1(dd))
