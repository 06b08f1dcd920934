"""The fake Binance's private USDⓈ-M endpoints: signed as Binance documents (``X-MBX-APIKEY``
and ``signature`` = hex HMAC-SHA256 of the query string before it), answered in Binance's shapes
from a ``FakeAccount`` per key.

Liquidation prices follow Binance's published formula (one-way mode):

    LP = (WB − TMM1 + UPNL1 + cumB − s·N·EP) / (N·MMR_B − s·N)

with the bracket B chosen at the liquidation price itself; isolated: WB = the position's
isolated wallet, TMM1 = UPNL1 = 0; cross: WB = ``crossWalletBalance``, TMM1 and UPNL1 the
other cross positions' maintenance margin and unrealised P&L.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.exchange_account import FakeAccount, Pos

if TYPE_CHECKING:
    from tests.fakes.binance_bybit import FakeBinance

# brackets of every symbol: (notional cap, maintenance rate, cum)
BRACKETS = ((50_000.0, 0.004, 0.0), (250_000.0, 0.005, 50.0), (1_000_000.0, 0.01, 1_300.0),
            (10_000_000.0, 0.025, 16_300.0), (float("inf"), 0.05, 266_300.0))
READ_ONLY = {"enableReading": True, "enableFutures": False, "enableWithdrawals": False,
             "enableInternalTransfer": False, "permitsUniversalTransfer": False,
             "enableMargin": False, "enableSpotAndMarginTrading": False,
             "enableVanillaOptions": False, "enablePortfolioMarginTrading": False}


@dataclass
class BinanceKey:
    secret: str
    rights: dict[str, bool] = field(default_factory=lambda: dict(READ_ONLY))
    account: FakeAccount | None = None


def bracket(notional: float) -> tuple[float, float, float]:
    return next(b for b in BRACKETS if notional <= b[0])


def maintenance(acct: FakeAccount, p: Pos) -> float:
    _cap, mmr, cum = bracket(p.size * acct.mark(p.symbol))
    return p.size * acct.mark(p.symbol) * mmr - cum


def liquidation_price(acct: FakeAccount, pos: Pos) -> float | None:
    s, n, e = pos.sign, pos.size, pos.entry
    if pos.mode == "isolated":
        wb = pos.margin
    else:
        others = [p for p in acct.cross() if p is not pos]
        wb = acct.cross_wallet - sum(maintenance(acct, p) for p in others) + sum(
            p.upl(acct.mark(p.symbol)) for p in others)
    lo = 0.0
    for cap, mmr, cum in BRACKETS:
        px = (wb + cum - s * n * e) / (n * mmr - s * n)
        if px > 0 and lo < n * px <= cap:
            return px
        lo = cap
    return None


def binance_account(*, wallet: float = 10_000.0) -> FakeAccount:
    return FakeAccount(wallet=wallet, taker=0.0005, mode="classic",
                       liquidation=liquidation_price)


def _n(x: float) -> str:
    return f"{x:.10g}"


def _error(status: int, code: int, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


def authenticate(srv: FakeBinance, request: web.Request) -> BinanceKey | web.Response:
    key = srv.keys.get(request.headers.get("X-MBX-APIKEY", ""))
    if key is None:
        return _error(401, -2015, "Invalid API-key, IP, or permissions for action.")
    query, sep, signature = request.query_string.rpartition("&signature=")
    want = hmac.new(key.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    if not sep or not hmac.compare_digest(want, signature):
        return _error(400, -1022, "Signature for this request is not valid.")
    if "timestamp" not in request.query:
        return _error(400, -1102, "Mandatory parameter 'timestamp' was not sent.")
    return key


def _position(srv: FakeBinance, acct: FakeAccount, p: Pos) -> dict[str, Any]:
    mark = acct.mark(p.symbol)
    liq = acct.liq_price(p)
    upl = p.upl(mark)
    iso = p.mode == "isolated"
    return {"symbol": f"{p.symbol}USDT", "positionAmt": _n(p.size * p.sign),
            "entryPrice": _n(p.entry), "breakEvenPrice": _n(p.entry), "markPrice": _n(mark),
            "unRealizedProfit": _n(upl), "liquidationPrice": _n(liq or 0.0),
            "leverage": str(int(p.leverage)), "maxNotionalValue": "5000000",
            "marginType": "isolated" if iso else "cross",
            "isolatedMargin": _n(p.margin + upl) if iso else "0.00000000",
            "isolatedWallet": _n(p.margin) if iso else "0", "isAutoAddMargin": "false",
            "positionSide": "BOTH", "notional": _n(p.size * mark * p.sign),
            "updateTime": p.updated_at}


def position_risk(srv: FakeBinance, key: BinanceKey, params: dict) -> Any:
    acct = key.account or binance_account()
    rows = [_position(srv, acct, p) for p in acct.positions.values()]
    held = {p.symbol for p in acct.positions.values()}
    rows += [{"symbol": f"{b}USDT", "positionAmt": "0.000", "entryPrice": "0.0",
              "markPrice": "0", "unRealizedProfit": "0.00000000", "liquidationPrice": "0",
              "leverage": "20", "marginType": "cross", "isolatedMargin": "0.00000000",
              "isolatedWallet": "0", "positionSide": "BOTH", "notional": "0",
              "updateTime": 0} for b in srv.bases if b not in held]
    return rows


def account(srv: FakeBinance, key: BinanceKey, params: dict) -> Any:
    acct = key.account or binance_account()
    cross_upl = sum(p.upl(acct.mark(p.symbol)) for p in acct.cross())
    upl = sum(p.upl(acct.mark(p.symbol)) for p in acct.positions.values())
    im = sum(p.size * acct.mark(p.symbol) / p.leverage for p in acct.positions.values())
    mm = sum(maintenance(acct, p) for p in acct.positions.values())
    avail = acct.cross_wallet + cross_upl - sum(
        p.size * acct.mark(p.symbol) / p.leverage for p in acct.cross())
    usdt = {"asset": "USDT", "walletBalance": _n(acct.wallet), "unrealizedProfit": _n(upl),
            "marginBalance": _n(acct.wallet + upl), "maintMargin": _n(mm),
            "initialMargin": _n(im), "positionInitialMargin": _n(im),
            "openOrderInitialMargin": "0", "crossWalletBalance": _n(acct.cross_wallet),
            "crossUnPnl": _n(cross_upl), "availableBalance": _n(avail),
            "maxWithdrawAmount": _n(avail), "marginAvailable": True, "updateTime": srv.now_ms}
    return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
            "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1,
            "totalInitialMargin": _n(im), "totalMaintMargin": _n(mm),
            "totalWalletBalance": _n(acct.wallet), "totalUnrealizedProfit": _n(upl),
            "totalMarginBalance": _n(acct.wallet + upl), "totalPositionInitialMargin": _n(im),
            "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": _n(acct.cross_wallet),
            "totalCrossUnPnl": _n(cross_upl), "availableBalance": _n(avail),
            "maxWithdrawAmount": _n(avail), "assets": [usdt], "positions": []}


def leverage_bracket(srv: FakeBinance, key: BinanceKey, params: dict) -> Any:
    symbols = [params["symbol"]] if params.get("symbol") else [f"{b}USDT" for b in srv.bases]
    lo = 0.0
    brackets = []
    for i, (cap, mmr, cum) in enumerate(BRACKETS, start=1):
        brackets.append({"bracket": i, "initialLeverage": int(0.5 / mmr),
                         "notionalCap": cap if cap != float("inf") else 9_223_372_036_854_775_807,
                         "notionalFloor": lo, "maintMarginRatio": mmr, "cum": cum})
        lo = cap
    return [{"symbol": s, "notionalCoef": 1.0, "brackets": brackets} for s in symbols]


def _window(params: dict, t: int) -> bool:
    start, end = params.get("startTime"), params.get("endTime")
    return (start is None or t >= int(start)) and (end is None or t <= int(end))


def user_trades(srv: FakeBinance, key: BinanceKey, params: dict) -> Any:
    if "symbol" not in params:
        return None  # Binance: symbol is mandatory
    acct = key.account or binance_account()
    return [{"buyer": f.side == "buy", "commission": _n(-f.fee), "commissionAsset": "USDT",
             "id": int(f.id), "maker": False, "orderId": int(f.order_id), "price": _n(f.price),
             "qty": _n(f.size), "quoteQty": _n(f.size * f.price), "realizedPnl": _n(f.pnl),
             "side": f.side.upper(), "positionSide": "BOTH", "symbol": f"{f.symbol}USDT",
             "time": f.time}
            for f in acct.fills if f"{f.symbol}USDT" == params["symbol"] and _window(params, f.time)
            ][:int(params.get("limit", 500))]


def income(srv: FakeBinance, key: BinanceKey, params: dict) -> Any:
    acct = key.account or binance_account()
    rows: list[dict[str, Any]] = [
        {"symbol": f"{f.symbol}USDT", "incomeType": "FUNDING_FEE", "income": _n(f.amount),
         "asset": "USDT", "info": "", "time": f.time, "tranId": int(f.id), "tradeId": ""}
        for f in acct.funding]
    for f in acct.fills:
        rows.append({"symbol": f"{f.symbol}USDT", "incomeType": "COMMISSION",
                     "income": _n(-f.fee), "asset": "USDT", "info": "", "time": f.time,
                     "tranId": int(f.id) * 10, "tradeId": f.id})
    for c in acct.closes:
        if c.pos.penalty:
            rows.append({"symbol": f"{c.pos.symbol}USDT", "incomeType": "INSURANCE_CLEAR",
                         "income": _n(-c.pos.penalty), "asset": "USDT", "info": "",
                         "time": c.closed_at, "tranId": int(c.pos.pid) * 10 + 1, "tradeId": ""})
    kind = params.get("incomeType")
    rows = [r for r in rows if (kind is None or r["incomeType"] == kind)
            and _window(params, r["time"])]
    return sorted(rows, key=lambda r: r["time"])[:int(params.get("limit", 100))]


def force_orders(srv: FakeBinance, key: BinanceKey, params: dict) -> Any:
    acct = key.account or binance_account()
    want = {"LIQUIDATION": ("liquidation",), "ADL": ("adl",)}.get(
        params.get("autoCloseType", ""), ("liquidation", "adl"))
    return [{"orderId": int(f.order_id), "symbol": f"{f.symbol}USDT", "status": "FILLED",
             "clientOrderId": "autoclose-1" if f.kind == "liquidation" else "adl_autoclose",
             "price": _n(f.price), "avgPrice": _n(f.price), "origQty": _n(f.size),
             "executedQty": _n(f.size), "cumQuote": _n(f.size * f.price), "timeInForce": "IOC",
             "type": "LIMIT", "reduceOnly": False, "closePosition": False,
             "side": f.side.upper(), "positionSide": "BOTH", "stopPrice": "0",
             "workingType": "CONTRACT_PRICE", "origType": "LIMIT", "time": f.time,
             "updateTime": f.time}
            for f in acct.fills if f.kind in want and _window(params, f.time)]


def api_restrictions(srv: FakeBinance, key: BinanceKey, params: dict) -> Any:
    return {"ipRestrict": False, "createTime": srv.now_ms - 86_400_000, **key.rights,
            "tradingAuthorityExpirationTime": 0}


PRIVATE = {
    "/fapi/v2/positionRisk": position_risk,
    "/fapi/v2/account": account,
    "/fapi/v1/leverageBracket": leverage_bracket,
    "/fapi/v1/userTrades": user_trades,
    "/fapi/v1/income": income,
    "/fapi/v1/forceOrders": force_orders,
    "/sapi/v1/account/apiRestrictions": api_restrictions,
}


async def handle(srv: FakeBinance, request: web.Request) -> web.Response:
    """Answer a private request (signature checked first)."""
    key = authenticate(srv, request)
    if isinstance(key, web.Response):
        return key
    params = {k: v for k, v in request.query.items() if k not in ("signature", "timestamp",
                                                                     "recvWindow")}
    body = PRIVATE[request.path](srv, key, params)
    if body is None:
        return _error(400, -1102, "Mandatory parameter 'symbol' was not sent.")
    return web.json_response(body)
