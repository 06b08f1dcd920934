"""Market data through ccxt: OKX (the default), Binance USDT-M and Bybit linear swaps.

Each class names its ccxt exchange, the documented per-endpoint limits (requests per sliding
window) and whatever differs from the shared ``CcxtMarket`` in ``ccxt_base``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import ccxt.async_support as ccxt

from plugins.exchanges import ccxt_flow
from plugins.exchanges import ccxt_parse as parse
from plugins.exchanges.candle_sync import Page
from plugins.exchanges.ccxt_base import CcxtMarket
from plugins.exchanges.ratelimits import EndpointLimit
from settings.secrets import ExchangeKeys

OKX_HISTORY_BORDER = 1439  # bars: the candles endpoint holds only the latest 1,440


class OkxMarket(CcxtMarket):
    """OKX USDT perpetual swaps (v5 REST), with every flow input the cascade score uses:
    liquidation orders, taker volume, open-interest history and mark-price candles."""

    name = "okx"
    ccxt_class = ccxt.okx
    tier_unit = "contracts"  # position-tiers minSz/maxSz are contracts for swaps
    book_levels = 400
    flow = frozenset({"liquidations", "taker", "oi_history", "mark"})
    ccxt_options: ClassVar[Mapping[str, Any]] = {
        "fetchMarkets": {"types": ["swap"]}, "defaultType": "swap"}
    limits: ClassVar[Mapping[str, EndpointLimit]] = {
        "candles": EndpointLimit(40),
        "history-candles": EndpointLimit(20),
        "books": EndpointLimit(40),
        "funding-rate": EndpointLimit(10, per_symbol=True),
        "funding-rate-history": EndpointLimit(10),
        "open-interest": EndpointLimit(20, per_symbol=True),
        "position-tiers": EndpointLimit(10),
        "tickers": EndpointLimit(20),
        "instruments": EndpointLimit(20),
        "time": EndpointLimit(10),
        "positions": EndpointLimit(10),
        "balance": EndpointLimit(10),
        "account": EndpointLimit(5),
        "liquidation-orders": EndpointLimit(40),
        "taker-volume": EndpointLimit(5),
        "open-interest-history": EndpointLimit(10),
        "mark-price-candles": EndpointLimit(40),
        "history-mark-price-candles": EndpointLimit(10),
    }

    def _ccxt_config(self, keys: ExchangeKeys | None = None) -> dict[str, Any]:
        cfg = super()._ccxt_config(keys)
        if self.config.api_url:
            cfg["urls"] = {"api": {"rest": self.config.api_url.rstrip("/")}}
        return cfg

    def _candle_request(self, page: Page, server_ms: int) -> tuple[str, dict[str, Any]]:
        # ccxt picks candles vs history-candles by the host clock; judge by the exchange's
        newest = server_ms // self.timeframe_ms * self.timeframe_ms
        if page.since_ms < newest - OKX_HISTORY_BORDER * self.timeframe_ms:
            return "history-candles", {"type": "HistoryCandles"}
        return "candles", {"type": "Candles"}

    def _mark_request(self, page: Page, server_ms: int) -> tuple[str, dict[str, Any]]:
        newest = server_ms // self.timeframe_ms * self.timeframe_ms
        if page.since_ms < newest - OKX_HISTORY_BORDER * self.timeframe_ms:
            return "history-mark-price-candles", {"type": "HistoryCandles"}
        return "mark-price-candles", {"type": "Candles"}

    async def fetch_liquidation_window(self, symbol: str, until_ms: int, window_ms: int
                                       ) -> ccxt_flow.Liquidations:
        """Filled liquidation orders of the window, newest pages first, from
        ``GET /api/v5/public/liquidation-orders`` (not in ccxt's API list: its generic
        ``request`` keeps ccxt's session, URL and error mapping)."""
        symbol = self.resolve(symbol)
        inst = self.instruments[symbol]
        family = symbol.rsplit("-", 1)[0]  # BTC-USDT-SWAP → BTC-USDT
        total = ccxt_flow.Liquidations(0.0, 0.0, 0, None)
        after: int | None = None
        for _ in range(ccxt_flow.LIQUIDATION_PAGES):
            params = {"instType": "SWAP", "instFamily": family, "state": "filled",
                      "limit": "100", **({"after": str(after)} if after else {})}
            page = await self._call(
                "liquidation-orders", symbol,
                functools.partial(self.exchange.request, "public/liquidation-orders",
                                  ["public"], "GET", params),
                lambda r: ccxt_flow.liquidation_orders(r, inst.contract_value,
                                                       until_ms - window_ms, until_ms))
            total = ccxt_flow.Liquidations(total.long_usdt + page.long_usdt,
                                           total.short_usdt + page.short_usdt,
                                           total.orders + page.orders, page.oldest_ms)
            if page.oldest_ms is None or page.oldest_ms <= until_ms - window_ms:
                break  # the page reaches back past the window: nothing older counts
            after = page.oldest_ms
        return total

    async def fetch_taker(self, symbol: str, until_ms: int) -> float | None:
        """Sell share of taker volume over the bar's complete 5-minute buckets."""
        symbol = self.resolve(symbol)
        periods = max(1, self.timeframe_ms // ccxt_flow.TAKER_PERIOD_MS)
        params = {"instId": symbol, "period": "5m", "unit": "2", "limit": str(periods + 2)}
        got = await self._call(
            "taker-volume", symbol,
            lambda: self.exchange.public_get_rubik_stat_taker_volume_contract(params),
            lambda r: ccxt_flow.taker_share(r, until_ms, periods))
        return None if got is None else got[2]

    def _quote_volume(self, t: Mapping[str, Any]) -> float:
        info = t.get("info") or {}
        ccy, last = parse.finite(info.get("volCcy24h")), parse.finite(t.get("last"))
        return ccy * last if ccy is not None and last is not None else 0.0

    async def _key_can_trade(self) -> bool:
        resp = await self._call("account", None, self.exchange.private_get_account_config)
        data = (resp or {}).get("data") or [{}]
        perm = str(data[0].get("perm", "")) if data else ""
        return "trade" in perm or not perm  # unknown: warn rather than trust


class BinanceMarket(CcxtMarket):
    """Binance USDT-M perpetual futures (fapi). Limits are request weight 2,400/min shared;
    the split below keeps each endpoint's weight within it."""

    name = "binance"
    ccxt_class = ccxt.binance
    tier_unit = "notional"
    book_levels = 1000
    oi_needs_price = True
    ccxt_options: ClassVar[Mapping[str, Any]] = {
        "fetchMarkets": {"types": ["linear"]}, "defaultType": "swap",
        "fetchCurrencies": False}
    limits: ClassVar[Mapping[str, EndpointLimit]] = {
        "candles": EndpointLimit(10, 1.0),  # klines weight 2–5
        "books": EndpointLimit(4, 1.0),  # depth 1000 = weight 20
        "funding-rate": EndpointLimit(10, 1.0),
        "open-interest": EndpointLimit(10, 1.0),
        "instruments": EndpointLimit(2, 1.0),
        "time": EndpointLimit(5, 1.0),
    }


class BybitMarket(CcxtMarket):
    """Bybit v5 linear USDT perpetuals (600 requests / 5 s per IP overall)."""

    name = "bybit"
    ccxt_class = ccxt.bybit
    tier_unit = "notional"
    book_levels = 500  # the most v5 /market/orderbook gives for linear
    oi_needs_price = True  # v5 open interest of a linear contract is in base coins
    ccxt_options: ClassVar[Mapping[str, Any]] = {
        "fetchMarkets": {"types": ["linear"]}, "defaultType": "swap",
        "defaultSubType": "linear", "fetchCurrencies": False}
    limits: ClassVar[Mapping[str, EndpointLimit]] = {
        "candles": EndpointLimit(40, 1.0),
        "books": EndpointLimit(20, 1.0),
        "funding-rate": EndpointLimit(20, 1.0),
        "funding-rate-history": EndpointLimit(20, 1.0),
        "open-interest": EndpointLimit(20, 1.0),
        "tickers": EndpointLimit(20, 1.0),
        "instruments": EndpointLimit(5, 1.0),
        "time": EndpointLimit(5, 1.0),
    }


__all__ = ["BinanceMarket", "BybitMarket", "CcxtMarket", "OkxMarket"]
