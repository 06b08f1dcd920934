"""Bar views for many starts over one market: what ``plugins.strategies.bars.replay_bars``
yields, built from per-bar values converted once and shared by every start.

A study asks five strategies at every bar of hundreds of overlapping 90-day windows. The
views of two starts differ only in the position (its entry and size), so the per-bar values
(prices, the hedge instrument, β, correlations, regime, cascade level) are turned into plain
Python lists once, and counterweights — the expensive part, from every return up to the bar —
are computed once per bar and remembered: they depend on the bar and the side, never on the
start. ``tests/backtest/test_views.py`` checks these views equal ``replay_bars``'s.

One difference, on purpose: a symbol's price in ``prices`` is its last valid close, as the
live engine's (``MarketSnapshot.last_prices``), where ``replay_bars`` gives NaN for a missing
bar. Real data have missing bars (outages, incomplete 15m buckets); with NaN there, a strategy
still holding a hedge in that symbol would answer with a leg "without a price" and be left
out of the whole backtest for one missing bar.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backtest.prepared import Prepared
from core.cascade import level_of
from core.counterweights import Counterweight, counterweights, stress_mask
from core.evaluate import EngineParams
from core.market_inputs import market_returns
from core.position_series import PositionSeries
from core.regimes import REGIME_NAMES
from core.returns import log_returns
from core.types import FloatArray, MarketSnapshot, Position
from core.volatility import rolling_vol
from plugins.strategies.base import BarView


class ViewMaker:
    """``view(t, position)``: the ``BarView`` of ``position`` at the close of bar ``t``."""

    def __init__(self, snap: MarketSnapshot, series: PositionSeries, params: EngineParams,
                 sign: int, market_cols: Sequence[int] | None = None,
                 last_close: FloatArray | None = None) -> None:
        cp = params.corr
        self._params = params
        self._symbols = snap.symbols
        self._instruments = snap.instruments
        self._target = series.target
        self._sign = sign
        self._close = (snap.close if last_close is None else last_close).tolist()
        self._time = (snap.times + snap.timeframe_ms).tolist()
        self._hedge = [snap.symbols[h] if h >= 0 else None for h in series.hedge.tolist()]
        self._beta_fast = series.beta_fast.tolist()
        self._beta_ewma = series.beta_ewma.tolist()
        self._corr_fast = series.corr_fast.tolist()
        self._corr_slow = series.corr_slow.tolist()
        self._regime = [REGIME_NAMES[int(x)] for x in series.regime.tolist()]
        self._score = series.cascade_score.tolist()
        self._level = [level_of(x) for x in self._score]
        self._high_corr, self._low_corr = cp.high_corr, cp.low_corr
        self._pair_col = {snap.symbols[j]: k for k, j in enumerate(series.others)}
        nan = np.full((snap.n_bars, len(series.others)), np.nan)
        self._beta_all = series.beta_all if series.beta_all is not None else nan
        self._corr_all = series.corr_all if series.corr_all is not None else nan
        self._r = log_returns(snap.close)
        cols = list(market_cols) if market_cols is not None else list(range(snap.n_symbols))
        self._mvol = rolling_vol(market_returns(self._r[:, cols]), cp.fast, cp.min_fast)[:, 0]
        self._dmvol = np.diff(self._mvol, prepend=np.nan)
        self._cw: dict[int, tuple[Counterweight, ...]] = {}

    @classmethod
    def of(cls, m: Prepared, params: EngineParams) -> ViewMaker:
        """The views of a prepared market: last valid closes, the market from the real
        columns (not a book's index)."""
        n = m.snap.n_symbols - (0 if m.book.single else 1)
        return cls(m.snap, m.series, params, m.book.sign, range(n), m.pc)

    def counterweights(self, t: int) -> tuple[Counterweight, ...]:
        """The engine's counterweights from returns up to bar ``t`` (remembered per bar)."""
        legs = self._cw.get(t)
        if legs is None:
            p = self._params
            legs = counterweights(self._r[: t + 1], self._symbols, self._target, self._sign,
                                  stress_mask(self._mvol[: t + 1]), self._dmvol[: t + 1],
                                  k=p.counterweights_k,
                                  min_stress_bars=p.min_stress_bars).legs
            self._cw[t] = legs
        return legs

    def pair(self, t: int, symbol: str) -> tuple[float, float]:
        """Fast β and ρ of the position's symbol to ``symbol`` at bar ``t``."""
        k = self._pair_col.get(symbol)
        if k is None:
            return float("nan"), float("nan")
        return self._beta_all.item(t, k), self._corr_all.item(t, k)

    def view(self, t: int, position: Position) -> BarView:
        """The ``BarView`` of ``position`` at bar ``t``.

        Filled through the instance ``__dict__`` rather than ``BarView(...)``: the frozen
        dataclass's ``__init__`` sets its 21 fields one ``object.__setattr__`` at a time, which
        was a quarter of a study's time at one view per bar per start. The fields are the
        same (``tests/backtest/test_views.py``), and ``BarView`` has no ``__post_init__``.
        """
        cf = self._corr_fast[t]
        view = object.__new__(BarView)
        view.__dict__.update(
            t=t, time_ms=self._time[t], position=position,
            prices=dict(zip(self._symbols, self._close[t], strict=True)),
            instruments=self._instruments, hedge_symbol=self._hedge[t],
            beta_fast=self._beta_fast[t], beta_ewma=self._beta_ewma[t], corr_fast=cf,
            corr_slow=self._corr_slow[t], effectiveness=cf * cf, regime=self._regime[t],
            cascade_level=self._level[t], cascade_score=self._score[t],
            high_corr=self._high_corr, low_corr=self._low_corr,
            _counterweights=lambda: self.counterweights(t),
            _pair=lambda symbol: self.pair(t, symbol))
        return view
