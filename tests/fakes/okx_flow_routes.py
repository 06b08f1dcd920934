"""The fake OKX server's flow endpoints (the cascade score's inputs): liquidation orders,
contract taker volume, open-interest history and mark-price candles, in OKX's shapes —
string numbers, newest first, ``after`` strictly older and ``before`` strictly newer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.okx_server import FakeOkx

Body = dict
MINUTE = 60_000
FIVE = 300_000


def _ok(data: list) -> tuple[int, Body]:
    return 200, {"code": "0", "msg": "", "data": data}


def _err(code: str, msg: str) -> tuple[int, Body]:
    return 200, {"code": code, "msg": msg, "data": []}


def _int(params: dict[str, str], key: str) -> int | None:
    return int(params[key]) if params.get(key) else None


def liquidation_orders(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    """``GET /api/v5/public/liquidation-orders``: one order a minute per instrument family,
    the latest ``limit`` (≤ 100) first."""
    if params.get("instType") != "SWAP":
        return _err("51000", "Parameter instType error")
    fam = params.get("instFamily") or params.get("uly") or ""
    base = fam.split("-")[0]
    if base not in okx.market.paths:
        return _err("51001", "Instrument ID does not exist")
    if params.get("state", "unfilled") != "filled":
        return _ok([])
    limit = min(int(params.get("limit", "100")), 100)
    now, after, before = okx.now_ms, _int(params, "after"), _int(params, "before")
    hi = now if after is None else min(now, after - 1)
    lo = max(okx.market.origin_ms, (before or 0) + 1, now - 7 * 86_400_000)
    ct = okx.market.contract_value(base)
    details = []
    m = (hi - 30_000) // MINUTE * MINUTE  # orders at :30 of each minute
    while m + 30_000 >= lo and len(details) < limit:
        ts = m + 30_000
        usdt = okx.market.liquidated_usdt(base, m)
        px = okx.market.price(base, ts)
        details.append({"bkLoss": "0", "bkPx": f"{px:.8g}", "ccy": "", "posSide": "long",
                        "side": "sell", "sz": f"{usdt / (px * ct):.4f}", "ts": str(ts)})
        m -= MINUTE
    if not details:
        return _ok([])
    return _ok([{"details": details, "instFamily": fam, "instId": okx.market.inst_id(base),
                 "instType": "SWAP", "totalLoss": "", "uly": fam}])


def taker_volume_contract(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    """``GET /api/v5/rubik/stat/taker-volume-contract``: ``[ts, sellVol, buyVol]`` per
    5-minute bucket, newest (still filling) first; unit 2 = USD."""
    base = okx.market.base_of(params.get("instId", ""))
    if base is None:
        return _err("51001", "Instrument ID does not exist")
    if params.get("period", "5m") != "5m":
        return _err("51000", "Parameter period error")
    limit = min(int(params.get("limit", "100")), 100)
    now, end, begin = okx.now_ms, _int(params, "end"), _int(params, "begin")
    b = (now if end is None else min(now, end - 1)) // FIVE * FIVE
    rows = []
    while len(rows) < limit and b >= okx.market.origin_ms and (begin is None or b > begin):
        sell, buy = okx.market.taker_usdt(base, b, now)
        rows.append([str(b), f"{sell:.2f}", f"{buy:.2f}"])
        b -= FIVE
    return _ok(rows)


def open_interest_history(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    """``GET /api/v5/rubik/stat/contracts/open-interest-history``: ``[ts, oi, oiCcy, oiUsd]``
    per complete 5-minute period, newest first, ``begin``/``end`` exclusive."""
    base = okx.market.base_of(params.get("instId", ""))
    if base is None:
        return _err("51001", "Instrument ID does not exist")
    if params.get("period", "5m") != "5m":
        return _err("51000", "Parameter period error")
    limit = min(int(params.get("limit", "100")), 100)
    now, end, begin = okx.now_ms, _int(params, "end"), _int(params, "begin")
    t = ((now // FIVE) - 1) * FIVE if end is None else min(((now // FIVE) - 1) * FIVE,
                                                            (end - 1) // FIVE * FIVE)
    ct = okx.market.contract_value(base)
    rows = []
    while len(rows) < limit and t >= okx.market.origin_ms and (begin is None or t > begin):
        usd = okx.market.open_interest_usdt(base, t)
        ccy = usd / okx.market.price(base, t)
        rows.append([str(t), f"{ccy / ct:.2f}", f"{ccy:.6f}", f"{usd:.2f}"])
        t -= FIVE
    return _ok(rows)


def _mark_candles(okx: FakeOkx, params: dict[str, str], history: bool) -> tuple[int, Body]:
    base = okx.market.base_of(params.get("instId", ""))
    if base is None:
        return _err("51001", "Instrument ID does not exist")
    bar_ms = okx.bar_ms(params.get("bar", "1m"))
    if bar_ms is None or bar_ms % okx.market.step_ms:
        return _err("51000", "Parameter bar error")
    limit = min(int(params.get("limit", "100")), 100)
    times = okx.market.candle_times(base, bar_ms, okx.now_ms, _int(params, "after"),
                                    _int(params, "before"), limit, None if history else 1440)
    rows = okx.market.candles(base, bar_ms, times, okx.now_ms)
    out = []
    for r in rows:
        k = 1.0 + okx.market.mark_basis(base, int(r[0]) + bar_ms - 1)
        o, h, lo, c = (float(x) * k for x in r[1:5])
        out.append([r[0], f"{o:.8g}", f"{h:.8g}", f"{lo:.8g}", f"{c:.8g}", r[8]])
    return _ok(out)


def mark_price_candles(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    return _mark_candles(okx, params, history=False)


def history_mark_price_candles(okx: FakeOkx, params: dict[str, str]) -> tuple[int, Body]:
    return _mark_candles(okx, params, history=True)


FLOW_ROUTES = {
    "/api/v5/public/liquidation-orders": liquidation_orders,
    "/api/v5/rubik/stat/taker-volume-contract": taker_volume_contract,
    "/api/v5/rubik/stat/contracts/open-interest-history": open_interest_history,
    "/api/v5/market/mark-price-candles": mark_price_candles,
    "/api/v5/market/history-mark-price-candles": history_mark_price_candles,
}
FLOW_LIMITS: dict[str, tuple[int, bool]] = {  # requests per 2 s, per instrument?
    "/api/v5/public/liquidation-orders": (40, False),
    "/api/v5/rubik/stat/taker-volume-contract": (5, False),
    "/api/v5/rubik/stat/contracts/open-interest-history": (10, False),
    "/api/v5/market/mark-price-candles": (40, False),
    "/api/v5/market/history-mark-price-candles": (10, False),
}
