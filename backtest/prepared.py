"""What every start of a study shares, computed once: the main book, filled prices, cost
inputs, funding, liquidation ranges, the book's every-bar statistics and its bar views.

A study runs hundreds of starts over one snapshot; each start only does bookkeeping and asks
the strategies. Everything here depends on the data alone (never on a start), so it is built
once and shared by every start — and, through ``fork``, by every worker process.

**Books.** A main position can be a book of several symbols with weights
(``--main BTC,ETH,SOL --weights 0.5,0.3,0.2``). Strategies see the book as one position in a
synthetic column ``BOOK``: a constant-weight index (each bar's return is the weighted sum of
the constituents' simple returns), so its statistics — β, correlations, the hedge instrument,
counterweights — are the same for every start. The traded main legs are the constituents,
sized at each entry by weight and never resized; the index is what strategies size hedges
against, and over a 90-day horizon the held book drifts from constant weights by the
constituents' relative moves (stated in the assumptions). A single main symbol is its own
column, with no synthetic index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backtest import costs as C
from backtest.margin import MaintenanceTable
from core.cascade_series import snapshot_cascade_series
from core.evaluate import EngineParams
from core.position_series import PositionSeries, position_series
from core.returns import log_returns
from core.types import BoolArray, FloatArray, Instrument, MarketSnapshot
from i18n import _

BOOK = "BOOK"


@dataclass(frozen=True)
class MainBook:
    """The main position: canonical symbols with weights summing to 1, and one side."""

    legs: tuple[tuple[str, float], ...]
    side: str = "long"

    @classmethod
    def of(cls, symbols: tuple[str, ...], weights: tuple[float, ...] | None = None,
           side: str = "long") -> MainBook:
        """Validated weights (equal when not given), normalised to sum to 1."""
        if not symbols:
            raise ValueError(_("the main book needs at least one symbol"))
        if len(set(symbols)) != len(symbols):
            raise ValueError(_("a symbol appears twice in the main book"))
        w = weights or tuple(1.0 for _ in symbols)
        if len(w) != len(symbols):
            raise ValueError(_("{symbols} main symbols but {weights} weights").format(
                symbols=len(symbols), weights=len(w)))
        if not all(math.isfinite(x) and x > 0 for x in w):
            raise ValueError(_("weights must be positive numbers"))
        total = float(sum(w))
        return cls(tuple((s, x / total) for s, x in zip(symbols, w, strict=True)), side)

    @property
    def sign(self) -> int:
        return 1 if self.side == "long" else -1

    @property
    def single(self) -> bool:
        return len(self.legs) == 1

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.legs)

    def label(self) -> str:
        """"BTC" or "BTC 50% + ETH 30% + SOL 20%"."""
        if self.single:
            return self.legs[0][0].split("-")[0]
        return " + ".join(f"{s.split('-')[0]} {w:.0%}" for s, w in self.legs)


def book_snapshot(snap: MarketSnapshot, book: MainBook) -> MarketSnapshot:
    """``snap`` with the ``BOOK`` index column appended (see the module docstring)."""
    cols = [snap.index(s) for s in book.symbols]
    w = np.array([x for _, x in book.legs])
    r = np.nan_to_num(log_returns(snap.close)[:, cols])  # a missing bar moves nothing
    simple = (np.exp(r) - 1.0) @ w
    level = 100.0 * np.exp(np.cumsum(np.log1p(simple)))
    opens = np.concatenate([[100.0], level[:-1]])

    def add(a: FloatArray, col: FloatArray) -> FloatArray:
        return np.column_stack([a, col])

    return MarketSnapshot.build(
        source=snap.source, timeframe_ms=snap.timeframe_ms, symbols=(*snap.symbols, BOOK),
        times=snap.times, open=add(snap.open, opens),
        high=add(snap.high, np.maximum(opens, level)), low=add(snap.low, np.minimum(opens, level)),
        close=add(snap.close, level), volume=add(snap.volume, np.ones(snap.n_bars)),
        server_time_ms=snap.server_time_ms, simulated=snap.simulated,
        instruments=snap.instruments, funding=snap.funding, missing=snap.missing)


def filled_prices(snap: MarketSnapshot) -> tuple[FloatArray, FloatArray]:
    """Opens and closes with missing bars filled by the last close: no move over a gap."""
    t, n = snap.close.shape
    seq = np.empty((2 * t, n))
    seq[0::2], seq[1::2] = snap.open, snap.close
    ok = np.isfinite(seq)
    idx = np.where(ok, np.arange(2 * t)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = seq[idx, np.arange(n)]
    filled[~ok & (idx == 0) & ~ok[0]] = np.nan
    return filled[0::2], filled[1::2]


@dataclass(frozen=True, eq=False)
class Prepared:
    """The shared, start-independent inputs of every backtest over one snapshot."""

    snap: MarketSnapshot  # with the BOOK column when the main is a book
    book: MainBook
    target: int  # column the strategies' position lives in (the main symbol, or BOOK)
    main_cols: tuple[int, ...]
    po: FloatArray  # filled opens (T, N)
    pc: FloatArray  # filled closes
    low: FloatArray  # liquidation ranges (NaN: no check on that bar)
    high: FloatArray
    low_x: FloatArray  # the same with gaps filled by the close: the cross scenarios
    high_x: FloatArray
    sigma: FloatArray  # slippage inputs (backtest.costs)
    volnot: FloatArray
    fund: FloatArray  # funding rate charged at each bar (T, N)
    fund_bar: BoolArray
    funding_notes: tuple[str, ...]
    fees: tuple[float, ...]  # taker fee rate per column
    insts: tuple[Instrument, ...]
    mm: tuple[MaintenanceTable, ...]  # maintenance tiers per column
    series: PositionSeries
    cascade_score: FloatArray  # the market's causal cascade score (real columns only)
    costs: C.CostParams

    @property
    def n_bars(self) -> int:
        return self.snap.n_bars


def prepare(snap: MarketSnapshot, book: MainBook, engine: EngineParams, costs: C.CostParams,
            liq_low: FloatArray | None = None, liq_high: FloatArray | None = None
            ) -> Prepared:
    """Everything a start needs that does not depend on the start."""
    for s in book.symbols:
        snap.index(s)  # KeyError naming the known symbols
    score = snapshot_cascade_series(snap, engine.corr).score  # as the live cycle scores it
    n_real = snap.n_symbols
    low = snap.low if liq_low is None else liq_low
    high = snap.high if liq_high is None else liq_high
    if book.single:
        full, target = snap, snap.index(book.symbols[0])
    else:
        full, target = book_snapshot(snap, book), n_real
        low = np.column_stack([low, full.low[:, -1]])
        high = np.column_stack([high, full.high[:, -1]])
    po, pc = filled_prices(full)
    sigma, volnot = C.slippage_inputs(full, costs.window)
    fund, notes = C.funding_matrix(full, costs)
    insts = tuple(full.instruments.get(s) or Instrument(s, s.split("-")[0])
                  for s in full.symbols)
    fees = tuple(costs.taker_fee if costs.taker_fee is not None else i.taker_fee
                 for i in insts)
    series = position_series(full.close, target, engine.corr, cascade_score=score)
    return Prepared(
        snap=full, book=book, target=target,
        main_cols=tuple(full.index(s) for s in book.symbols), po=po, pc=pc, low=low,
        high=high, low_x=np.where(np.isfinite(low), low, pc),
        high_x=np.where(np.isfinite(high), high, pc), sigma=sigma, volnot=volnot, fund=fund,
        fund_bar=np.any(fund != 0.0, axis=1), funding_notes=tuple(
            n for n in notes if not n.startswith(f"{BOOK}:")), fees=fees, insts=insts,
        mm=tuple(MaintenanceTable.of(i) for i in insts), series=series, cascade_score=score,
        costs=costs)


def nothing_to_hedge(m: Prepared) -> list[str]:
    """A warning when the data hold no symbol outside the main book: every strategy is then
    the unhedged main, and the study only says what the leverage does."""
    others = [s for s in m.snap.symbols if s != BOOK and s not in m.book.symbols]
    if others:
        return []
    return [f"The data hold no symbol besides {m.book.label()}: no strategy can place a hedge, "
            "so every account here is the unhedged main and the study measures the leverage "
            "alone."]
