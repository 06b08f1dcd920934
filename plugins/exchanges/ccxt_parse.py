"""Turn ccxt's unified structures into hedgewatch values, validating as we go.

ccxt does not always raise on a bad body: a malformed or null-filled answer comes back as an
empty list or as dicts full of ``None``. Every function here either returns clean, finite
numbers or raises ``BadPayload`` saying what was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.types import DEPTH_BANDS, Instrument, Position, Tier
from plugins.exchanges.retry import BadPayload
from plugins.exchanges.source import DepthSummary, FundingInfo


def finite(x: Any) -> float | None:
    """``x`` as a finite float, else None."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def instrument(market: Mapping[str, Any], symbol: str) -> Instrument:
    """An Instrument from a ccxt market (linear USDT swap)."""
    limits = market.get("limits") or {}
    lev = finite((limits.get("leverage") or {}).get("max")) or 100.0
    contract = finite(market.get("contractSize")) or 1.0
    least = finite((limits.get("amount") or {}).get("min")) or 0.0  # in contracts
    return Instrument(
        symbol=symbol,
        base=str(market.get("base") or symbol.split("-")[0]).upper(),
        quote=str(market.get("quote") or "USDT").upper(),
        contract_value=contract,
        tick_size=finite((market.get("precision") or {}).get("price")) or 0.0,
        max_leverage=lev,
        taker_fee=finite(market.get("taker")) or 0.0005,
        maker_fee=finite(market.get("maker")) or 0.0002,
        min_size=max(least, 0.0) * contract,
    )


def candles(rows: Sequence[Sequence[Any]] | None, timeframe_ms: int, server_ms: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Closed, valid bars from ccxt OHLCV rows: (times int64 ascending, (n, 5) float64).

    Bars still open at ``server_ms`` (open time + timeframe > server time) are dropped: OKX's
    ``confirm`` flag does not survive ccxt's parser. Rows with a missing or non-positive
    price, or off the timeframe grid, are dropped; if rows came back but none is usable, the
    answer is a ``BadPayload``.
    """
    rows = list(rows or [])
    keep: dict[int, list[float]] = {}
    bad = 0
    for r in rows:
        if not isinstance(r, Sequence) or len(r) < 6:
            bad += 1
            continue
        t = finite(r[0])
        vals = [finite(v) for v in r[1:6]]
        if t is None or any(v is None for v in vals[:4]) or t % timeframe_ms:
            bad += 1
            continue
        o, h, lo, c = vals[:4]
        vol = vals[4] if vals[4] is not None and vals[4] >= 0 else 0.0
        if min(o, h, lo, c) <= 0 or h < lo:  # type: ignore[type-var, operator]
            bad += 1
            continue
        if int(t) + timeframe_ms > server_ms:
            continue  # the still-open bar is never final
        keep[int(t)] = [o, h, lo, c, vol]  # type: ignore[list-item]
    if rows and bad == len(rows):
        raise BadPayload(f"{bad} candle rows, none usable")
    times = np.array(sorted(keep), dtype=np.int64)
    ohlcv = np.array([keep[int(t)] for t in times], dtype=np.float64).reshape(-1, 5)
    return times, ohlcv


def funding(fr: Mapping[str, Any] | None) -> FundingInfo:
    if not fr:
        raise BadPayload("empty funding answer")
    rate = finite(fr.get("fundingRate"))
    when = finite(fr.get("fundingTimestamp"))
    if rate is None or when is None:
        raise BadPayload("funding rate or time missing")
    nxt = finite(fr.get("nextFundingTimestamp"))
    interval = str(fr.get("interval") or "8h")
    hours = finite(interval.rstrip("h")) if interval.endswith("h") else None
    return FundingInfo(rate=rate, time_ms=int(when), next_rate=finite(fr.get("nextFundingRate")),
                       next_time_ms=int(nxt) if nxt is not None else None,
                       interval_hours=hours or 8.0)


def open_interest_usdt(oi: Mapping[str, Any] | None, contract_value: float,
                       price: float | None) -> float:
    """Open interest in USDT: the exchange's value if given, else contracts × size × price."""
    if not oi:
        raise BadPayload("empty open-interest answer")
    value = finite(oi.get("openInterestValue"))
    if value is None:
        amount = finite(oi.get("openInterestAmount"))
        if amount is not None and price:
            value = amount * contract_value * price
    if value is None or value < 0:
        raise BadPayload("open interest missing")
    return value


def depth(book: Mapping[str, Any] | None, contract_value: float, now_ms: int,
          bands: Sequence[float] = DEPTH_BANDS) -> DepthSummary:
    """USDT notional per side within each band of mid (amounts in contracts × size)."""
    if not book:
        raise BadPayload("empty order book")
    bids = _levels(book.get("bids"))
    asks = _levels(book.get("asks"))
    if not len(bids) or not len(asks):
        raise BadPayload("order book has an empty side")
    mid = (bids[:, 0].max() + asks[:, 0].min()) / 2
    bid = tuple(float((bids[bids[:, 0] >= mid * (1 - b), 0] *
                       bids[bids[:, 0] >= mid * (1 - b), 1]).sum() * contract_value)
                for b in bands)
    ask = tuple(float((asks[asks[:, 0] <= mid * (1 + b), 0] *
                       asks[asks[:, 0] <= mid * (1 + b), 1]).sum() * contract_value)
                for b in bands)
    ts = finite(book.get("timestamp"))
    return DepthSummary(time_ms=int(ts) if ts else now_ms, mid=float(mid), bid=bid, ask=ask)


def _levels(side: Any) -> np.ndarray:
    out = []
    for lvl in side or []:
        if isinstance(lvl, Sequence) and len(lvl) >= 2:
            p, q = finite(lvl[0]), finite(lvl[1])
            if p is not None and q is not None and p > 0 and q >= 0:
                out.append((p, q))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def tiers(rows: Sequence[Mapping[str, Any]] | None, unit: str) -> tuple[Tier, ...]:
    """Maintenance-margin tiers from ccxt's leverage tiers (bounds in ``unit``)."""
    out = []
    for i, r in enumerate(rows or [], start=1):
        lo, hi = finite(r.get("minNotional")), finite(r.get("maxNotional"))
        mmr, lev = finite(r.get("maintenanceMarginRate")), finite(r.get("maxLeverage"))
        if None in (lo, hi, mmr, lev):
            raise BadPayload(f"tier {i} has missing fields")
        info = r.get("info") or {}
        # the maintenance amount: Binance's ``cum``, Bybit's ``mmDeduction``
        cum = (finite(info.get("cum")) or finite(info.get("mmDeduction"))
               if isinstance(info, Mapping) else None)
        out.append(Tier(tier=int(finite(r.get("tier")) or i), min_size=lo, max_size=hi,  # type: ignore[arg-type]
                        mmr=mmr, max_leverage=lev, unit=unit,  # type: ignore[arg-type]
                        maintenance_amount=cum or 0.0))
    if not out:
        raise BadPayload("no tiers")
    return tuple(sorted(out, key=lambda t: t.min_size))


def position(p: Mapping[str, Any], symbol: str, contract_value: float) -> Position | None:
    """A Position from a ccxt position; None for flat or unusable rows."""
    contracts, entry = finite(p.get("contracts")), finite(p.get("entryPrice"))
    side = p.get("side")
    if not contracts or not entry or side not in ("long", "short"):
        return None
    size = abs(contracts) * (finite(p.get("contractSize")) or contract_value)
    lev = finite(p.get("leverage")) or 1.0
    mode = "cross" if p.get("marginMode") == "cross" else "isolated"
    margin = finite(p.get("initialMargin")) if mode == "isolated" else None
    return Position(symbol=symbol, side=side, size=size, entry=entry, leverage=lev,
                    margin_mode=mode, margin=margin if margin and margin > 0 else None)
