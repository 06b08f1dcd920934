"""Liquidation prices of perpetual-swap positions: tier choice, isolated, Binance and cross.

All kernels are vectorised: every argument may be a scalar or an array, and they broadcast.
Sizes ``n`` are position sizes in base units (always positive), ``sign`` is +1 for a long and
−1 for a short, ``margin`` is the isolated margin in quote currency (USDT).

OKX isolated margin (USDT-margined swap). The margin ratio is

    (margin + UPL) / (|N| · mark · (mmr + fee)),   UPL = sign · N · (mark − entry)

and the position is liquidated when it falls to 100 %. Solving at equality gives

    long  = (entry − M/N) / (1 − mmr − fee)
    short = (entry + M/N) / (1 + mmr + fee)

A long whose margin covers the whole notional (leverage ≤ 1 and a bit) has a liquidation price
≤ 0: it cannot be liquidated, and the kernels return 0.0 for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.types import BoolArray, FloatArray, Instrument, IntArray, MarketSnapshot, Position, Tier
from core.types import as_floats as _f

DEFAULT_MMR = 0.004
"""Maintenance-margin rate used when an instrument has no tiers: OKX BTC-USDT tier 1 (0.4 %)."""
DEFAULT_FEE = 0.0005
"""Taker fee used when none is given: OKX regular-user USDT-swap taker fee (0.05 %)."""

_SIZE_DECIMALS = 8
"""Contract counts are rounded to this many decimals before the tier lookup, so that
0.3 / 0.1 = 2.9999999999999996 counts as 3 contracts and lands on the exact boundary."""

ArrayLike = npt.ArrayLike



# --------------------------------------------------------------------------- tiers


def tier_amount(size: ArrayLike, price: ArrayLike, contract_value: float, unit: str) -> FloatArray:
    """The amount an exchange tiers by: contracts (OKX, size / ctVal) or USDT notional."""
    if unit == "contracts":
        return np.round(_f(size) / contract_value, _SIZE_DECIMALS)
    if unit == "notional":
        return _f(size) * _f(price)
    raise ValueError(f"tier unit must be 'contracts' or 'notional', not {unit!r}")


def tier_index(tiers: Sequence[Tier], amount: ArrayLike) -> IntArray:
    """Index into ``tiers`` (sorted by size) of the tier holding ``amount``.

    A tier holds ``min_size < amount ≤ max_size``: a position of exactly ``max_size`` is in
    that tier and anything above it in the next. (OKX writes the next tier's ``minSz`` as
    ``max + 0.01``, its lot size, so "above the previous max" is the exact rule.) Amounts
    above the last tier's maximum get the last tier; callers warn about it.
    """
    if not tiers:
        raise ValueError("no tiers given")
    caps = np.array([t.max_size for t in tiers], dtype=np.float64)
    idx = np.searchsorted(caps, _f(amount), side="left")
    return np.minimum(idx, len(tiers) - 1).astype(np.int64)


def choose_tier(instrument: Instrument, size: float, price: float) -> Tier | None:
    """The tier of a position of ``size`` base units at ``price``; None when there are none."""
    tiers = sorted(instrument.tiers, key=lambda t: t.max_size)
    if not tiers:
        return None
    amount = tier_amount(size, price, instrument.contract_value, tiers[0].unit)
    return tiers[int(tier_index(tiers, amount))]


@dataclass(frozen=True, eq=False)
class TierTable:
    """Tier tables of many symbols, padded into (S, K) arrays for vectorised lookups.

    Padding columns repeat the symbol's last tier, and the last real tier's cap is stored
    as inf, so amounts beyond it get the last tier (as ``tier_index`` does) and a lookup never
    runs off the end. ``unit`` must be the same for all symbols.
    """

    max_size: FloatArray  # (S, K)
    mmr: FloatArray
    max_leverage: FloatArray
    maintenance_amount: FloatArray
    tier: IntArray
    unit: str

    @classmethod
    def build(cls, tiers_per_symbol: Sequence[Sequence[Tier]]) -> TierTable:
        k = max(len(t) for t in tiers_per_symbol)
        s = len(tiers_per_symbol)
        out = {n: np.empty((s, k)) for n in ("max_size", "mmr", "max_leverage", "cum")}
        tier_no = np.empty((s, k), dtype=np.int64)
        units: set[str] = set()
        for i, tiers in enumerate(tiers_per_symbol):
            ts = sorted(tiers, key=lambda t: t.max_size)
            units.update(t.unit for t in ts)
            ts = ts + [ts[-1]] * (k - len(ts))
            out["max_size"][i] = [t.max_size for t in ts]
            out["max_size"][i, len(tiers) - 1:] = np.inf
            out["mmr"][i] = [t.mmr for t in ts]
            out["max_leverage"][i] = [t.max_leverage for t in ts]
            out["cum"][i] = [t.maintenance_amount for t in ts]
            tier_no[i] = [t.tier for t in ts]
        if len(units) != 1:
            raise ValueError(f"all tiers must share one unit, got {sorted(units)}")
        return cls(out["max_size"], out["mmr"], out["max_leverage"], out["cum"], tier_no,
                   units.pop())

    def lookup(self, symbol_idx: ArrayLike, amount: ArrayLike) -> IntArray:
        """Column (tier position) for each position: count of tier caps below its amount."""
        caps = self.max_size[np.asarray(symbol_idx)]
        col: IntArray = np.sum(caps < _f(amount)[..., None], axis=-1)
        return np.minimum(col, int(self.max_size.shape[1]) - 1)


# --------------------------------------------------------------------------- OKX isolated


def margin_ratio(entry: ArrayLike, n: ArrayLike, sign: ArrayLike, margin: ArrayLike,
                 mark: ArrayLike, mmr: ArrayLike, fee: ArrayLike) -> FloatArray:
    """OKX isolated margin ratio (1.0 = 100 %, liquidation at ≤ 1)."""
    n, mark = _f(n), _f(mark)
    upl = _f(sign) * n * (mark - _f(entry))
    return (_f(margin) + upl) / (np.abs(n) * mark * (_f(mmr) + _f(fee)))


def isolated_liquidation_price(entry: ArrayLike, n: ArrayLike, sign: ArrayLike,
                               margin: ArrayLike, mmr: ArrayLike,
                               fee: ArrayLike = DEFAULT_FEE) -> FloatArray:
    """OKX isolated-margin liquidation price; 0.0 for a long that cannot be liquidated.

    Closed form of margin_ratio == 1: ``(entry − s·M/N) / (1 − s·(mmr + fee))``, which is the
    long and short formulas of the module docstring in one expression.
    """
    s = _f(sign)
    k = _f(mmr) + _f(fee)
    px = (_f(entry) - s * _f(margin) / _f(n)) / (1.0 - s * k)
    return np.maximum(px, 0.0)


# --------------------------------------------------------------------------- Binance isolated


def binance_liquidation_price(entry: ArrayLike, n: ArrayLike, sign: ArrayLike,
                              margin: ArrayLike, tiers: Sequence[Tier]) -> FloatArray:
    """Binance USDT-M isolated liquidation price, bracket chosen self-consistently.

    Binance's maintenance margin is ``notional · mmr − cum`` with the bracket picked by the
    notional *at the mark price*. Liquidation is where equity meets it:

        M + s·N·(P − E) = N·P·mmr − cum   ⇒   P = (M + cum − s·N·E) / (N·mmr − s·N)

    (Binance's published formula with TMM = UPNL = 0, one-way mode.) Because the bracket
    depends on P itself, every bracket's candidate is computed and the one whose notional
    N·P lies inside that bracket is kept; ``cum`` makes the maintenance margin continuous in
    P, so exactly one bracket is consistent (at a shared boundary both give the same P).
    No fee term: Binance's formula has none. Returns 0.0 for a long that cannot be
    liquidated.
    """
    ts = sorted(tiers, key=lambda t: t.max_size)
    if any(t.unit != "notional" for t in ts):
        raise ValueError("Binance brackets are by notional (Tier.unit == 'notional')")
    e, nn, s, m = np.broadcast_arrays(_f(entry), _f(n), _f(sign), _f(margin))
    out = np.full(e.shape, np.nan)
    lo = 0.0
    for t in ts:
        p = (m + t.maintenance_amount - s * nn * e) / (nn * t.mmr - s * nn)
        notional = nn * p
        ok = np.isnan(out) & (p > 0) & (notional > lo * (1 - 1e-12))
        ok &= notional <= t.max_size * (1 + 1e-12)
        out = np.where(ok, p, out)
        lo = t.max_size
    # No consistent bracket with P > 0: a long backed by more than its notional.
    return np.where(np.isnan(out), 0.0, out)


# --------------------------------------------------------------------------- cross margin


def cross_liquidation_price(equity: float, marks: ArrayLike, n: ArrayLike, sign: ArrayLike,
                            mmr: ArrayLike, fee: ArrayLike = DEFAULT_FEE) -> FloatArray:
    """Cross-margin estimate: for each position, the price at which account equity falls to
    the total maintenance margin, with every other position held at its mark.

    ``equity`` is the account equity now (wallet balance plus all UPL at current marks).
    Maintenance of position j is ``N_j · mark_j · (mmr_j + fee_j)`` (OKX's ratio denominator).
    Moving only position i's price to P:

        equity + s·N·(P − mark) = MM_others + N·P·k   ⇒
        P = (mark − s·(equity − MM_others)/N) / (1 − s·k)

    which is the isolated formula with ``equity − MM_others`` as the margin buffer and mark
    as the reference price. 0.0 means a long that cannot be liquidated on its own; NaN where
    the account is already below maintenance.
    """
    marks, n, s = _f(marks), _f(n), _f(sign)
    k = _f(mmr) + _f(fee)
    mm = np.abs(n) * marks * k
    mm_others = mm.sum() - mm
    buffer = equity - mm_others
    px = (marks - s * buffer / n) / (1.0 - s * k)
    below = equity < mm.sum()
    return np.where(below, np.nan, np.maximum(px, 0.0))


# --------------------------------------------------------------------------- touching it


def crossed(signed_size: float, liq_price: float, low: float, high: float) -> bool:
    """Whether a bar with this range liquidates a position of this signed size (a NaN
    range never does)."""
    if signed_size > 0:
        return low <= liq_price  # False for NaN
    return high >= liq_price


def first_crossing(sign: int, liq_price: float, low: FloatArray, high: FloatArray,
                   start: int) -> int | None:
    """First bar index ≥ ``start`` whose range reaches ``liq_price``; None if none does."""
    with np.errstate(invalid="ignore"):
        hit = (low[start:] <= liq_price) if sign > 0 else (high[start:] >= liq_price)
    idx = np.flatnonzero(hit)
    return int(idx[0]) + start if idx.size else None


# --------------------------------------------------------------------------- scalar helpers


@dataclass(frozen=True)
class Liquidation:
    """One position's liquidation price and the margin facts it rests on."""

    price: float  # 0.0 when a long cannot be liquidated
    mmr: float
    fee: float
    tier: int | None  # None when mmr came from an override or the default
    margin: float
    tier_max_leverage: float | None


def liquidation(position: Position, instrument: Instrument, *, mmr: float | None = None,
                fee: float | None = None) -> Liquidation:
    """Isolated liquidation price of one position (OKX formula; Binance when tiers are by
    notional). ``mmr`` overrides the tier; without tiers ``DEFAULT_MMR`` is used."""
    fee_ = instrument.taker_fee if fee is None else fee
    margin = position.isolated_margin
    tier = None if mmr is not None else choose_tier(instrument, position.size, position.entry)
    if tier is not None and tier.unit == "notional":
        px = float(binance_liquidation_price(position.entry, position.size, position.sign,
                                             margin, instrument.tiers))
        if px > 0:  # tiers exist here, so choose_tier finds one
            tier = choose_tier(instrument, position.size, px) or tier
        return Liquidation(px, tier.mmr, 0.0, tier.tier, margin, tier.max_leverage)
    rate = mmr if mmr is not None else (tier.mmr if tier is not None else DEFAULT_MMR)
    px = float(isolated_liquidation_price(position.entry, position.size, position.sign, margin,
                                          rate, fee_))
    return Liquidation(px, rate, fee_, tier.tier if tier else None, margin,
                       tier.max_leverage if tier else None)


def trigger_range(snap: MarketSnapshot, j: int) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Per bar, the low and high a liquidation of column ``j`` is judged on, and where
    they are the mark price's: the exchange liquidates on the mark price, whose wicks are
    usually shallower than the last price's, so its bar is used wherever one is stored
    (low and high both), the last-price bar elsewhere."""
    low, high = snap.low[:, j].copy(), snap.high[:, j].copy()
    on_mark = np.zeros(snap.n_bars, dtype=bool)
    sym = snap.symbols[j]
    ml, mh = snap.mark_low.get(sym), snap.mark_high.get(sym)
    if ml is None or mh is None or not ml.times.size or not mh.times.size:
        return low, high, on_mark
    closes = snap.times + snap.timeframe_ms
    at_l = np.minimum(np.searchsorted(ml.times, closes), ml.times.size - 1)
    at_h = np.minimum(np.searchsorted(mh.times, closes), mh.times.size - 1)
    lo_m, hi_m = ml.values[at_l], mh.values[at_h]
    on_mark = ((ml.times[at_l] == closes) & (mh.times[at_h] == closes)
               & np.isfinite(lo_m) & np.isfinite(hi_m) & (lo_m > 0) & (hi_m >= lo_m))
    low[on_mark], high[on_mark] = lo_m[on_mark], hi_m[on_mark]
    return low, high, on_mark
