"""A Binance USDⓈ-M futures account: key rights, balance, positions, and since the last read
its fills, funding and liquidation charges.

Endpoints (all signed): ``/sapi/v1/account/apiRestrictions`` (what the key may do),
``/fapi/v2/account`` (``crossWalletBalance``, margins), ``/fapi/v2/positionRisk``,
``/fapi/v1/income`` (``FUNDING_FEE``; ``INSURANCE_CLEAR``, the margin a liquidation leaves to
the insurance fund; ``COMMISSION`` names the symbols that traded), ``/fapi/v1/userTrades`` (per
symbol: Binance asks for one), ``/fapi/v1/forceOrders`` (the orders of liquidations and ADL,
which mark their fills) and ``/fapi/v1/leverageBracket`` (the brackets, signed on Binance).

Positions have no id on Binance: one is its symbol and side while it is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from i18n import N_
from plugins.exchanges.account_reader import AccountReader, need, number
from plugins.exchanges.account_types import (
    ADL,
    LIQUIDATION,
    TRADE,
    AccountBalance,
    AccountState,
    ExchangePosition,
    Fill,
    FundingPaid,
    KeyRights,
    Penalty,
)
from plugins.exchanges.retry import BadPayload

TRADING = ("enableFutures", "enableSpotAndMarginTrading", "enableMargin",
           "enableVanillaOptions", "enablePortfolioMarginTrading")
MOVING = ("enableWithdrawals", "enableInternalTransfer")
MULTI_ASSETS = N_("Binance multi-assets mode counts other assets as collateral; our cross "
                  "liquidation price uses the USDT wallet only: an approximation")


def _rows(resp: Any) -> list[Mapping[str, Any]]:
    if not isinstance(resp, list):
        raise BadPayload("Binance answer is not a list")
    return [r for r in resp if isinstance(r, Mapping)]


class BinanceAccountReader(AccountReader):
    exchange = "binance"

    async def rights(self) -> KeyRights:
        r = await self.call("account", "sapiGetAccountApiRestrictions")
        on = [k for k in (*TRADING, *MOVING) if r.get(k)]
        return KeyRights(read=bool(r.get("enableReading")),
                         trade=any(r.get(k) for k in TRADING),
                         withdraw=any(r.get(k) for k in MOVING),
                         detail="Binance API restrictions: " + (", ".join(on) or "reading only"))

    async def load_tiers(self, symbols: Iterable[str]) -> None:
        for s in sorted(set(symbols)):  # Binance signs its brackets: ask with the key
            await self.market.fetch_tiers(s, client=self.client)

    async def read(self, since_ms: int | None, symbols: Iterable[str] = ()) -> AccountState:
        await self.open()
        now = await self.market.server_time()
        acct = await self.call("balance", "fapiPrivateV2GetAccount")
        rows = _rows(await self.call("positions", "fapiPrivateV2GetPositionRisk"))
        positions = tuple(p for r in rows if (p := self.position(r)) is not None)
        await self.load_tiers(p.symbol for p in positions)
        balance = self.balance(acct)
        if since_ms is None:
            return AccountState(self.exchange, now, balance, positions)
        income = _rows(await self.call("income", "fapiPrivateGetIncome",
                                       {"startTime": since_ms, "limit": 1000}))
        forced: dict[str, str] = {}
        for kind, name in ((LIQUIDATION, "LIQUIDATION"), (ADL, "ADL")):
            for o in _rows(await self.call("force-orders", "fapiPrivateGetForceOrders",
                                           {"autoCloseType": name, "startTime": since_ms})):
                forced[str(o.get("orderId"))] = kind
        traded = {self.symbol_of(str(r.get("symbol"))) for r in income
                  if r.get("incomeType") == "COMMISSION"}
        fills: list[Fill] = []
        for symbol in sorted({p.symbol for p in positions} | set(symbols)
                             | {s for s in traded if s}):
            for r in _rows(await self.call("fills", "fapiPrivateGetUserTrades",
                                           {"symbol": symbol, "startTime": since_ms,
                                            "limit": 1000})):
                fills.append(self.fill(r, forced))
        return AccountState(
            self.exchange, now, balance, positions, fills=tuple(fills),
            funding=tuple(g for r in income if (g := self.funding(r)) is not None),
            penalties=tuple(c for r in income if (c := self.penalty(r)) is not None))

    def balance(self, a: Mapping[str, Any]) -> AccountBalance:
        usdt: Mapping[str, Any] = next((x for x in a.get("assets") or []
                                        if x.get("asset") == "USDT"), {})
        wallet = number(usdt.get("crossWalletBalance"))
        cross_upl = number(usdt.get("crossUnPnl")) or 0.0
        return AccountBalance(
            "multi-assets" if a.get("multiAssetsMargin") else "single-asset",
            equity=number(a.get("totalMarginBalance")),
            cross_equity=None if wallet is None else wallet + cross_upl,
            initial=number(a.get("totalInitialMargin")),
            available=number(a.get("availableBalance")), wallet=wallet,
            approximate=MULTI_ASSETS if a.get("multiAssetsMargin") else None)

    def position(self, r: Mapping[str, Any]) -> ExchangePosition | None:
        symbol = self.symbol_of(str(r.get("symbol", "")))
        amount = number(r.get("positionAmt"))
        if symbol is None or not amount:
            return None
        side = {"LONG": "long", "SHORT": "short"}.get(str(r.get("positionSide")),
                                                      "long" if amount > 0 else "short")
        mode = "isolated" if str(r.get("marginType")).lower() == "isolated" else "cross"
        entry, lev = need(r.get("entryPrice"), "entryPrice"), number(r.get("leverage")) or 1.0
        liq = number(r.get("liquidationPrice"))
        return ExchangePosition(
            symbol=symbol, unified=self.unified(symbol), side=side, size=abs(amount),
            entry=entry, leverage=lev, margin_mode=mode,
            margin=number(r.get("isolatedWallet")) if mode == "isolated"
            else abs(amount) * entry / lev,
            mark=need(r.get("markPrice"), "markPrice"),
            liquidation_price=liq if liq and liq > 0 else None)

    def fill(self, r: Mapping[str, Any], forced: Mapping[str, str]) -> Fill:
        symbol = self.symbol_of(str(r.get("symbol", "")))
        if symbol is None:
            raise BadPayload(f"a fill of an unknown symbol {r.get('symbol')!r}")
        return Fill(id=str(r.get("id")), symbol=symbol, side=str(r.get("side", "")).lower(),
                    size=need(r.get("qty"), "qty"), price=need(r.get("price"), "price"),
                    fee=abs(number(r.get("commission")) or 0.0),
                    time=int(need(r.get("time"), "time")),
                    kind=forced.get(str(r.get("orderId")), TRADE))

    def funding(self, r: Mapping[str, Any]) -> FundingPaid | None:
        symbol = self.symbol_of(str(r.get("symbol", "")))
        if r.get("incomeType") != "FUNDING_FEE" or symbol is None:
            return None
        return FundingPaid(id=f"funding:{r.get('tranId')}", symbol=symbol,
                           time=int(need(r.get("time"), "time")),
                           amount=need(r.get("income"), "income"))

    def penalty(self, r: Mapping[str, Any]) -> Penalty | None:
        symbol = self.symbol_of(str(r.get("symbol", "")))
        if r.get("incomeType") != "INSURANCE_CLEAR" or symbol is None:
            return None
        return Penalty(id=f"insurance:{r.get('tranId')}", symbol=symbol,
                       time=int(need(r.get("time"), "time")),
                       amount=abs(need(r.get("income"), "income")))
