"""Touch probabilities that hold on crypto data: filtered historical simulation (FHS).

The Gaussian first passage (``core.touch``) puts the tail of a day's move 10–100× too low,
because crypto returns are fat-tailed and their volatility clusters and mean-reverts. This
model keeps the symbol's own history as the shape of the tail and today's volatility as its
scale (``docs/risk-model.md`` says why this one, and ``docs/risk-calibration.md`` what it
does on real data):

1. **Filter.** σ_t is a zero-mean EWMA of squared log close-to-close returns (RiskMetrics,
   half-life ``halflife_h``). Every bar becomes a standardised triple relative to the close
   before it and the σ known then: close ``r/σ``, low ``ln(low/prev close)/σ`` and high
   ``ln(high/prev close)/σ`` — the intrabar extremes are what a liquidation touches.
2. **Blocks.** Runs of ``block_h`` consecutive triples, each reduced to four numbers with
   σ = 1 at its start and the EWMA recursion inside it: end return, lowest low, highest high
   (in start-σ units) and the σ multiplier at its end. Large residuals raise σ for what
   follows, as they did in the data.
3. **Paths.** ``paths`` paths per symbol chain blocks drawn from the window (stratified,
   seeded: the same draws for every symbol, so a symbol's answer depends on its own data
   only); the adverse excursion of each path over each horizon, in units of σ at the start,
   is kept sorted. The recursion is scale-free, so this is done once per symbol for any σ.
4. **Scale.** The excursion is rescaled by σ_eff(h) = σ_now^w(h) · σ_typ^(1−w(h)), σ_typ the
   window's geometric-mean σ: volatility far above its usual level tends to fall back within
   a day, far below it to return (``w`` falls with the horizon: ``blend_1h`` at 1 h, minus
   ``blend_slope`` per e-fold of hours).
5. **Tail.** Beyond the ``tail_fraction`` largest simulated excursions a Pareto tail fitted to
   them (Hill) carries the probability on, so a far barrier gets a small number, not zero.
6. **Map.** The simulated probability goes through the horizon's monotone recalibration map
   (``core.tail_calibration``, fitted on the first half of the real data); the inverse goes
   back through it, so "distance for a target" stays the inverse of "chance at a distance".

Everything is fitted on the arrays given — the caller passes only bars up to the moment
asked about — and is deterministic. Touch probabilities and the inverse (the distance a
target probability needs) are then a lookup per position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from core.returns import as_2d
from core.tail_calibration import REAL_MARKETS, TouchCalibration
from core.tail_filter import block_summaries, standardise
from core.types import BoolArray, FloatArray, IntArray
from core.types import as_floats as _f

HORIZONS_H: tuple[int, ...] = (1, 4, 24)
"""The horizons every fit covers, in hours."""
_LONG, _SHORT = 0, 1
_ROW_SPAN = 200.0  # key offset between rows of the flattened sorted log-excursions


@dataclass(frozen=True)
class TailParams:
    """The model's settings; the defaults were chosen on the first half of every dataset
    (``scripts/calibrate_risk.py --tune``, the map ``--fit-map``) and checked on the second.
    ``calibration`` is the real-market recalibration map; ``UNCALIBRATED`` reports the
    simulation as it comes (synthetic data, and the cases the map is fitted on)."""

    halflife_h: float = 6.0
    block_h: float = 6.0
    paths: int = 2000
    blend_1h: float = 0.75
    blend_slope: float = 0.06
    tail_fraction: float = 0.02
    min_history_h: float = 240.0  # ten days of bars: with less the fit is not attempted
    seed: int = 20221108
    calibration: TouchCalibration = REAL_MARKETS

    def blend(self, hours: float) -> float:
        """The weight w(h) of σ_now against the window's typical σ at horizon ``hours``."""
        return float(np.clip(self.blend_1h - self.blend_slope * math.log(hours), 0.0, 1.0))


@dataclass(frozen=True, eq=False)
class TailFit:
    """One fit per symbol (row), for the horizons in ``horizons_h``.

    ``keys`` holds, for every (row, horizon, side), the ``paths`` simulated log excursions
    sorted ascending, offset by ``_ROW_SPAN`` per block so one ``searchsorted`` serves any
    mix of positions. ``ok`` is False where the symbol had too little history; its numbers
    are NaN and callers fall back to the Gaussian.
    """

    horizons_h: tuple[int, ...]
    bars_per_hour: float
    sigma_now: FloatArray  # (S,) the filter's σ per bar at the last bar
    sigma_typ: FloatArray  # (S,) geometric mean of the filter's σ over the window
    weights: FloatArray  # (H,) w(h)
    keys: FloatArray  # (S·H·2·paths,)
    tail_u: FloatArray  # (S, H, 2) the threshold excursion (σ units) where the tail starts
    tail_alpha: FloatArray  # (S, H, 2) the Pareto index beyond it
    ok: BoolArray  # (S,)
    params: TailParams = field(default_factory=TailParams)

    @property
    def n_symbols(self) -> int:
        return int(self.sigma_now.shape[0])

    def horizon(self, hours: float) -> int:
        """Index of ``hours`` among the fitted horizons; ``ValueError`` for another."""
        for i, h in enumerate(self.horizons_h):
            if math.isclose(h, hours):
                return i
        raise ValueError(f"the tail model is fitted for {self.horizons_h} h, not {hours} h")

    def sigma_eff(self, rows: IntArray, hours: float) -> FloatArray:
        """σ_eff per bar of each row at horizon ``hours`` (the scale of the excursions)."""
        w = float(self.weights[self.horizon(hours)])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.exp(w * np.log(self.sigma_now[rows])
                          + (1.0 - w) * np.log(self.sigma_typ[rows]))

    def select(self, rows: npt.ArrayLike) -> TailFit:
        """The fit of some symbols only (in the order given)."""
        r = np.asarray(rows, dtype=np.int64).reshape(-1)
        per_row = len(self.horizons_h) * 2 * self.params.paths
        blocks = self.keys.reshape(self.n_symbols, per_row)[r]
        offset = (np.arange(r.size) - r)[:, None] * (len(self.horizons_h) * 2) * _ROW_SPAN
        return TailFit(self.horizons_h, self.bars_per_hour, self.sigma_now[r],
                       self.sigma_typ[r], self.weights, (blocks + offset).reshape(-1),
                       self.tail_u[r], self.tail_alpha[r], self.ok[r], self.params)


# --------------------------------------------------------------------------- fitting


def _log_key(x: FloatArray) -> FloatArray:
    """ln x clipped into (−_ROW_SPAN/2, _ROW_SPAN/2), so each row's keys stay in its span."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.log(np.where(x > 0, x, 1e-30)), -60.0, 60.0)


def _draws(params: TailParams, steps: int) -> FloatArray:
    """(steps, paths) uniforms in [0, 1), stratified per step: every part of the window is
    drawn equally often, with less noise than independent draws. Drawn from the seed alone,
    so every symbol gets the same draws and its answer depends on its own bars only."""
    rng = np.random.default_rng(params.seed)
    m = params.paths
    u: FloatArray = (np.argsort(rng.random((steps, m)), axis=1)
                     + rng.random((steps, m))) / m
    return u


def _excursions(summ: dict[int, FloatArray], full_ok: BoolArray, block: int,
                horizons: tuple[int, ...], u: FloatArray, min_blocks: int
                ) -> tuple[FloatArray, BoolArray]:
    """(S, H, 2, paths) simulated adverse excursions in start-σ units (long: below the
    start, short: above), and which symbols had enough full blocks to draw from."""
    n_sym, n = full_ok.shape
    n_valid = full_ok.sum(axis=1)  # (S,)
    enough = n_valid >= min_blocks
    # each symbol's usable starts first, in order: draw the q-th with q = u · count
    order = np.argsort(~full_ok, axis=1, kind="stable") + (np.arange(n_sym) * n)[:, None]
    order = order.reshape(-1)
    m = u.shape[1]
    base = (np.arange(n_sym) * n)[:, None]
    x = np.zeros((n_sym, m))
    s = np.ones((n_sym, m))
    mn = np.zeros((n_sym, m))
    mx = np.zeros((n_sym, m))
    out = np.full((n_sym, len(horizons), 2, m), np.nan)
    flat = {k: v.reshape(-1, 4) for k, v in summ.items()}
    for j in range(-(-max(horizons) // block)):
        q = np.minimum((u[j][None, :] * np.maximum(n_valid, 1)[:, None]).astype(np.int64),
                       np.maximum(n_valid - 1, 0)[:, None])
        pick = order[base + q]  # (S, m) rows of the flattened (S·n, 4) summaries
        for hi, h in enumerate(horizons):
            rest = h - j * block
            if 0 < rest < block:  # this horizon ends inside the block
                part = flat[rest][pick]
                out[:, hi, _LONG] = -np.minimum(mn, x + s * part[..., 1])
                out[:, hi, _SHORT] = np.maximum(mx, x + s * part[..., 2])
        b = flat[block][pick]
        np.minimum(mn, x + s * b[..., 1], out=mn)
        np.maximum(mx, x + s * b[..., 2], out=mx)
        x += s * b[..., 0]
        s *= b[..., 3]
        for hi, h in enumerate(horizons):
            if h == (j + 1) * block:
                out[:, hi, _LONG] = -mn
                out[:, hi, _SHORT] = mx
    return out, enough


def fit_tails(close: npt.ArrayLike, high: npt.ArrayLike, low: npt.ArrayLike,
              bars_per_hour: float, params: TailParams = TailParams(),
              horizons_h: tuple[int, ...] = HORIZONS_H) -> TailFit:
    """Fit the model to each column of (T, S) closes, highs and lows (oldest first, ending
    at the moment asked about; NaN where a bar is missing).

    Deterministic, and column by column: a symbol's fit is the same whatever other columns
    are passed with it."""
    c, h_, lo = as_2d(_f(close)), as_2d(_f(high)), as_2d(_f(low))
    n_sym = c.shape[1]
    hl = params.halflife_h * bars_per_hour
    block = max(1, round(params.block_h * bars_per_hour))
    horizons = tuple(max(1, round(h * bars_per_hour)) for h in horizons_h)
    lengths = tuple(h % block for h in horizons if h % block)
    u = _draws(params, -(-max(horizons) // block))
    m = params.paths
    k_tail = max(10, round(params.tail_fraction * m))
    # only the symbols with enough history are simulated (a replay of short windows, or a
    # new listing, costs nothing); the others keep NaN and ok False
    cols = np.flatnonzero(np.isfinite(c).sum(axis=0) >= params.min_history_h * bars_per_hour)
    exc = np.full((n_sym, len(horizons), 2, m), np.nan)
    enough = np.zeros(n_sym, dtype=bool)
    sigma_now, sigma_typ = np.full(n_sym, np.nan), np.full(n_sym, np.nan)
    if cols.size:
        st = standardise(c[:, cols], h_[:, cols], lo[:, cols], hl)
        sigma_now[cols], sigma_typ[cols] = st.sigma_now, st.sigma_typ
        summ, full_ok = block_summaries(st, block, hl, lengths)
        if full_ok.shape[1]:
            exc[cols], enough[cols] = _excursions(summ, full_ok, block, horizons, u, 10)
    ok = enough & np.isfinite(sigma_now) & (sigma_now > 0) & np.isfinite(sigma_typ)
    exc = np.where(ok[:, None, None, None], exc, 1.0)
    exc.sort(axis=-1)
    top = exc[..., m - k_tail:]
    tail_u = exc[..., m - k_tail - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 / np.mean(np.log(top / tail_u[..., None]), axis=-1)
    alpha = np.where(np.isfinite(alpha), np.clip(alpha, 0.5, 50.0), 50.0)
    n_h = len(horizons)
    offsets = np.arange(n_sym * n_h * 2, dtype=np.float64).reshape(n_sym, n_h, 2, 1) * _ROW_SPAN
    keys = _log_key(exc) + offsets
    weights = np.array([params.blend(h) for h in horizons_h])
    return TailFit(tuple(horizons_h), float(bars_per_hour),
                   np.where(ok, sigma_now, np.nan), np.where(ok, sigma_typ, np.nan),
                   weights, keys.reshape(-1), tail_u, alpha, ok, params)


# --------------------------------------------------------------------------- lookups


def _block_rows(fit: TailFit, rows: IntArray, sign: FloatArray, hi: int) -> IntArray:
    side = np.where(sign > 0, _LONG, _SHORT)
    return (rows * len(fit.horizons_h) + hi) * 2 + side


def tail_touch_probability(fit: TailFit, rows: npt.ArrayLike, sign: npt.ArrayLike,
                           distance: npt.ArrayLike, hours: float) -> FloatArray:
    """Probability of touching an adverse log ``distance`` within ``hours``, per position:
    the simulation's, through the horizon's recalibration map (``TailParams.calibration``).

    ``rows`` is each position's symbol row in the fit, ``sign`` +1 long / −1 short. A
    distance ≤ 0 gives 1, +inf gives 0; NaN where the symbol's fit is not ``ok``. Never
    below a shorter fitted horizon's probability: a touch within 1 h is a touch within 24 h
    (each horizon has its own scale, so far in the tail they could otherwise cross).
    """
    hi = fit.horizon(hours)
    return tail_touch_probabilities(fit, rows, sign, distance, fit.horizons_h[:hi + 1])[
        fit.horizons_h[hi]]


def tail_touch_probabilities(fit: TailFit, rows: npt.ArrayLike, sign: npt.ArrayLike,
                             distance: npt.ArrayLike, hours: tuple[int, ...]
                             ) -> dict[int, FloatArray]:
    """``tail_touch_probability`` at several fitted horizons at once (hours → array): one
    lookup and map per horizon, each at least the one before (``hours`` ascending)."""
    out: dict[int, FloatArray] = {}
    p: FloatArray | None = None
    for h in sorted(hours, key=fit.horizon):
        q = fit.params.calibration.at(h).apply(raw_touch_probability(fit, rows, sign,
                                                                     distance, h))
        p = q if p is None else np.fmax(p, q)
        out[h] = p
    return out


def raw_touch_probability(fit: TailFit, rows: npt.ArrayLike, sign: npt.ArrayLike,
                          distance: npt.ArrayLike, hours: float) -> FloatArray:
    """The simulation's own touch probability at one horizon alone, before the calibration
    map and the floor of the shorter horizons: what the map is fitted on."""
    r, sg, d = np.broadcast_arrays(np.asarray(rows, dtype=np.int64), _f(sign), _f(distance))
    hi = fit.horizon(hours)
    m = fit.params.paths
    k_tail = max(10, round(fit.params.tail_fraction * m))
    with np.errstate(divide="ignore", invalid="ignore"):
        uu = d / fit.sigma_eff(r, hours)
        b = _block_rows(fit, r, sg, hi)
        key = b * _ROW_SPAN + _log_key(np.where(np.isfinite(uu), uu, 1.0))
        flat = key.ravel()
        order = np.argsort(flat)  # sorted queries walk the keys in order: far fewer misses
        found = np.empty(flat.shape, dtype=np.int64)
        found[order] = np.searchsorted(fit.keys, flat[order], side="left")
        count = (b + 1) * m - found.reshape(key.shape)
        p = count / m
        side = np.where(sg > 0, _LONG, _SHORT)
        t_u = fit.tail_u[r, hi, side]
        t_a = fit.tail_alpha[r, hi, side]
        far = uu > t_u
        p = np.where(far, (k_tail / m) * (uu / t_u) ** (-t_a), p)
    p = np.where(d <= 0, 1.0, np.where(np.isposinf(d), 0.0, p))
    bad = ~fit.ok[r] | np.isnan(d)
    return np.where(bad, np.nan, np.clip(p, 0.0, 1.0))


def tail_required_distance(fit: TailFit, rows: npt.ArrayLike, sign: npt.ArrayLike,
                           target_prob: float, hours: float) -> FloatArray:
    """The smallest adverse log distance whose touch probability within ``hours`` is at
    most ``target_prob`` (the inverse of ``tail_touch_probability``, so also within every
    shorter fitted horizon); NaN where not ok."""
    if not 0.0 < target_prob < 1.0:
        raise ValueError(f"target probability must be in (0, 1), not {target_prob!r}")
    hi = fit.horizon(hours)
    d = _distance_at(fit, rows, sign, target_prob, fit.horizons_h[hi])
    for shorter in fit.horizons_h[:hi]:
        d = np.fmax(d, _distance_at(fit, rows, sign, target_prob, shorter))
    return d


def _distance_at(fit: TailFit, rows: npt.ArrayLike, sign: npt.ArrayLike, target_prob: float,
                 hours: float) -> FloatArray:
    """``tail_required_distance`` at one horizon alone: the distance the simulated
    probability that the map turns into ``target_prob`` needs."""
    r, sg = np.broadcast_arrays(np.asarray(rows, dtype=np.int64), _f(sign))
    hi = fit.horizon(hours)
    target_prob = fit.params.calibration.at(hours).invert(target_prob)
    m = fit.params.paths
    k_tail = max(10, round(fit.params.tail_fraction * m))
    side = np.where(sg > 0, _LONG, _SHORT)
    b = _block_rows(fit, r, sg, hi)
    need = math.floor(target_prob * m)  # paths allowed at or beyond the distance
    if target_prob * m >= k_tail:
        # the (need+1)-th largest excursion: just above it, at most `need` paths reach
        at = (b + 1) * m - need - 1
        u = np.exp(fit.keys[at] - b * _ROW_SPAN) * (1 + 1e-12)
    else:
        t_u, t_a = fit.tail_u[r, hi, side], fit.tail_alpha[r, hi, side]
        u = t_u * (target_prob * m / k_tail) ** (-1.0 / t_a) * (1 + 1e-9)
    d = u * fit.sigma_eff(r, hours)
    return np.where(fit.ok[r], d, np.nan)
