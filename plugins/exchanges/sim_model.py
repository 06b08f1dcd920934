"""The simulated market's generator: a factor model with GARCH volatility, regimes and cascades.

Pure numpy, deterministic from a seed. Each bar's log return is

    r[t, i] = load[i] · m[g] · f[t] + s_e[i] · k[g] · sqrt(h_i[t]) · z[t, i] − mr[i] · x[t, i]

with ``f`` the market factor (its own GARCH(1,1) variance ``h_0``, scaled by the regime ``g``,
minus the cascade ``pressure``), ``h_i`` each symbol's GARCH variance and ``x`` the log price
(mean reversion only for the counterweight). Regimes are calm (0), stressed (1) and cascade (2):
a Markov chain plus scheduled episodes. A cascade feeds on itself: the factor drop liquidates a
share of open interest, and the forced selling pushes the next bar down (``pressure``). In a
cascade the factor's volatility and loadings jump while idiosyncratic volatility shrinks, so
correlations go toward 1; book depth thins, open interest falls, funding swings negative and
liquidation volume spikes, takers sell and perps trade under their mark price. The
recursions loop over time, vectorised over symbols.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.types import BoolArray, FloatArray, IntArray

CALM, STRESSED, CASCADE = 0, 1, 2
REGIME_NAMES = ("calm", "stressed", "cascade")
YEAR_S = 365 * 86_400
FUNDING_INTERVAL_MS = 8 * 3_600_000
DEPTH_BAND_SCALE = (0.45, 1.0, 1.9)  # ±0.5 %, ±1 %, ±2 % relative to the ±1 % depth


@dataclass(frozen=True)
class AssetSpec:
    """One simulated perpetual. ``price`` is the price at the simulation clock."""

    base: str
    price: float
    vol: float  # annualised volatility in calm markets
    rho: float  # calm share of variance from the market factor (sets calm correlations)
    load_sign: float = 1.0  # −1: moves against the market (the counterweight)
    depth_usd: float = 5e6  # calm book depth per side within ±1 %, USDT
    volume_usd: float = 5e8  # calm daily volume, USDT
    oi_usd: float = 3e8  # open interest at the clock, USDT
    contract_value: float = 1.0  # base units per contract (OKX ctVal)
    mean_reversion: float = 0.0  # per bar, toward the starting log price
    regime_loading: tuple[float, float, float] | None = None  # own (calm, stressed, cascade)


MAJORS: tuple[AssetSpec, ...] = (
    AssetSpec("BTC", 95_000, 0.50, 0.85, depth_usd=3.0e7, volume_usd=8e9, oi_usd=9e9,
              contract_value=0.01),
    AssetSpec("ETH", 3_400, 0.65, 0.75, depth_usd=1.6e7, volume_usd=4e9, oi_usd=5e9,
              contract_value=0.1),
    AssetSpec("SOL", 180, 0.85, 0.62, depth_usd=6e6, volume_usd=1.5e9, oi_usd=1.8e9),
    AssetSpec("XRP", 2.3, 0.80, 0.55, depth_usd=5e6, volume_usd=1.2e9, oi_usd=1.2e9,
              contract_value=100),
    AssetSpec("DOGE", 0.32, 0.95, 0.55, depth_usd=4e6, volume_usd=1e9, oi_usd=9e8,
              contract_value=1000),
    AssetSpec("LINK", 22, 0.85, 0.58, depth_usd=2e6, volume_usd=4e8, oi_usd=3e8),
    AssetSpec("LTC", 105, 0.70, 0.55, depth_usd=1.5e6, volume_usd=3e8, oi_usd=2.5e8),
    AssetSpec("AVAX", 36, 0.90, 0.58, depth_usd=1.5e6, volume_usd=3e8, oi_usd=2.5e8),
    AssetSpec("ADA", 0.95, 0.80, 0.55, depth_usd=2e6, volume_usd=4e8, oi_usd=3e8,
              contract_value=100),
    AssetSpec("DOT", 6.8, 0.80, 0.55, depth_usd=1e6, volume_usd=2e8, oi_usd=1.5e8),
    AssetSpec("BNB", 690, 0.55, 0.55, depth_usd=3e6, volume_usd=5e8, oi_usd=4e8,
              contract_value=0.01),
    AssetSpec("TRX", 0.25, 0.45, 0.30, depth_usd=1e6, volume_usd=1.5e8, oi_usd=1e8,
              contract_value=1000),
)
COUNTERWEIGHT = AssetSpec("VOLX", 50.0, 0.90, 0.6, load_sign=-1.0, depth_usd=1e6,
                          volume_usd=1e8, oi_usd=5e7, mean_reversion=1 / 192,
                          regime_loading=(0.1, 2.0, 4.0))
"""A synthetic volatility index: it rises when the market falls, and most in cascades.

Its loading on the market is small in calm markets and jumps under stress (convex), like a
real volatility index, so it pays off exactly when a static β hedge fails."""


def universe(n_symbols: int = 12, *, counterweight: bool = True,
             seed: int = 7) -> tuple[AssetSpec, ...]:
    """The first ``n_symbols`` majors, then synthetic ``SYN001``… alts, then the counterweight."""
    if not 1 <= n_symbols <= 300:
        raise ValueError(f"n_symbols must be 1..300, not {n_symbols}")
    specs = list(MAJORS[:n_symbols])
    extra = n_symbols - len(specs)
    if extra:
        rng = np.random.default_rng([seed, 1])
        prices = np.exp(rng.uniform(np.log(0.005), np.log(200), extra))
        vols = rng.uniform(0.8, 1.4, extra)
        rhos = rng.uniform(0.3, 0.6, extra)
        size = np.exp(rng.uniform(np.log(2e7), np.log(3e8), extra))
        for k in range(extra):
            p = float(prices[k])
            specs.append(AssetSpec(
                f"SYN{k + 1:03d}", float(f"{p:.4g}"), float(vols[k]), float(rhos[k]),
                depth_usd=float(size[k] / 100), volume_usd=float(size[k]),
                oi_usd=float(size[k] * 0.8), contract_value=float(10.0 ** round(np.log10(10 / p)))))
    if counterweight:
        specs.append(COUNTERWEIGHT)
    return tuple(specs)


@dataclass(frozen=True)
class SimParams:
    """Regime effects are (calm, stressed, cascade) triples."""

    garch_alpha: float = 0.06
    garch_beta: float = 0.92
    factor_vol: tuple[float, float, float] = (1.0, 1.7, 3.0)
    idio_vol: tuple[float, float, float] = (1.0, 1.1, 0.6)
    loading: tuple[float, float, float] = (1.0, 1.1, 1.3)
    depth: tuple[float, float, float] = (1.0, 0.7, 0.33)  # cascade: −67 % depth
    bid_skew: tuple[float, float, float] = (0.0, 0.05, 0.2)  # bids thin more than asks
    volume: tuple[float, float, float] = (1.0, 1.6, 3.5)
    liq_sensitivity: tuple[float, float, float] = (0.3, 1.0, 3.0)  # OI share per unit drop
    funding_tilt: tuple[float, float, float] = (0.0, 5e-5, -8e-4)  # per 8h
    taker_tilt: tuple[float, float, float] = (0.0, 0.03, 0.15)  # extra sell share of volume
    basis_tilt: tuple[float, float, float] = (0.0, -2e-4, -2.5e-3)  # last / mark − 1
    cascade_kick: float = 2.0  # opening shove of a cascade, in calm factor sigmas
    cascade_floor: float = 1.5  # least selling pressure while a cascade lasts, same units
    pressure_decay: float = 0.4
    feedback: float = 0.15  # next-bar drift per unit of liquidated OI share
    oi_reversion: float = 1 / 288  # per bar: open interest rebuilds over days
    # Markov chain: mean stays of ~7 days calm, ~11 h stressed, ~5 h cascade; about one
    # stressed spell in ten turns into a cascade.
    calm_to_stressed: float = 1 / 672
    stressed_to_cascade: float = 1 / 400
    stressed_to_calm: float = 1 / 45
    cascade_to_stressed: float = 1 / 20


@dataclass(frozen=True)
class Episode:
    """A scheduled stress episode: ``stress_bars`` stressed, then a cascade, then recovery."""

    start: int  # bar index
    stress_bars: int = 48
    cascade_bars: int = 24
    recovery_bars: int = 48


@dataclass(frozen=True, eq=False)
class SimPaths:
    """Everything generated: (T,) times and regimes, (T, N) per-symbol arrays.

    Per-bar statistics are keyed like the bars (open time) and hold the value as of the close;
    ``liquidations`` is the USDT notional liquidated during the bar.
    """

    symbols: tuple[str, ...]
    times: IntArray
    regime: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray  # base units
    open_interest: FloatArray  # USDT
    liquidations: FloatArray  # USDT
    depth_bid: FloatArray  # (T, N, 3) USDT
    depth_ask: FloatArray
    funding_times: IntArray  # (K,)
    funding: FloatArray  # (K, N)
    taker_sell: FloatArray  # (T, N) share of taker volume that sold during the bar
    basis: FloatArray  # (T, N) last / mark − 1 at the close

    @property
    def log_returns(self) -> FloatArray:
        return np.diff(np.log(self.close), axis=0, prepend=np.log(self.open[:1]))

    def in_regime(self, regime: int) -> BoolArray:
        inside: BoolArray = self.regime == regime
        return inside


def regime_path(n_bars: int, rng: np.random.Generator, params: SimParams,
                episodes: Sequence[Episode] = ()) -> IntArray:
    """Markov-chain regimes, with the scheduled ``episodes`` written over them."""
    u = rng.random(n_bars)
    out = np.zeros(n_bars, np.int64)
    g = CALM
    for t in range(n_bars):
        if g == CALM and u[t] < params.calm_to_stressed:
            g = STRESSED
        elif g == STRESSED:
            if u[t] < params.stressed_to_cascade:
                g = CASCADE
            elif u[t] > 1 - params.stressed_to_calm:
                g = CALM
        elif g == CASCADE and u[t] < params.cascade_to_stressed:
            g = STRESSED
        out[t] = g
    for e in episodes:
        a, b = e.start, e.start + e.stress_bars
        c, d = b + e.cascade_bars, b + e.cascade_bars + e.recovery_bars
        out[max(0, a):max(0, b)] = STRESSED
        out[max(0, b):max(0, c)] = CASCADE
        out[max(0, c):max(0, d)] = STRESSED
    return out


def simulate(specs: Sequence[AssetSpec], *, n_bars: int, start_ms: int, bar_ms: int,
             seed: int, anchor: int | None = None, episodes: Sequence[Episode] = (),
             params: SimParams | None = None) -> SimPaths:
    """Generate ``n_bars`` bars from ``start_ms``; prices equal ``spec.price`` at bar ``anchor``
    (default: the last bar)."""
    p = params or SimParams()
    n = len(specs)
    rng = np.random.default_rng([seed, 0])
    regime = regime_path(n_bars, rng, p, episodes)
    z = rng.standard_normal((n_bars, n + 1))  # column 0: the market factor
    noise = rng.standard_normal((n_bars, n, 3))  # depth, volume, funding noise

    per_bar = np.sqrt(bar_ms / 1000 / YEAR_S)
    sig = np.array([s.vol for s in specs]) * per_bar
    rho = np.array([s.rho for s in specs])
    load = np.array([s.load_sign for s in specs]) * np.sqrt(rho) * sig / sig.max()
    f_sig = sig.max()  # the factor in units of the most-loaded asset's calm sigma
    s_e = np.sqrt(1 - rho) * sig
    mr = np.array([s.mean_reversion for s in specs])
    oi_w = np.array([s.oi_usd if s.load_sign > 0 else 0.0 for s in specs])
    oi_w = oi_w / oi_w.sum() if oi_w.sum() > 0 else oi_w
    fvol, ivol, lmult = (np.asarray(v) for v in (p.factor_vol, p.idio_vol, p.loading))
    # (3, n): each asset's loading multiplier per regime; most share the market's
    lmult = np.array([s.regime_loading or tuple(lmult) for s in specs], dtype=float).T
    liq_k = np.asarray(p.liq_sensitivity)
    dmult = np.asarray(p.depth)

    a, b = p.garch_alpha, p.garch_beta
    omega = 1 - a - b
    h = np.ones(n + 1)
    r = np.empty((n_bars, n))
    hs = np.empty((n_bars, n))
    liq = np.empty((n_bars, n))
    logoi = np.empty((n_bars, n))
    depth_level = np.empty(n_bars)
    x = np.zeros(n)
    u = np.zeros(n)
    pressure, dl, prev = 0.0, 1.0, CALM
    for t in range(n_bars):
        g = int(regime[t])
        if t:
            h = omega + a * h * z[t - 1] ** 2 + b * h
        if g == CASCADE:
            if prev != CASCADE:
                pressure += p.cascade_kick * f_sig
            pressure = max(pressure, p.cascade_floor * f_sig)
        f = fvol[g] * f_sig * np.sqrt(h[0]) * z[t, 0] - pressure
        rt = load * lmult[g] * f + s_e * ivol[g] * np.sqrt(h[1:]) * z[t, 1:] - mr * x
        x += rt
        frac = np.minimum(0.15, liq_k[g] * (0.85 * np.maximum(-rt, 0) + 0.15 * np.maximum(rt, 0)))
        pressure = p.pressure_decay * pressure + p.feedback * float(oi_w @ frac)
        if g != CASCADE:
            pressure *= 0.5  # forced selling fades quickly once the cascade is over
        u += -p.oi_reversion * u + 0.002 * noise[t, :, 2] + np.log1p(-frac)
        dl += 0.5 * (dmult[g] - dl)
        r[t], hs[t], liq[t], logoi[t], depth_level[t] = rt, h[1:], frac, u, dl
        prev = g

    logp = np.cumsum(r, axis=0)
    k = n_bars - 1 if anchor is None else int(np.clip(anchor, 0, n_bars - 1))
    price0 = np.array([s.price for s in specs])
    close = price0 * np.exp(logp - logp[k])
    open_ = np.vstack([close[:1] * np.exp(-r[:1]), close[:-1]])
    bar_sig = (sig * np.sqrt(hs) * ivol[regime][:, None]
               + np.abs(load) * f_sig * fvol[regime][:, None])
    wick = np.abs(rng.standard_normal((2, n_bars, n))) * 0.5 * bar_sig
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])

    oi_units = np.array([s.oi_usd for s in specs]) / price0 * np.exp(logoi - logoi[k])
    open_interest = oi_units * close
    prev_units = np.vstack([oi_units[:1], oi_units[:-1]])
    liquidations = liq * prev_units * close

    day_bars = 86_400_000 / bar_ms
    vol_usd = (np.array([s.volume_usd for s in specs]) / day_bars
               * (0.4 + 0.6 * np.abs(r) / sig) * np.asarray(p.volume)[regime][:, None]
               * np.exp(0.25 * noise[:, :, 0]))
    volume = (vol_usd + liquidations) / close

    # Books thin when volatility is high, and more in a cascade (depth_level).
    level = (np.array([s.depth_usd for s in specs]) * depth_level[:, None]
             * np.clip(hs, 0.25, 25.0) ** -0.25 * np.exp(0.1 * noise[:, :, 1]))
    skew = np.asarray(p.bid_skew)[regime][:, None, None]
    band = np.asarray(DEPTH_BAND_SCALE)[None, None, :]
    depth_bid = level[:, :, None] * band * (1 - skew)
    depth_ask = level[:, :, None] * band * (1 + 0.5 * skew)

    times = start_ms + bar_ms * np.arange(n_bars, dtype=np.int64)
    funding_times, funding = _funding(times, r, regime, noise[:, :, 2], bar_ms, p)
    # drawn from a stream of their own, so the prices above stay what they always were
    extra = np.random.default_rng([seed, 2]).standard_normal((2, n_bars, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        push = np.clip(-r / np.where(bar_sig > 0, bar_sig, 1.0), -3, 3)
    taker_sell = np.clip(0.5 + 0.04 * push + np.asarray(p.taker_tilt)[regime][:, None]
                         + 0.02 * extra[0], 0.05, 0.95)
    basis = (np.asarray(p.basis_tilt)[regime][:, None] * (1 + 0.3 * np.abs(extra[1]))
             + 2e-4 * extra[1] * sig / sig.max())
    return SimPaths(tuple(s.base for s in specs), times, regime, open_, high, low, close,
                    volume, open_interest, liquidations, depth_bid, depth_ask,
                    funding_times, funding, taker_sell, basis)


def _funding(times: IntArray, r: FloatArray, regime: IntArray, noise: FloatArray, bar_ms: int,
             p: SimParams) -> tuple[IntArray, FloatArray]:
    """8-hourly rates: the mean premium over each interval, settled at its end."""
    per = max(1, FUNDING_INTERVAL_MS // bar_ms)
    t0 = int(-(-times[0] // FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS)  # first settlement
    first = int((t0 - times[0]) // bar_ms)
    trail = np.cumsum(r, axis=0)
    trail = trail - np.vstack([np.zeros((per, r.shape[1])), trail[:-per]])[: len(r)]
    premium = (1e-4 + 0.02 * trail + 3e-5 * noise
               + np.asarray(p.funding_tilt)[regime][:, None])
    k = (len(r) - first) // per + 1 if first <= len(r) else 0
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros((0, r.shape[1]))
    # Settlement j covers the `per` bars that end at its time (the first may be partial).
    starts = first + per * np.arange(k) - per
    rows = [premium[max(0, s):s + per].mean(axis=0) if s + per > 0 else premium[0]
            for s in starts]
    rates = np.clip(np.array(rows), -0.0075, 0.0075)
    return t0 + FUNDING_INTERVAL_MS * np.arange(k, dtype=np.int64), rates

