"""Which markets a ccxt source watches, and the "top:N" choice among them by USDT volume."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from core.types import Instrument
from plugins.exchanges import ccxt_parse as parse


def is_usdt_linear_swap(market: Mapping[str, Any]) -> bool:
    """An active linear swap quoted and settled in USDT: the only kind hedgewatch reads."""
    return bool(market.get("swap") and market.get("linear") and market.get("quote") == "USDT"
                and market.get("settle") == "USDT" and market.get("active") is not False)


def top_count(spec: str) -> int:
    """The N of a ``"top:N"`` symbols setting."""
    return int(spec.partition(":")[2])


def quote_volume(ticker: Mapping[str, Any]) -> float:
    """24 h volume in USDT from a ccxt ticker; base volume × last when the quote one is absent."""
    qv = parse.finite(ticker.get("quoteVolume"))
    if qv is None:
        bv, last = parse.finite(ticker.get("baseVolume")), parse.finite(ticker.get("last"))
        qv = bv * last if bv is not None and last is not None else 0.0
    return qv


def top_by_volume(tickers: Mapping[str, Mapping[str, Any]], n: int, *, listed: Collection[str],
                  instruments: Mapping[str, Instrument],
                  volume: Callable[[Mapping[str, Any]], float],
                  market_id: Callable[[str], str]) -> list[str]:
    """The ``n`` canonical ids with the most ``volume``, among tickers of ``listed`` unified
    symbols. ``market_id`` maps a unified symbol to its id when the ticker lacks ``instId``."""
    ranked = sorted(((volume(t), t.get("info", {}).get("instId") or market_id(s))
                     for s, t in tickers.items() if s in listed), reverse=True)
    return [sym for _v, sym in ranked if sym in instruments][:n]
