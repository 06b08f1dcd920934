"""A Bybit unified trading account (v5, linear USDT perpetuals): key rights, balance, positions,
and since the last read its executions (trades, liquidations, ADL, funding).

Endpoints (all signed): ``/v5/user/query-api`` (``readOnly`` and the permissions),
``/v5/account/info`` (``marginMode``: isolated, regular (cross) or portfolio margin, for the
whole account), ``/v5/account/wallet-balance`` (``totalEquity``, ``totalMaintenanceMargin``),
``/v5/position/list`` and ``/v5/execution/list`` (``execType`` Trade, BustTrade — a
liquidation —, AdlTrade, and Funding, whose ``execFee`` is the funding paid; ccxt's
``fetch_funding_history`` reads the same). The risk-limit tiers are public.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plugins.exchanges.account_reader import PAGES, AccountReader, need, number
from plugins.exchanges.account_types import (
    ADL,
    APPROXIMATED,
    LIQUIDATION,
    TRADE,
    AccountBalance,
    AccountState,
    ExchangePosition,
    Fill,
    FundingPaid,
    KeyRights,
)
from plugins.exchanges.retry import BadPayload

MODES = {"ISOLATED_MARGIN": "unified isolated margin", "REGULAR_MARGIN": "unified cross margin",
         "PORTFOLIO_MARGIN": "unified portfolio margin"}
PM_NOTE = APPROXIMATED[MODES["PORTFOLIO_MARGIN"]]
KINDS = {"Trade": TRADE, "BustTrade": LIQUIDATION, "AdlTrade": ADL}
TRADING = ("ContractTrade", "Spot", "Options", "Derivatives", "CopyTrading", "BlockTrade",
           "Exchange")
LIMIT = 100


def _result(resp: Any) -> Mapping[str, Any]:
    result = (resp or {}).get("result")
    if not isinstance(result, Mapping):
        raise BadPayload("Bybit answer without a result")
    return result


def _list(resp: Any) -> list[Mapping[str, Any]]:
    return [r for r in _result(resp).get("list") or [] if isinstance(r, Mapping)]


class BybitAccountReader(AccountReader):
    exchange = "bybit"

    async def rights(self) -> KeyRights:
        r = _result(await self.call("account", "privateGetV5UserQueryApi"))
        perms = r.get("permissions") or {}
        read_only = str(r.get("readOnly")) == "1"
        trading = [k for k in TRADING if perms.get(k)]
        withdraw = "Withdraw" in (perms.get("Wallet") or [])
        return KeyRights(read=True, trade=not read_only and bool(trading),
                         withdraw=withdraw,
                         detail=f"Bybit readOnly={'1' if read_only else '0'}"
                         + (f", permissions {', '.join(trading)}" if trading else "")
                         + (", Wallet Withdraw" if withdraw else ""))

    async def read(self, since_ms: int | None, symbols: Iterable[str] = ()) -> AccountState:
        now = await self.market.server_time()
        mode = str(_result(await self.call("account", "privateGetV5AccountInfo"))
                   .get("marginMode", "REGULAR_MARGIN"))
        wallet = _list(await self.call("balance", "privateGetV5AccountWalletBalance",
                                       {"accountType": "UNIFIED"}))
        rows = _list(await self.call("positions", "privateGetV5PositionList",
                                     {"category": "linear", "settleCoin": "USDT"}))
        margin_mode = "isolated" if mode == "ISOLATED_MARGIN" else "cross"
        positions = tuple(p for r in rows if (p := self.position(r, margin_mode)) is not None)
        await self.load_tiers(p.symbol for p in positions)
        balance = self.balance(wallet[0] if wallet else {}, mode)
        if since_ms is None:
            return AccountState(self.exchange, now, balance, positions)
        fills: list[Fill] = []
        funding: list[FundingPaid] = []
        query: dict[str, Any] = {"category": "linear", "startTime": since_ms, "limit": LIMIT}
        for _ in range(PAGES):
            resp = await self.call("fills", "privateGetV5ExecutionList", query)
            for r in _list(resp):
                if r.get("execType") == "Funding":
                    if (f := self.funding(r)) is not None:
                        funding.append(f)
                elif (x := self.fill(r)) is not None:
                    fills.append(x)
            cursor = _result(resp).get("nextPageCursor")
            if not cursor:
                break
            query = {**query, "cursor": cursor}
        return AccountState(self.exchange, now, balance, positions, fills=tuple(fills),
                            funding=tuple(funding))

    def balance(self, w: Mapping[str, Any], mode: str) -> AccountBalance:
        return AccountBalance(
            MODES.get(mode, mode), equity=number(w.get("totalEquity")),
            cross_equity=number(w.get("totalEquity")),
            maintenance=number(w.get("totalMaintenanceMargin")),
            initial=number(w.get("totalInitialMargin")),
            available=number(w.get("totalAvailableBalance")),
            approximate=PM_NOTE if mode == "PORTFOLIO_MARGIN" else None)

    def position(self, r: Mapping[str, Any], mode: str) -> ExchangePosition | None:
        symbol = self.symbol_of(str(r.get("symbol", "")))
        size = number(r.get("size"))
        if symbol is None or not size or r.get("side") not in ("Buy", "Sell"):
            return None
        liq = number(r.get("liqPrice"))
        created = number(r.get("createdTime"))
        return ExchangePosition(
            symbol=symbol, unified=self.unified(symbol),
            side="long" if r.get("side") == "Buy" else "short", size=size,
            entry=need(r.get("avgPrice"), "avgPrice"), leverage=number(r.get("leverage")) or 1.0,
            margin_mode=mode,
            margin=number(r.get("positionBalance") if mode == "isolated"
                          else r.get("positionIM")),
            mark=need(r.get("markPrice"), "markPrice"),
            liquidation_price=liq if liq and liq > 0 else None,
            opened_at=int(created) if created else None,
            maintenance=number(r.get("positionMM")))

    def fill(self, r: Mapping[str, Any]) -> Fill | None:
        symbol = self.symbol_of(str(r.get("symbol", "")))
        kind = KINDS.get(str(r.get("execType")))
        size = number(r.get("execQty"))
        if symbol is None or kind is None or not size:
            return None
        return Fill(id=str(r.get("execId")), symbol=symbol,
                    side="buy" if r.get("side") == "Buy" else "sell", size=size,
                    price=need(r.get("execPrice"), "execPrice"),
                    fee=number(r.get("execFee")) or 0.0,
                    time=int(need(r.get("execTime"), "execTime")), kind=kind)

    def funding(self, r: Mapping[str, Any]) -> FundingPaid | None:
        symbol = self.symbol_of(str(r.get("symbol", "")))
        if symbol is None:
            return None
        return FundingPaid(id=str(r.get("execId")), symbol=symbol,
                           time=int(need(r.get("execTime"), "execTime")),
                           amount=-need(r.get("execFee"), "execFee"),
                           rate=number(r.get("feeRate")), price=number(r.get("execPrice")))
