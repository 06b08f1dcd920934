"""The fake OKX server's public endpoints: each returns (HTTP status, envelope) with string
fields (the private ones, signed, are in ``okx_private``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.fakes.okx_flow_routes import FLOW_ROUTES
from tests.fakes.okx_private import TIERS

if TYPE_CHECKING:
    from tests.fakes.okx_server import FakeOkx

Body = dict
FUNDING_MS = 8 * 3_600_000


def ok(data: list) -> tuple[int, Body]:
    return 200, {"code": "0", "msg": "", "data": data}


def err(code: str, msg: str, status: int = 200) -> tuple[int, Body]:
    return status, {"code": code, "msg": msg, "data": []}


def _base(okx: FakeOkx, params: dict[str, str], key: str = "instId") -> str | None:
    return okx.market.base_of(params.get(key, ""))


def time_(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    return ok([{"ts": str(okx.now_ms)}])


def instruments(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    if params.get("instType") != "SWAP":
        return ok([])
    out = []
    for b in okx.market.bases:
        out.append({
            "instType": "SWAP", "instId": okx.market.inst_id(b), "uly": f"{b}-USDT",
            "instFamily": f"{b}-USDT", "baseCcy": "", "quoteCcy": "", "settleCcy": "USDT",
            "ctVal": f"{okx.market.contract_value(b):g}", "ctMult": "1", "ctValCcy": b,
            "ctType": "linear", "lever": "100" if b in ("BTC", "ETH") else "50",
            "tickSz": "0.1" if b == "BTC" else "0.0001", "lotSz": "1", "minSz": "1",
            "maxLmtSz": "100000", "maxMktSz": "10000", "state": "live", "alias": "",
            "expTime": "", "listTime": str(okx.market.origin_ms), "category": "1",
            "optType": "", "stk": "", "ruleType": "normal",
        })
    return ok(out)


def _candles(okx: FakeOkx, params: dict[str, str], history: bool) -> tuple[int, Body]:
    base = _base(okx, params)
    if base is None:
        return err("51001", "Instrument ID does not exist")
    bar_ms = okx.bar_ms(params.get("bar", "1m"))
    if bar_ms is None or bar_ms % okx.market.step_ms:
        return err("51000", "Parameter bar error")
    limit = min(int(params.get("limit", "100")), 300)
    after = int(params["after"]) if params.get("after") else None
    before = int(params["before"]) if params.get("before") else None
    times = okx.market.candle_times(base, bar_ms, okx.now_ms, after, before, limit,
                                    None if history else 1440)
    return ok(okx.market.candles(base, bar_ms, times, okx.now_ms))


def candles(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    return _candles(okx, params, history=False)


def history_candles(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    return _candles(okx, params, history=True)


def books(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    base = _base(okx, params)
    if base is None:
        return err("51001", "Instrument ID does not exist")
    return ok([okx.market.book(base, okx.now_ms, min(int(params.get("sz", "1")), 400))])


def _funding_rate_at(okx: FakeOkx, base: str, t: int) -> float:
    p = okx.market.price(base, t)
    p0 = okx.market.price(base, t - FUNDING_MS)
    return max(-0.0075, min(0.0075, 0.0001 + (p / p0 - 1.0) * 0.01))


def funding_rate(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    base = _base(okx, params)
    if base is None:
        return err("51001", "Instrument ID does not exist")
    now = okx.now_ms
    nxt = (now // FUNDING_MS + 1) * FUNDING_MS
    rate = _funding_rate_at(okx, base, now)
    return ok([{
        "instType": "SWAP", "instId": params["instId"], "fundingRate": f"{rate:.8f}",
        "nextFundingRate": "", "fundingTime": str(nxt), "nextFundingTime": str(nxt + FUNDING_MS),
        "method": "current_period", "maxFundingRate": "0.0075", "minFundingRate": "-0.0075",
        "settFundingRate": f"{rate:.8f}", "settState": "settled", "premium": "0.0001",
        "interestRate": "0.0001", "impactValue": "20000", "ts": str(now),
    }])


def funding_rate_history(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    base = _base(okx, params)
    if base is None:
        return err("51001", "Instrument ID does not exist")
    limit = min(int(params.get("limit", "100")), 400)
    hi = okx.now_ms // FUNDING_MS * FUNDING_MS
    if params.get("after"):
        hi = min(hi, (int(params["after"]) - 1) // FUNDING_MS * FUNDING_MS)
    lo = int(params["before"]) + 1 if params.get("before") else okx.market.origin_ms
    out = []
    t = hi
    while t >= lo and len(out) < limit:
        r = _funding_rate_at(okx, base, t)
        out.append({"instType": "SWAP", "instId": params["instId"], "fundingRate": f"{r:.8f}",
                    "realizedRate": f"{r:.8f}", "fundingTime": str(t), "method": "current_period"})
        t -= FUNDING_MS
    return ok(out)


def open_interest(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    base = _base(okx, params)
    if base is None:
        return err("51001", "Instrument ID does not exist")
    px = okx.market.price(base, okx.now_ms)
    oi_ccy = okx.market.open_interest_usdt(base, okx.now_ms) / px
    ct = okx.market.contract_value(base)
    return ok([{"instType": "SWAP", "instId": params["instId"], "oi": f"{oi_ccy / ct:.2f}",
                "oiCcy": f"{oi_ccy:.6f}", "oiUsd": f"{oi_ccy * px:.2f}",
                "ts": str(okx.now_ms)}])


def position_tiers(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    fam = params.get("instFamily", "")
    base = fam.split("-")[0]
    if base not in okx.market.paths:
        return err("51001", "Instrument ID does not exist")
    out, lo = [], 0
    for k, (mx, mmr, lev) in enumerate(TIERS, start=1):
        out.append({"uly": fam, "instFamily": fam, "instId": "", "tier": str(k),
                    "minSz": str(lo), "maxSz": str(mx), "mmr": f"{mmr}", "imr": f"{1 / lev}",
                    "maxLever": str(lev), "optMgnFactor": "0", "quoteMaxLoan": "",
                    "baseMaxLoan": ""})
        lo = mx + 1
    return ok(out)


def tickers(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    if params.get("instType") != "SWAP":
        return ok([])
    out = []
    for i, b in enumerate(okx.market.bases):
        px = okx.market.price(b, okx.now_ms)
        vol_ccy = 1e9 / (i + 1) / px  # earlier bases trade more
        ct = okx.market.contract_value(b)
        out.append({"instType": "SWAP", "instId": okx.market.inst_id(b), "last": f"{px:.8g}",
                    "lastSz": "1", "askPx": f"{px * 1.0001:.8g}", "askSz": "10",
                    "bidPx": f"{px * 0.9999:.8g}", "bidSz": "10", "open24h": f"{px:.8g}",
                    "high24h": f"{px * 1.02:.8g}", "low24h": f"{px * 0.98:.8g}",
                    "volCcy24h": f"{vol_ccy:.4f}", "vol24h": f"{vol_ccy / ct:.0f}",
                    "ts": str(okx.now_ms), "sodUtc0": f"{px:.8g}", "sodUtc8": f"{px:.8g}"})
    return ok(out)


def balance(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    """The trading account (v5 shape): ``okx.equity`` is the USDT equity (None: no USDT),
    ``okx.iso_equity`` the part of it that is isolated margin."""
    details = [] if okx.equity is None else [{
        "ccy": "USDT", "eq": f"{okx.equity:.8g}", "isoEq": f"{okx.iso_equity:.8g}",
        "cashBal": f"{okx.equity:.8g}",
        "availEq": f"{okx.equity:.8g}", "availBal": f"{okx.equity:.8g}", "frozenBal": "0",
        "upl": "0", "uTime": str(okx.now_ms)}]
    return ok([{"uTime": str(okx.now_ms), "totalEq": f"{okx.equity or 0:.8g}",
                "details": details}])


ROUTES: dict[str, Callable[[FakeOkx, dict[str, str]], tuple[int, Body]]] = {
    "/api/v5/public/time": time_,
    "/api/v5/public/instruments": instruments,
    "/api/v5/market/candles": candles,
    "/api/v5/market/history-candles": history_candles,
    "/api/v5/market/books": books,
    "/api/v5/public/funding-rate": funding_rate,
    "/api/v5/public/funding-rate-history": funding_rate_history,
    "/api/v5/public/open-interest": open_interest,
    "/api/v5/public/position-tiers": position_tiers,
    "/api/v5/market/tickers": tickers,
    **FLOW_ROUTES,
}


def route(okx: FakeOkx, path: str, params: dict[str, str]) -> tuple[int, Body]:
    handler = ROUTES.get(path)
    if handler is None:
        return err("50030", f"fake OKX does not serve {path}", status=404)
    return handler(okx, params)
