"""A small fake Binance USDT-M (fapi) server: the documented shapes of the endpoints the
Binance plugin needs (exchangeInfo, time, klines, premiumIndex, openInterest, depth).
Prices come from the same deterministic market as the fake OKX server."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.okx_market import FakeMarket
from tests.fakes.okx_server import START_MS

_INTERVAL = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000}


@dataclass
class FakeBinance:
    bases: list[str] = field(default_factory=lambda: ["BTC", "ETH"])
    now_ms: int = START_MS
    port: int = 0
    log: list[tuple[str, dict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.market = FakeMarket(self.bases, now_ms=self.now_ms)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeBinance:
        app = web.Application()
        app.router.add_get("/fapi/v1/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    def _base(self, params: dict) -> str | None:
        sym = params.get("symbol", "")
        base = sym[:-4] if sym.endswith("USDT") else ""
        return base if base in self.market.paths else None

    async def _handle(self, request: web.Request) -> web.Response:
        name, params = request.match_info["name"], dict(request.query)
        self.log.append((name, params))
        handler = getattr(self, "_" + name.replace("Info", "_info").lower(), None)
        if handler is None:
            return web.json_response({"code": -1121, "msg": "Invalid endpoint."}, status=404)
        body = handler(params)
        if body is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        return web.json_response(body)

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
