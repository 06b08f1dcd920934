"""TradingView tickers → the spelling our exchange's resolver reads. Pure.

TradingView names a perpetual ``BINANCE:BTCUSDT.P``, ``OKX:BTCUSDT.P`` or ``BYBIT:BTCUSDT.P``
(the ``.P`` marks the perpetual), sometimes ``BTCUSDTPERP`` or ``BTC-USDT-SWAP``; the
``{{ticker}}`` placeholder gives it without the exchange. What is left after the exchange
prefix and the perpetual suffix (``BTCUSDT``) is what ``SymbolResolver`` already reads.
"""

from __future__ import annotations

import re

_SUFFIXES = (".PERP", ".P", "PERP")
_CLEAN = re.compile(r"[^A-Z0-9._:/-]")


def exchange_spelling(ticker: str) -> str:
    """``"BINANCE:BTCUSDT.P"`` → ``"BTCUSDT"``; ``"btc-usdt-swap"`` → ``"BTC-USDT-SWAP"``;
    empty when nothing is left."""
    t = _CLEAN.sub("", ticker.strip().upper())
    t = t.rsplit(":", 1)[-1]
    for suffix in _SUFFIXES:
        if t.endswith(suffix) and len(t) > len(suffix):
            t = t[: -len(suffix)]
            break
    return t
