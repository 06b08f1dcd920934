"""``evaluate(snapshot, positions, params) -> EngineResult``: everything the engine knows at
the latest bar, in one pure call — the correlation view, regimes, the cascade score, every
position's liquidation risk, its β hedge and the seed's variant, counterweights and the
take-profit signal. ``advance`` is the incremental path for the next bar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from core.book_risk import bare_instrument, book_risk
from core.cascade import CascadeReading, cascade_reading
from core.cascade_series import CANDLE_FACTORS, candle_factors
from core.counterweights import (
    CounterweightBasis,
    CounterweightResult,
    counterweight_basis,
    rank_counterweights_many,
    stress_mask,
)
from core.hedging import beta_matrix, ewma_beta_matrix
from core.market_inputs import flow_inputs, funding_per_day, latest_depth, market_returns
from core.recommend import (
    HedgePlan,
    HedgeRecommendation,
    HeldHedge,
    TakeProfitSignal,
    best_hedges,
    pair_regimes,
    plan_hedge,
    recommend,
    take_profit_signals,
)
from core.regimes import UNKNOWN, market_regime
from core.returns import log_returns
from core.risk import RiskReport, risk_report
from core.risk_many import RiskArrays
from core.shock import stress_betas
from core.streaming import StreamState, stream_init, stream_matrices, stream_update
from core.tail_risk import TailFit, TailParams, fit_tails
from core.types import BoolArray, FloatArray, Instrument, MarketSnapshot, Position
from core.views import CorrelationParams, CorrelationView, correlation_view
from core.volatility import rolling_vol


@dataclass(frozen=True)
class EngineParams:
    """Engine settings in bars (``settings.engine.engine_params`` builds them from config)."""

    corr: CorrelationParams = field(default_factory=CorrelationParams)
    target_touch_prob: float = 0.01
    taker_fee: float = 0.0005
    seed_shrink: float = 0.5
    seed_grow: float = 1.25
    counterweights_k: int = 3
    min_stress_bars: int = 24
    regime_lookback: int = 96
    hedge_candidates: tuple[str, ...] | None = None  # None: every symbol in the snapshot
    tail: TailParams = field(default_factory=TailParams)

    @property
    def bars_per_hour(self) -> float:
        return 3_600_000 / self.corr.timeframe_ms


@dataclass(frozen=True, eq=False)
class EngineResult:
    source: str
    simulated: bool
    time_ms: int  # close of the latest bar
    data_age_ms: int
    symbols: tuple[str, ...]
    prices: FloatArray  # mark or last close per symbol
    view: CorrelationView
    beta_fast: FloatArray
    rho_fast: FloatArray
    beta_ewma: FloatArray
    market_spike: bool  # the market correlation index spikes vs its 30-day baseline
    cascade: CascadeReading
    positions: tuple[Position, ...]
    risk: RiskArrays | None
    hedge_plans: Mapping[str, HedgePlan]  # per symbol: sizes scale with each position
    counterweights: Mapping[tuple[str, str], CounterweightResult]
    take_profit: tuple[TakeProfitSignal, ...]
    sigma_per_bar: FloatArray  # EWMA σ per symbol
    instruments: Mapping[str, Instrument]
    params: EngineParams
    warnings: tuple[str, ...] = field(default=())
    tails: TailFit | None = None  # the calibrated tail model, one row per symbol
    stress_beta: FloatArray | None = None  # (N, N) signed β of i on j over stress bars

    def index(self, symbol: str) -> int:
        return self.symbols.index(symbol)

    def risk_report(self, i: int) -> RiskReport:
        """The full JSON-ready report of position ``i``."""
        pos = self.positions[i]
        j = self.index(pos.symbol)
        return risk_report(pos, self.instruments.get(pos.symbol) or bare_instrument(pos.symbol),
                           float(self.prices[j]), float(self.sigma_per_bar[j]),
                           self.params.bars_per_hour, target_prob=self.params.target_touch_prob,
                           tails=self.tails, tail_row=j)

    def hedge(self, i: int) -> HedgeRecommendation:
        """Position ``i``'s β hedge and the seed's variant, sized to the position."""
        pos = self.positions[i]
        return recommend(pos, self.hedge_plans[pos.symbol], symbols=self.symbols,
                         instruments=self.instruments, prices=self.prices)

    @property
    def hedges(self) -> tuple[HedgeRecommendation, ...]:
        """Every position's hedge (built on demand: cheap per position, not free for 10k)."""
        return tuple(self.hedge(i) for i in range(len(self.positions)))

    def counterweights_for(self, i: int) -> CounterweightResult | None:
        pos = self.positions[i]
        return self.counterweights.get((pos.symbol, pos.side))


@dataclass(frozen=True, eq=False)
class MarketState:
    """The market-wide half of ``evaluate``: the same for every position on one snapshot, so
    a chat front end answering many ``/hedge`` questions computes it once per snapshot."""

    snap: MarketSnapshot
    returns: FloatArray
    view: CorrelationView
    beta_fast: FloatArray
    rho_fast: FloatArray
    beta_ewma: FloatArray
    market_spike: bool
    cascade: CascadeReading
    prices: FloatArray
    column: Mapping[str, int]
    stress: CounterweightBasis | None  # None when counterweights are off
    tails: TailFit  # the calibrated tail model of every symbol
    stress_beta: FloatArray  # (N, N) signed β of i on j over the stress bars
    stress_rows: BoolArray  # (T,) the stress bars (``stress_mask`` of the market's volatility)


def market_state(snap: MarketSnapshot, params: EngineParams = EngineParams()) -> MarketState:
    """Correlation view, regimes, cascade reading, β matrices, counterweight basis."""
    p, cp = params, params.corr
    symbols = snap.symbols
    r = log_returns(snap.close)
    view = correlation_view(snap.close, cp, with_z=False, returns=r)
    tail = slice(-(cp.slow + cp.fast), None)
    factors = candle_factors(r[tail], cp, high=snap.high[tail], low=snap.low[tail],
                             volume=snap.volume[tail])
    z_series = factors["corr_z"]
    # the debounced state only depends on the recent past: a spike needs min_regime_bars in
    # a row, so a few lookbacks of history settle it
    spike = bool(market_regime(z_series[-4 * p.regime_lookback:], cp.regime_z,
                               cp.min_regime_bars, cp.z_hysteresis).spike[-1:].any())
    beta_f, rho_f, _ = beta_matrix(r, cp.fast, cp.min_fast)
    beta_e = ewma_beta_matrix(view.ewma_cov)
    prices = snap.last_prices()
    inputs = flow_inputs(snap)
    inputs.update({k: float(factors[k][-1]) if k in factors and factors[k].size else np.nan
                   for k in CANDLE_FACTORS})
    cascade = cascade_reading(inputs, snap.as_of_ms)
    basis = None
    mvol = rolling_vol(market_returns(r), cp.fast, cp.min_fast)[:, 0]
    stress = stress_mask(mvol)
    if p.counterweights_k > 0:
        basis = counterweight_basis(r, symbols, stress, np.diff(mvol, prepend=np.nan),
                                    funding_per_day=funding_per_day(snap.funding),
                                    depth_usdt=latest_depth(snap.depth))
    tails = fit_tails(snap.close, snap.high, snap.low, p.bars_per_hour, p.tail)
    return MarketState(snap, r, view, beta_f, rho_f, beta_e, spike, cascade, prices,
                       {s: j for j, s in enumerate(symbols)}, basis, tails,
                       stress_betas(r, stress, p.min_stress_bars), stress)


def evaluate(snap: MarketSnapshot, positions: Sequence[Position] = (),
             params: EngineParams = EngineParams(),
             held_hedges: Sequence[HeldHedge] = (),
             market: MarketState | None = None) -> EngineResult:
    """Everything for the live bar. Positions in symbols the snapshot lacks are reported in
    ``warnings`` and get no risk numbers rather than wrong ones. ``market`` (from
    ``market_state`` on the same snapshot and parameters) skips the market-wide half."""
    m = market if market is not None and market.snap is snap else market_state(snap, params)
    p, cp = params, params.corr
    symbols, r, view, prices, column = snap.symbols, m.returns, m.view, m.prices, m.column
    beta_f, rho_f, beta_e, cascade = m.beta_fast, m.rho_fast, m.beta_ewma, m.cascade
    warnings: list[str] = [f"{s}: {why}" for s, why in snap.missing.items()]
    held = list(map(attrgetter("symbol"), positions))
    kept = list(positions)
    if not all(map(column.__contains__, held)):
        warnings += [f"position {i}: {s} is not in the market data"
                     for i, s in enumerate(held) if s not in column]
        kept = [pos for pos, s in zip(positions, held, strict=True) if s in column]
        held = [s for s in held if s in column]
    pidx = np.fromiter(map(column.__getitem__, held), dtype=np.int64, count=len(held))
    risk = book_risk(kept, pidx, snap.instruments, symbols, prices, view.vol_ewma,
                     p.bars_per_hour, p.target_touch_prob, m.tails)

    cands = [column[s] for s in (p.hedge_candidates or symbols) if s in column]
    targets = list(set(pidx.tolist()))
    choice = dict(zip(targets, best_hedges(targets, rho_f, cands), strict=True))
    pairs = sorted({(t, h) for t, h in choice.items() if h is not None})
    regimes = pair_regimes(r, pairs, cp.fast, cp.min_fast, cp.high_corr, cp.low_corr,
                           cp.hysteresis, cp.min_regime_bars, p.regime_lookback)
    plans = {symbols[t]: plan_hedge(
        t, h, symbols=symbols, beta_fast=beta_f, beta_ewma=beta_e, rho_fast=rho_f,
        corr_slow=view.slow_corr, regime_code=regimes.get((t, h), UNKNOWN),
        high_corr=cp.high_corr, low_corr=cp.low_corr, shrink=p.seed_shrink, grow=p.seed_grow)
        for t, h in choice.items()}

    cws: dict[tuple[str, str], CounterweightResult] = {}
    if m.stress is not None and p.counterweights_k > 0:
        keys = list(dict.fromkeys(map(attrgetter("symbol", "side"), kept)))
        ranked = rank_counterweights_many(
            m.stress, [column[sym] for sym, _ in keys],
            [1 if side == "long" else -1 for _, side in keys],
            k=p.counterweights_k, min_stress_bars=p.min_stress_bars)
        cws = dict(zip(keys, ranked, strict=True))
    tp = take_profit_signals(held_hedges, dict(zip(symbols, prices.tolist(), strict=True)),
                             cascade.level, cascade.rank)
    return EngineResult(
        snap.source, snap.simulated, snap.last_bar_close_ms, snap.data_age_ms, symbols, prices,
        view, beta_f, rho_f, beta_e, m.market_spike, cascade, tuple(kept), risk, plans, cws,
        tuple(tp),
        view.vol_ewma, snap.instruments, p, tuple(warnings), m.tails, m.stress_beta)


def stream_start(snap: MarketSnapshot, params: EngineParams = EngineParams()) -> StreamState:
    """Incremental state after the snapshot's bars, for ``advance``."""
    cp = params.corr
    return stream_init(log_returns(snap.close), cp.fast, cp.slow, cp.halflife, cp.min_fast,
                       cp.min_slow, cp.min_ewma)


def advance(state: StreamState, prev_close: FloatArray, close: FloatArray
            ) -> tuple[StreamState, FloatArray, FloatArray]:
    """One new bar: the updated state and the fast and EWMA correlation matrices, without
    recomputing 30 days (the cascade watch's path between full cycles)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        row = np.log(np.asarray(close, dtype=np.float64) / np.asarray(prev_close,
                                                                       dtype=np.float64))
    new = stream_update(state, row)
    m = stream_matrices(new)
    return new, m.fast_corr, m.ewma_corr
