"""The fake Bybit's private v5 endpoints (unified trading account, category linear): signed as
Bybit documents (``X-BAPI-SIGN`` = hex HMAC-SHA256 of timestamp + key + recv window + query),
answered with HTTP 200 and a ``retCode`` envelope from a ``FakeAccount`` per key, plus the
public risk-limit tiers.

The account's margin mode (``marginMode``) decides every position's: ``ISOLATED_MARGIN``,
``REGULAR_MARGIN`` (cross) or ``PORTFOLIO_MARGIN``. Liquidation prices: isolated by Bybit's
formula ``entry − s·(positionBalance − MM)/N`` with ``MM = N·entry·mmr − mmDeduction``;
cross where ``totalEquity`` meets ``totalMaintenanceMargin`` (each position's
``N·mark·mmr − mmDeduction`` plus its fee to close ``N·mark·fee``) with the other positions at
their marks; portfolio margin with a stressed rate (``PM_STRESS`` × mmr), which hedgewatch can
only approximate.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.exchange_account import FakeAccount, Pos

if TYPE_CHECKING:
    from tests.fakes.binance_bybit import FakeBybit

ISOLATED, REGULAR, PORTFOLIO = "ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"
PM_STRESS = 1.2
# risk-limit tiers of every symbol: (riskLimitValue, maintenance rate, mmDeduction, max lev)
RISK_LIMITS = ((100_000.0, 0.005, 0.0, 100), (500_000.0, 0.01, 500.0, 50),
               (2_000_000.0, 0.02, 5_500.0, 25), (10_000_000.0, 0.05, 65_500.0, 10))
EXEC_TYPE = {"trade": "Trade", "liquidation": "BustTrade", "adl": "AdlTrade"}
NO_RIGHTS = {k: [] for k in ("ContractTrade", "Spot", "Wallet", "Options", "Derivatives",
                             "CopyTrading", "BlockTrade", "Exchange", "NFT", "Affiliate")}


@dataclass
class BybitKey:
    secret: str
    read_only: bool = True
    permissions: dict[str, list[str]] = field(default_factory=lambda: dict(NO_RIGHTS))
    account: FakeAccount | None = None


def tier(notional: float) -> tuple[float, float, float, int]:
    return next((t for t in RISK_LIMITS if notional <= t[0]), RISK_LIMITS[-1])


def position_mm(acct: FakeAccount, p: Pos, price: float | None = None) -> float:
    """The position's maintenance margin: isolated at entry; cross at ``price`` (the mark)
    with the fee to close."""
    if p.mode == "isolated":
        _cap, mmr, ded, _lev = tier(p.size * p.entry)
        return p.size * p.entry * mmr - ded
    mark = acct.mark(p.symbol) if price is None else price
    _cap, mmr, ded, _lev = tier(p.size * acct.mark(p.symbol))
    stress = PM_STRESS if acct.mode == PORTFOLIO else 1.0
    return p.size * mark * (mmr * stress + acct.taker) - ded


def liquidation_price(acct: FakeAccount, pos: Pos) -> float | None:
    s, n = pos.sign, pos.size
    if pos.mode == "isolated":
        return max(0.0, pos.entry - s * (pos.margin - position_mm(acct, pos)) / n)
    others = sum(position_mm(acct, p) for p in acct.cross() if p is not pos)
    _cap, mmr, ded, _lev = tier(n * acct.mark(pos.symbol))
    k = mmr * (PM_STRESS if acct.mode == PORTFOLIO else 1.0) + acct.taker
    mark = acct.mark(pos.symbol)
    # equity + s·N·(P − mark) = others + N·P·k − ded
    px = (others - ded - acct.equity + s * n * mark) / (n * (s - k))
    return max(0.0, px)


def bybit_account(mode: str = REGULAR, *, wallet: float = 10_000.0) -> FakeAccount:
    return FakeAccount(wallet=wallet, taker=0.0006, mode=mode, liquidation=liquidation_price,
                       forced_mode="isolated" if mode == ISOLATED else "cross",
                       at_bankruptcy=True, cross_penalty_rate=0.0)


def _n(x: float) -> str:
    return f"{x:.10g}"


def authenticate(srv: FakeBybit, headers: Any, query_string: str) -> BybitKey | tuple[int, str]:
    key = srv.keys.get(headers.get("X-BAPI-API-KEY", ""))
    if key is None:
        return 10003, "API key is invalid."
    payload = (headers.get("X-BAPI-TIMESTAMP", "") + headers.get("X-BAPI-API-KEY", "")
               + headers.get("X-BAPI-RECV-WINDOW", "") + query_string)
    want = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, headers.get("X-BAPI-SIGN", "")):
        return 10004, "error sign! origin_string[...]"
    return key


def query_api(srv: FakeBybit, key: BybitKey, params: dict) -> dict:
    return {"id": "13770661", "note": "hedgewatch", "apiKey": "shown-by-bybit",
            "readOnly": 1 if key.read_only else 0, "secret": "", "permissions": key.permissions,
            "ips": ["*"], "type": 1, "deadlineDay": 83, "expiredAt": "", "createdAt": "",
            "unified": 0, "uta": 1, "userID": 1, "inviterID": 0, "vipLevel": "No VIP",
            "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "", "isMaster": True}


def account_info(srv: FakeBybit, key: BybitKey, params: dict) -> dict:
    acct = key.account or bybit_account()
    return {"unifiedMarginStatus": 5, "marginMode": acct.mode, "isMasterTrader": False,
            "spotHedgingStatus": "OFF", "updatedTime": str(srv.now_ms), "dcpStatus": "OFF",
            "timeWindow": 10, "smpGroup": 0}


def wallet_balance(srv: FakeBybit, key: BybitKey, params: dict) -> dict:
    acct = key.account or bybit_account()
    ps = list(acct.positions.values())
    upl = sum(p.upl(acct.mark(p.symbol)) for p in ps)
    im = sum(p.size * p.entry / p.leverage for p in ps)
    mm = sum(position_mm(acct, p) for p in ps)
    eq = acct.wallet + upl
    return {"list": [{
        "accountType": "UNIFIED", "totalEquity": _n(eq), "totalWalletBalance": _n(acct.wallet),
        "totalMarginBalance": _n(eq), "totalAvailableBalance": _n(eq - im),
        "totalPerpUPL": _n(upl), "totalInitialMargin": _n(im),
        "totalMaintenanceMargin": _n(mm), "accountIMRate": _n(im / eq if eq else 0),
        "accountMMRate": _n(mm / eq if eq else 0), "accountLTV": "0",
        "coin": [{"coin": "USDT", "equity": _n(eq), "walletBalance": _n(acct.wallet),
                  "unrealisedPnl": _n(upl), "totalPositionIM": _n(im),
                  "totalPositionMM": _n(mm), "usdValue": _n(eq)}]}]}


def position_list(srv: FakeBybit, key: BybitKey, params: dict) -> dict:
    acct = key.account or bybit_account()
    out = []
    for p in acct.positions.values():
        mark = acct.mark(p.symbol)
        liq = acct.liq_price(p)
        cap, _mmr, _ded, _lev = tier(p.size * p.entry)
        out.append({
            "positionIdx": 0, "riskId": RISK_LIMITS.index(tier(p.size * p.entry)) + 1,
            "riskLimitValue": _n(cap), "symbol": f"{p.symbol}USDT",
            "side": "Buy" if p.side == "long" else "Sell", "size": _n(p.size),
            "avgPrice": _n(p.entry), "positionValue": _n(p.size * p.entry),
            "tradeMode": 0, "positionStatus": "Normal", "autoAddMargin": 0,
            "adlRankIndicator": 2, "leverage": _n(p.leverage),
            "positionBalance": _n(p.margin), "markPrice": _n(mark),
            "liqPrice": _n(liq) if liq else "", "bustPrice": "",
            "positionMM": _n(position_mm(acct, p)), "positionIM": _n(p.size * p.entry
                                                                     / p.leverage),
            "tpslMode": "Full", "takeProfit": "", "stopLoss": "", "trailingStop": "0",
            "unrealisedPnl": _n(p.upl(mark)), "curRealisedPnl": _n(p.pnl - p.fees + p.funding),
            "cumRealisedPnl": _n(p.pnl - p.fees + p.funding), "seq": 1,
            "isReduceOnly": False, "createdTime": str(p.opened_at),
            "updatedTime": str(p.updated_at)})
    return {"category": "linear", "list": out, "nextPageCursor": ""}


def execution_list(srv: FakeBybit, key: BybitKey, params: dict) -> dict:
    """Trades, liquidations (BustTrade), ADL and funding (execType Funding: execFee is the
    fee paid, negative when received), newest first, ``limit`` per page with a cursor."""
    acct = key.account or bybit_account()
    rows: list[tuple[int, dict]] = []
    for f in acct.fills:
        rows.append((f.time, {
            "symbol": f"{f.symbol}USDT", "orderId": f.order_id, "execId": f.id,
            "side": "Buy" if f.side == "buy" else "Sell", "execPrice": _n(f.price),
            "execQty": _n(f.size), "execValue": _n(f.size * f.price), "execFee": _n(f.fee),
            "feeRate": _n(acct.taker), "execType": EXEC_TYPE[f.kind], "execTime": str(f.time),
            "isMaker": False, "orderType": "Market", "markPrice": _n(f.price),
            "closedSize": _n(0 if f.opening else f.size), "orderQty": _n(f.size),
            "orderPrice": _n(f.price), "leavesQty": "0", "stopOrderType": "UNKNOWN",
            "feeCurrency": "USDT", "orderLinkId": "", "seq": 1}))
    for g in acct.funding:
        rows.append((g.time, {
            "symbol": f"{g.symbol}USDT", "orderId": "", "execId": g.id,
            "side": "Buy" if g.pos_side == "long" else "Sell", "execPrice": _n(g.price),
            "execQty": "0", "execValue": "0", "execFee": _n(-g.amount), "feeRate": _n(g.rate),
            "execType": "Funding", "execTime": str(g.time), "isMaker": False,
            "orderType": "UNKNOWN", "markPrice": _n(g.price), "closedSize": "0",
            "feeCurrency": "USDT", "orderLinkId": "", "seq": 1}))
    start, end = params.get("startTime"), params.get("endTime")
    rows = [r for t, r in sorted(rows, key=lambda x: (x[0], x[1]["execId"]), reverse=True)
            if (start is None or t >= int(start)) and (end is None or t <= int(end))]
    limit = int(params.get("limit", 50))
    first = int(params.get("cursor") or 0)
    page = rows[first:first + limit]
    more = first + limit < len(rows)
    return {"category": "linear", "list": page,
            "nextPageCursor": str(first + limit) if more else ""}


def risk_limit(srv: FakeBybit, params: dict) -> dict:
    symbols = [params["symbol"]] if params.get("symbol") else [f"{b}USDT" for b in srv.bases]
    out = []
    for s in symbols:
        for i, (cap, mmr, ded, lev) in enumerate(RISK_LIMITS, start=1):
            out.append({"id": i, "symbol": s, "riskLimitValue": _n(cap),
                        "maintenanceMargin": _n(mmr), "initialMargin": _n(1 / lev),
                        "isLowestRisk": 1 if i == 1 else 0, "maxLeverage": f"{lev:.2f}",
                        "mmDeduction": _n(ded) if ded else ""})
    return {"category": "linear", "list": out, "nextPageCursor": ""}


PRIVATE = {
    "/v5/user/query-api": query_api,
    "/v5/account/info": account_info,
    "/v5/account/wallet-balance": wallet_balance,
    "/v5/position/list": position_list,
    "/v5/execution/list": execution_list,
}
