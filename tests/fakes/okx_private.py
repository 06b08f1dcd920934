"""The fake OKX's private endpoints: signed requests checked as OKX documents them, answers in
the v5 shapes, from a ``FakeAccount`` ledger per API key.

Signature (OKX v5 "REST Authentication"): ``OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret,
timestamp + method + requestPath + body))``, with ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``
and ``OK-ACCESS-TIMESTAMP`` (ISO 8601). A wrong key, passphrase or signature is answered as
OKX does (HTTP 401, codes 50111, 50105, 50113).

Liquidation prices (``liqPx``) use OKX's formulas: isolated ``(entry − s·M/N) / (1 − s·(mmr +
fee))``; cross, where the account's equity (single-currency: USDT cross equity; multi-currency:
``adjEq``) meets the maintenance margin ``Σ N·mark·(mmr + fee)`` with the other positions at
their marks; portfolio margin with a stressed maintenance margin (``PM_STRESS`` × mmr), which
hedgewatch can only approximate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakes.exchange_account import FakeAccount, Pos

if TYPE_CHECKING:
    from tests.fakes.okx_server import FakeOkx

SINGLE, MULTI, PORTFOLIO = "2", "3", "4"  # acctLv
PM_STRESS = 1.2
# position tiers of every swap: (max contracts, mmr, max leverage)
TIERS = ((500, 0.004, 100), (2000, 0.005, 75), (8000, 0.01, 50), (20000, 0.02, 20),
         (50000, 0.05, 10))
CLOSE_TYPE = {"trade": "2", "liquidation": "3", "adl": "5"}
SUBTYPE = {("trade", True): {"buy": "1", "sell": "2"}, ("trade", False): {"buy": "1", "sell": "2"},
           ("liquidation", False): {"buy": "106", "sell": "107"},
           ("adl", False): {"buy": "127", "sell": "128"}}


@dataclass
class OkxKey:
    secret: str
    passphrase: str
    perm: str | None  # None: the server's ``account_perm``
    account: FakeAccount | None  # None: the server's raw ``positions``/``equity`` fields


def okx_account(mode: str = SINGLE, *, wallet: float = 10_000.0, ct_values: dict[str, float]
                ) -> FakeAccount:
    """A ledger whose liquidation prices follow OKX's formulas for account level ``mode``."""
    def liq(acct: FakeAccount, pos: Pos) -> float | None:
        return liquidation_price(acct, pos, ct_values)
    return FakeAccount(wallet=wallet, taker=0.0005, mode=mode, liquidation=liq)


def tier_mmr(contracts: float) -> float:
    return next((m for mx, m, _ in TIERS if contracts <= mx), TIERS[-1][1])


def _k(acct: FakeAccount, pos: Pos, ct: dict[str, float], stress: float = 1.0) -> float:
    return stress * tier_mmr(round(pos.size / ct[pos.symbol], 8)) + acct.taker


def maintenance(acct: FakeAccount, ct: dict[str, float], stress: float = 1.0) -> float:
    """Σ N·mark·mmr of the cross positions (OKX's ``mmr`` in USD), ``stress`` × under PM."""
    return sum(p.size * acct.mark(p.symbol) * (_k(acct, p, ct, stress) - acct.taker)
               for p in acct.cross())


def liquidation_price(acct: FakeAccount, pos: Pos, ct: dict[str, float]) -> float:
    s, n = pos.sign, pos.size
    if pos.mode == "isolated":
        return max(0.0, (pos.entry - s * pos.margin / n) / (1 - s * _k(acct, pos, ct)))
    stress = PM_STRESS if acct.mode == PORTFOLIO else 1.0
    equity = acct.cross_equity if acct.mode == SINGLE else acct.adjusted_equity
    others = sum(p.size * acct.mark(p.symbol) * _k(acct, p, ct, stress)
                 for p in acct.cross() if p is not pos)
    mark = acct.mark(pos.symbol)
    k = _k(acct, pos, ct, stress)
    return max(0.0, (mark - s * (equity - others) / n) / (1 - s * k))


def authenticate(okx: FakeOkx, method: str, path_qs: str, body: str, headers: Any
                 ) -> tuple[OkxKey | None, tuple[int, dict] | None]:
    """The key a signed request was made with, or OKX's error answer."""
    key = okx.keys.get(headers.get("OK-ACCESS-KEY", ""))
    if key is None:
        return None, (401, {"code": "50111", "msg": "Invalid OK-ACCESS-KEY", "data": []})
    if headers.get("OK-ACCESS-PASSPHRASE") != key.passphrase:
        return None, (401, {"code": "50105", "msg": "Invalid OK-ACCESS-PASSPHRASE", "data": []})
    ts = headers.get("OK-ACCESS-TIMESTAMP", "")
    want = base64.b64encode(hmac.new(key.secret.encode(), (ts + method + path_qs + body).encode(),
                                     hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(want, headers.get("OK-ACCESS-SIGN", "")):
        return None, (401, {"code": "50113", "msg": "Invalid Sign", "data": []})
    return key, None


def _ok(data: list) -> tuple[int, dict]:
    return 200, {"code": "0", "msg": "", "data": data}


def _n(x: float) -> str:
    return f"{x:.10g}"


def _inst(okx: FakeOkx, base: str) -> str:
    return okx.market.inst_id(base)


def _ct(okx: FakeOkx) -> dict[str, float]:
    return {b: okx.market.contract_value(b) for b in okx.market.bases}


def account_config(okx: FakeOkx, key: OkxKey, params: dict[str, str]) -> tuple[int, dict]:
    level = key.account.mode if key.account is not None else "2"
    return _ok([{"uid": "1", "acctLv": level, "posMode": "net_mode",
                 "perm": key.perm if key.perm is not None else okx.account_perm,
                 "level": "Lv1", "autoLoan": False, "ctIsoMode": "automatic",
                 "mgnIsoMode": "automatic", "label": "hedgewatch"}])


def _position(okx: FakeOkx, acct: FakeAccount, p: Pos) -> dict:
    ct = okx.market.contract_value(p.symbol)
    mark = acct.mark(p.symbol)
    liq = acct.liq_price(p)
    contracts = p.size / ct * p.sign
    mmr = p.size * mark * (_k(acct, p, _ct(okx)) - acct.taker)
    return {
        "instType": "SWAP", "instId": _inst(okx, p.symbol), "posId": p.pid, "posSide": "net",
        "pos": _n(contracts), "availPos": _n(abs(contracts)), "avgPx": _n(p.entry),
        "markPx": _n(mark), "last": _n(mark), "idxPx": _n(mark), "upl": _n(p.upl(mark)),
        "uplRatio": _n(p.upl(mark) / p.margin), "lever": _n(p.leverage),
        "liqPx": _n(liq) if liq else "", "mgnMode": p.mode,
        "margin": _n(p.margin) if p.mode == "isolated" else "",
        "imr": _n(p.size * mark / p.leverage) if p.mode == "cross" else "",
        "mmr": _n(mmr), "mgnRatio": "", "notionalUsd": _n(p.size * mark), "ccy": "USDT",
        "cTime": str(p.opened_at), "uTime": str(p.updated_at),
        "fee": _n(-(p.fees - p.penalty)), "fundingFee": _n(p.funding),
        "liqPenalty": _n(-p.penalty), "pnl": _n(p.pnl),
        "realizedPnl": _n(p.pnl - p.fees + p.funding), "adl": "1", "bizRefId": "",
        "bizRefType": "", "deltaBS": "", "gammaBS": "", "thetaBS": "", "vegaBS": "",
    }


def positions(okx: FakeOkx, key: OkxKey, params: dict[str, str]) -> tuple[int, dict]:
    if key.account is None:
        return _ok(list(okx.positions))
    return _ok([_position(okx, key.account, p) for p in key.account.positions.values()])


def balance(okx: FakeOkx, key: OkxKey, params: dict[str, str]) -> tuple[int, dict]:
    acct = key.account
    if acct is None:
        from tests.fakes.okx_routes import balance as legacy

        return legacy(okx, params)
    ct = _ct(okx)
    level = acct.mode
    mm = maintenance(acct, ct, PM_STRESS if level == PORTFOLIO else 1.0)
    im = sum(p.size * acct.mark(p.symbol) / p.leverage for p in acct.cross())
    upl = sum(p.upl(acct.mark(p.symbol)) for p in acct.positions.values())
    free = acct.cross_equity - im
    detail = {"ccy": "USDT", "eq": _n(acct.equity), "isoEq": _n(acct.iso_equity),
              "cashBal": _n(acct.wallet), "availEq": _n(free), "availBal": _n(free),
              "frozenBal": _n(im + sum(p.margin for p in acct.isolated())), "ordFrozen": "0",
              "upl": _n(upl), "eqUsd": _n(acct.equity), "disEq": _n(acct.equity),
              "imr": _n(im) if level == SINGLE else "", "mmr": _n(mm) if level == SINGLE else "",
              "uTime": str(okx.now_ms)}
    account_wide = level in (MULTI, PORTFOLIO)
    top = {"uTime": str(okx.now_ms), "totalEq": _n(acct.equity + sum(
        usd for _q, usd in acct.collateral.values())), "isoEq": _n(acct.iso_equity),
        "adjEq": _n(acct.adjusted_equity) if account_wide else "",
        "imr": _n(im) if account_wide else "", "mmr": _n(mm) if account_wide else "",
        "mgnRatio": _n(acct.adjusted_equity / mm) if account_wide and mm else "",
        "notionalUsd": _n(sum(p.size * acct.mark(p.symbol) for p in acct.positions.values())),
        "upl": _n(upl), "ordFroz": "", "borrowFroz": "", "details": [detail]}
    for ccy, (qty, usd) in acct.collateral.items():
        top["details"].append({"ccy": ccy, "eq": _n(qty), "cashBal": _n(qty), "isoEq": "0",
                               "eqUsd": _n(usd), "disEq": _n(usd), "availEq": _n(qty),
                               "upl": "0", "uTime": str(okx.now_ms)})
    return _ok([top])


def _since(params: dict[str, str], key: str) -> int | None:
    return int(params[key]) if params.get(key) else None


def positions_history(okx: FakeOkx, key: OkxKey, params: dict[str, str]) -> tuple[int, dict]:
    """Closed positions, newest first; ``before``/``after`` bound ``uTime``."""
    acct = key.account
    rows = []
    for c in reversed(acct.closes if acct else []):
        p = c.pos
        after, before = _since(params, "after"), _since(params, "before")
        if (after is not None and c.closed_at >= after) or (
                before is not None and c.closed_at <= before):
            continue
        ct = okx.market.contract_value(p.symbol)
        rows.append({
            "instType": "SWAP", "instId": _inst(okx, p.symbol), "mgnMode": p.mode,
            "type": CLOSE_TYPE[c.kind], "cTime": str(p.opened_at), "uTime": str(c.closed_at),
            "openAvgPx": _n(p.entry), "closeAvgPx": _n(p.close_avg), "posId": p.pid,
            "openMaxPos": _n(p.max_size / ct), "closeTotalPos": _n(p.closed / ct),
            "realizedPnl": _n(p.pnl - p.fees + p.funding), "fee": _n(-(p.fees - p.penalty)),
            "fundingFee": _n(p.funding), "liqPenalty": _n(-p.penalty), "pnl": _n(p.pnl),
            "pnlRatio": "", "lever": _n(p.leverage), "direction": p.side,
            "uly": f"{p.symbol}-USDT", "ccy": "USDT", "triggerPx": "",
        })
    return _ok(rows[:int(params.get("limit", "100"))])


def _window(params: dict[str, str], t: int, bill_id: str) -> bool:
    """Within ``begin``/``end`` (ms) and older than the ``after`` bill id (OKX's paging)."""
    begin, end, after = _since(params, "begin"), _since(params, "end"), _since(params, "after")
    return ((begin is None or t >= begin) and (end is None or t <= end)
            and (after is None or int(bill_id) < after))


def fills_history(okx: FakeOkx, key: OkxKey, params: dict[str, str]) -> tuple[int, dict]:
    """The account's fills, newest first, within ``begin``/``end`` (ms)."""
    acct = key.account
    rows = []
    for f in reversed(acct.fills if acct else []):
        if not _window(params, f.time, f.id):
            continue
        ct = okx.market.contract_value(f.symbol)
        rows.append({
            "instType": "SWAP", "instId": _inst(okx, f.symbol), "tradeId": f.id,
            "ordId": f.order_id, "clOrdId": "", "billId": f.id,
            "subType": SUBTYPE[(f.kind, f.opening)][f.side], "tag": "",
            "fillPx": _n(f.price), "fillSz": _n(f.size / ct), "fillPnl": _n(f.pnl),
            "fillIdxPx": _n(f.price), "fillMarkPx": _n(f.price), "side": f.side,
            "posSide": "net", "execType": "T", "feeCcy": "USDT", "fee": _n(-f.fee),
            "feeRate": _n(-acct.taker if acct else 0), "ts": str(f.time),
            "fillTime": str(f.time)})
    return _ok(rows[:int(params.get("limit", "100"))])


def bills(okx: FakeOkx, key: OkxKey, params: dict[str, str]) -> tuple[int, dict]:
    """Funding-fee bills (type 8) newest first; other types are not kept by the fake."""
    acct = key.account
    rows = []
    if params.get("type") in (None, "8"):
        for f in reversed(acct.funding if acct else []):
            if not _window(params, f.time, f.id):
                continue
            ct = okx.market.contract_value(f.symbol)
            size = acct.life(f.symbol, f.pos_side).size if acct else 0.0
            rows.append({
                "instType": "SWAP", "instId": _inst(okx, f.symbol), "billId": f.id, "type": "8",
                "subType": "174" if f.amount >= 0 else "173", "ccy": "USDT",
                "balChg": _n(f.amount), "pnl": _n(f.amount), "fee": "0", "px": _n(f.price),
                "sz": _n(size / ct), "mgnMode": "", "ts": str(f.time), "bal": "",
                "posBal": "", "posBalChg": "0", "interest": "0", "ordId": "", "notes": ""})
    return _ok(rows[:int(params.get("limit", "100"))])


def currencies(okx: FakeOkx, key: OkxKey, params: dict[str, str]) -> tuple[int, dict]:
    return _ok([])


PRIVATE = {
    "/api/v5/account/config": account_config,
    "/api/v5/account/positions": positions,
    "/api/v5/account/balance": balance,
    "/api/v5/account/positions-history": positions_history,
    "/api/v5/trade/fills-history": fills_history,
    "/api/v5/account/bills": bills,
    "/api/v5/asset/currencies": currencies,
}
