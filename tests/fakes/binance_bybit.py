"""Small fake Binance USDT-M (fapi) and Bybit v5 (linear) servers: the documented shapes of
the endpoints the Binance and Bybit plugins need (instruments, time, candles, funding, open
interest, order book). Prices come from the same deterministic market as the fake OKX server.

Bybit answers every request with HTTP 200 and a ``retCode`` envelope, lists newest first and
numbers as strings, as the live v5 API does; its open interest is in base coins (linear).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from aiohttp import web

from tests.fakes import binance_private, bybit_private
from tests.fakes.exchange_account import FakeAccount
from tests.fakes.loopback import serve
from tests.fakes.okx_market import FakeMarket
from tests.fakes.okx_server import START_MS

_INTERVAL = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000}
FUNDING_MS = 8 * 3_600_000


@dataclass
class _FakeRest:
    """The shared part: a deterministic market, a fake clock and an aiohttp server."""

    bases: list[str] = field(default_factory=lambda: ["BTC", "ETH"])
    now_ms: int = START_MS
    port: int = 0
    log: list[tuple[str, dict]] = field(default_factory=list)
    routes: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self.market = FakeMarket(self.bases, now_ms=self.now_ms)
        self._runner: web.AppRunner | None = None
        self.keys: dict[str, Any] = {}  # API key → its secret, rights and ledger

    def marked(self, acct: FakeAccount) -> FakeAccount:
        """``acct`` marked at the fake's prices now."""
        for b in self.bases:
            acct.marks[b] = self.market.price(b, self.now_ms)
        return acct

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        app = web.Application()
        for path in self.routes:
            app.router.add_get(path, self._handle)
        self._runner, self.port = await serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.log if n == name)

    async def _handle(self, request: web.Request) -> web.Response:
        raise NotImplementedError


@dataclass
class FakeBinance(_FakeRest):
    """Binance USDⓈ-M: the public endpoints, and the private ones (``binance_private``) for
    keys added with ``add_key``."""

    routes: ClassVar[tuple[str, ...]] = ("/fapi/v1/{name}", "/fapi/v2/{name}",
                                         "/sapi/v1/account/{name}")

    def add_key(self, api_key: str, secret: str, *, account: FakeAccount | None = None,
                **rights: bool) -> binance_private.BinanceKey:
        """Accept requests signed with this key; ``rights`` override the read-only ones
        (``enableFutures=True``: it may trade)."""
        key = binance_private.BinanceKey(secret, {**binance_private.READ_ONLY, **rights},
                                         account)
        self.keys[api_key] = key
        return key

    def new_account(self, *, wallet: float = 10_000.0) -> FakeAccount:
        return self.marked(binance_private.binance_account(wallet=wallet))

    async def _handle(self, request: web.Request) -> web.Response:
        name, params = request.match_info["name"], dict(request.query)
        self.log.append((name, params))
        if request.path in binance_private.PRIVATE:
            return await binance_private.handle(self, request)
        handler = getattr(self, "_" + name.replace("Info", "_info").lower(), None)
        if handler is None:
            return web.json_response({"code": -1121, "msg": "Invalid endpoint."}, status=404)
        body = handler(params)
        if body is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        return web.json_response(body)

    def _base(self, params: dict) -> str | None:
        sym = params.get("symbol", "")
        base = sym[:-4] if sym.endswith("USDT") else ""
        return base if base in self.market.paths else None

    def _time(self, params: dict) -> dict:
        return {"serverTime": self.now_ms}

    def _exchange_info(self, params: dict) -> dict:
        syms = [{
            "symbol": f"{b}USDT", "pair": f"{b}USDT", "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000, "onboardDate": self.market.origin_ms,
            "status": "TRADING", "baseAsset": b, "quoteAsset": "USDT", "marginAsset": "USDT",
            "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8,
            "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [],
            "settlePlan": 0, "triggerProtect": "0.0500", "liquidationFee": "0.012500",
            "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.10", "maxPrice": "4529764",
                 "tickSize": "0.10"},
                {"filterType": "LOT_SIZE", "stepSize": "0.001", "maxQty": "1000",
                 "minQty": "0.001"},
                {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.001", "maxQty": "120",
                 "minQty": "0.001"},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
                {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500",
                 "multiplierDown": "0.9500", "multiplierDecimal": "4"}],
            "orderTypes": ["LIMIT", "MARKET"], "timeInForce": ["GTC", "IOC"],
            "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000",
        } for b in self.bases]
        return {"timezone": "UTC", "serverTime": self.now_ms, "futuresType": "U_MARGINED",
                "rateLimits": [], "exchangeFilters": [], "assets": [], "symbols": syms}

    def _klines(self, params: dict) -> list | None:
        base = self._base(params)
        step = _INTERVAL.get(params.get("interval", ""))
        if base is None or step is None:
            return None
        limit = min(int(params.get("limit", 500)), 1500)
        start = int(params["startTime"]) if "startTime" in params else None
        end = int(params["endTime"]) if "endTime" in params else None
        newest = self.now_ms // step * step
        hi = min(newest, end // step * step) if end is not None else newest
        if start is not None:
            lo = -(-start // step) * step
            hi = min(hi, lo + (limit - 1) * step)
        else:
            lo = hi - (limit - 1) * step
        times = list(range(lo, hi + 1, step))
        rows = self.market.candles(base, step, times, self.now_ms)
        return [[int(r[0]), r[1], r[2], r[3], r[4], r[6], int(r[0]) + step - 1, r[7], 100,
                 "0", "0", "0"] for r in rows]

    def _premiumindex(self, params: dict) -> dict | None:
        base = self._base(params)
        if base is None:
            return None
        px = self.market.price(base, self.now_ms)
        nxt = (self.now_ms // 28_800_000 + 1) * 28_800_000
        return {"symbol": params["symbol"], "markPrice": f"{px:.8g}", "indexPrice": f"{px:.8g}",
                "estimatedSettlePrice": f"{px:.8g}", "lastFundingRate": "0.00010000",
                "interestRate": "0.00010000", "nextFundingTime": nxt, "time": self.now_ms}

    def _openinterest(self, params: dict) -> dict | None:
        base = self._base(params)
        if base is None:
            return None
        return {"symbol": params["symbol"], "openInterest": "1234.500", "time": self.now_ms}

    def _depth(self, params: dict) -> dict | None:
        base = self._base(params)
        if base is None:
            return None
        book = self.market.book(base, self.now_ms, min(int(params.get("limit", 500)), 1000))
        ct = self.market.contract_value(base)  # Binance quantities are in base units
        side = {k: [[p, f"{float(q) * ct:g}"] for p, q, *_ in book[k]] for k in ("bids", "asks")}
        return {"lastUpdateId": 1, "E": self.now_ms, "T": self.now_ms, **side}


_BYBIT_INTERVAL = {**{str(m): m * 60_000 for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
                   "D": 86_400_000}
_BYBIT_OI_INTERVAL = {"5min": 300_000, "15min": 900_000, "30min": 1_800_000, "1h": 3_600_000,
                      "4h": 14_400_000, "1d": 86_400_000}
_TICK = {"BTC": ("2", "0.10"), "ETH": ("2", "0.01")}  # priceScale, tickSize; others 4, 0.0001


class _BybitError(Exception):
    """A v5 error answer: ``(retCode, retMsg)`` (sent with HTTP 200, as live)."""


@dataclass
class FakeBybit(_FakeRest):
    """Bybit v5 public market endpoints, category ``linear`` only.

    Besides the ``{base}USDT`` perpetuals, BTC also lists as a USDC perpetual (``BTCPERP``) and
    a dated USDT future (``BTCUSDT-27MAR26``), as the live linear category does; a client must
    keep only the USDT perpetual. ``log`` names endpoints by their path after ``/v5/market/``.
    """

    routes: ClassVar[tuple[str, ...]] = ("/v5/market/{name}", "/v5/market/funding/history",
                                         *bybit_private.PRIVATE)

    def add_key(self, api_key: str, secret: str, *, account: FakeAccount | None = None,
                read_only: bool = True, **permissions: list[str]
                ) -> bybit_private.BybitKey:
        """Accept requests signed with this key; ``read_only=False`` with ``permissions``
        (``ContractTrade=["Order", "Position"]``, ``Wallet=["Withdraw"]``) as Bybit lists
        them."""
        key = bybit_private.BybitKey(secret, read_only,
                                     {**bybit_private.NO_RIGHTS, **permissions}, account)
        self.keys[api_key] = key
        return key

    def new_account(self, mode: str = bybit_private.REGULAR, *, wallet: float = 10_000.0
                    ) -> FakeAccount:
        return self.marked(bybit_private.bybit_account(mode, wallet=wallet))

    def _risk_limit(self, params: dict) -> dict:
        return bybit_private.risk_limit(self, params)

    async def _handle(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        name = request.match_info.get("name") or request.path.removeprefix("/v5/market/")
        self.log.append((name, params))
        if request.path in bybit_private.PRIVATE:
            return self._private(request, params)
        handler = getattr(self, "_" + name.replace("-", "_").replace("/", "_"), None)
        if handler is None:
            return web.json_response({"retCode": 10404, "retMsg": "Not found"}, status=404)
        code, msg, result = 0, "OK", {}
        try:
            if name != "time" and params.get("category") != "linear":
                raise _BybitError(10001, "params error: category only support linear")
            result = handler(params)
        except _BybitError as e:
            code, msg = e.args
        return web.json_response({"retCode": code, "retMsg": msg, "result": result,
                                  "retExtInfo": {}, "time": self.now_ms})

    def _private(self, request: web.Request, params: dict) -> web.Response:
        key = bybit_private.authenticate(self, request.headers, request.query_string)
        code, msg, result = 0, "OK", {}
        if isinstance(key, tuple):
            code, msg = key
        else:
            result = bybit_private.PRIVATE[request.path](self, key, params)
        return web.json_response({"retCode": code, "retMsg": msg, "result": result,
                                  "retExtInfo": {}, "time": self.now_ms})

    # --- the deterministic values behind the answers (tests compare against these) --------

    def funding_rate(self, base: str, t: int) -> float:
        """The rate of the settlement at ``t`` (the predicted one when ``t`` is now)."""
        p0, p = self.market.price(base, t - FUNDING_MS), self.market.price(base, t)
        return round(max(-0.005, min(0.005, 0.0001 + (p / p0 - 1.0) * 0.01)), 8)

    def open_interest(self, base: str, t: int) -> float:
        """Open interest in base coins at ``t`` (linear contracts are one coin each)."""
        k = self.bases.index(base)
        return round(50_000_000.0 / self.market.price(base, t) * (1 + 0.1 * k), 3)

    def _base(self, params: dict) -> str:
        sym = params.get("symbol", "")
        base = sym[:-4] if sym.endswith("USDT") else ""
        if base not in self.market.paths:
            raise _BybitError(10001, "params error: Symbol Is Invalid")
        return base

    # --- endpoints ------------------------------------------------------------------------

    def _time(self, params: dict) -> dict:
        return {"timeSecond": str(self.now_ms // 1000), "timeNano": str(self.now_ms * 10**6)}

    def _instrument(self, base: str, symbol: str, contract_type: str, quote: str,
                    delivery: int = 0) -> dict:
        scale, tick = _TICK.get(base, ("4", "0.0001"))
        lev = "100.00" if base in _TICK else "50.00"
        return {
            "symbol": symbol, "contractType": contract_type, "status": "Trading",
            "baseCoin": base, "quoteCoin": quote, "launchTime": str(self.market.origin_ms),
            "deliveryTime": str(delivery), "deliveryFeeRate": "0.0005" if delivery else "",
            "priceScale": scale,
            "leverageFilter": {"minLeverage": "1", "maxLeverage": lev, "leverageStep": "0.01"},
            "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
            "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": "0.001",
                              "qtyStep": "0.001", "postOnlyMaxOrderQty": "1190.000",
                              "maxMktOrderQty": "500.000", "minNotionalValue": "5"},
            "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": quote,
            "copyTrading": "both", "upperFundingRate": "0.005", "lowerFundingRate": "-0.005",
            "isPreListing": False, "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "displayName": "",
        }

    def _instruments_info(self, params: dict) -> dict:
        if params.get("status") == "PreLaunch":
            items: list[dict] = []
        else:
            items = [self._instrument(b, f"{b}USDT", "LinearPerpetual", "USDT")
                     for b in self.bases]
            if "BTC" in self.bases:
                items += [self._instrument("BTC", "BTCPERP", "LinearPerpetual", "USDC"),
                          self._instrument("BTC", "BTCUSDT-27MAR26", "LinearFutures", "USDT",
                                           delivery=1774598400000)]
        return {"category": "linear", "list": items, "nextPageCursor": ""}

    def _kline(self, params: dict) -> dict:
        """Newest first, the open bar included. With ``start`` alone Bybit answers the
        ``limit`` bars from ``start`` on; otherwise the newest ``limit`` bars up to ``end``."""
        base = self._base(params)
        step = _BYBIT_INTERVAL.get(params.get("interval", ""))
        if step is None:
            raise _BybitError(10001, "params error: Invalid period!")
        limit = max(1, min(int(params.get("limit", 200)), 1000))
        hi = self.now_ms // step * step
        if "end" in params:
            hi = min(hi, int(params["end"]) // step * step)
        lo = max(self.market.origin_ms, int(params.get("start", 0)) // step * step)
        if "start" in params and "end" not in params:
            hi = min(hi, lo + (limit - 1) * step)
        lo = max(lo, hi - (limit - 1) * step)
        times = list(range(hi, lo - 1, -step))
        rows = self.market.candles(base, step, times, self.now_ms)
        return {"symbol": params["symbol"], "category": "linear",
                "list": [[r[0], r[1], r[2], r[3], r[4], r[6], r[7]] for r in rows]}

    def _ticker(self, base: str) -> dict:
        now = self.now_ms
        px, prev = self.market.price(base, now), self.market.price(base, now - 86_400_000)
        turnover = 1e9 / (1 + self.bases.index(base))  # the first base trades the most
        oi, hi, lo = self.open_interest(base, now), max(px, prev), min(px, prev)
        return {
            "symbol": f"{base}USDT", "lastPrice": f"{px:.8g}", "indexPrice": f"{px:.8g}",
            "markPrice": f"{px:.8g}", "prevPrice24h": f"{prev:.8g}", "prevPrice1h": f"{px:.8g}",
            "price24hPcnt": f"{px / prev - 1:.6f}", "highPrice24h": f"{hi:.8g}",
            "lowPrice24h": f"{lo:.8g}", "openInterest": f"{oi:.3f}",
            "openInterestValue": f"{oi * px:.2f}", "turnover24h": f"{turnover:.4f}",
            "volume24h": f"{turnover / px:.3f}", "fundingCap": "0.005",
            "fundingRate": f"{self.funding_rate(base, now):.8f}",
            "nextFundingTime": str((now // FUNDING_MS + 1) * FUNDING_MS),
            "predictedDeliveryPrice": "", "basisRate": "", "deliveryFeeRate": "",
            "deliveryTime": "0", "bid1Price": f"{px * 0.9999:.8g}", "bid1Size": "2.1",
            "ask1Price": f"{px * 1.0001:.8g}", "ask1Size": "1.5", "basis": "", "preOpenPrice": "",
            "preQty": "", "curPreListingPhase": "", "fundingIntervalHour": "8",
        }

    def _tickers(self, params: dict) -> dict:
        bases = [self._base(params)] if params.get("symbol") else self.bases
        return {"category": "linear", "list": [self._ticker(b) for b in bases]}

    def _funding_history(self, params: dict) -> dict:
        """Settlements newest first; ``startTime`` without ``endTime`` is refused, as live."""
        base = self._base(params)
        if "startTime" in params and "endTime" not in params:
            raise _BybitError(10001, "params error: endTime is required with startTime")
        limit = max(1, min(int(params.get("limit", 200)), 200))
        hi = self.now_ms // FUNDING_MS * FUNDING_MS
        if "endTime" in params:
            hi = min(hi, int(params["endTime"]) // FUNDING_MS * FUNDING_MS)
        lo = max(self.market.origin_ms, int(params.get("startTime", 0)))
        lo = -(-lo // FUNDING_MS) * FUNDING_MS
        times = range(hi, max(lo, hi - (limit - 1) * FUNDING_MS) - 1, -FUNDING_MS)
        return {"category": "linear", "list": [
            {"symbol": params["symbol"], "fundingRate": f"{self.funding_rate(base, t):.8f}",
             "fundingRateTimestamp": str(t)} for t in times]}

    def _open_interest(self, params: dict) -> dict:
        base = self._base(params)
        step = _BYBIT_OI_INTERVAL.get(params.get("intervalTime", ""))
        if step is None:
            raise _BybitError(10001, "params error: intervalTime is invalid")
        limit = max(1, min(int(params.get("limit", 50)), 200))
        hi = self.now_ms // step * step
        if "endTime" in params:
            hi = min(hi, int(params["endTime"]) // step * step)
        times = range(hi, hi - limit * step, -step)
        return {"symbol": params["symbol"], "category": "linear", "nextPageCursor": "", "list": [
            {"openInterest": f"{self.open_interest(base, t):.8f}", "timestamp": str(t)}
            for t in times if t >= self.market.origin_ms]}

    def _orderbook(self, params: dict) -> dict:
        base = self._base(params)
        limit = int(params.get("limit", 25))
        if not 1 <= limit <= 500:
            raise _BybitError(10001, "params error: limit must be within [1, 500]")
        book = self.market.book(base, self.now_ms, limit)
        ct = self.market.contract_value(base)  # Bybit linear sizes are in base coins
        b, a = ([[p, f"{float(q) * ct:g}"] for p, q, *_ in book[k]] for k in ("bids", "asks"))
        return {"s": params["symbol"], "b": b, "a": a, "ts": self.now_ms, "u": 1,
                "seq": 1, "cts": self.now_ms}


__all__ = ["FUNDING_MS", "FakeBinance", "FakeBybit"]
