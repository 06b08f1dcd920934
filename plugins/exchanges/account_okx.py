"""An OKX trading account (v5): key rights, balance by account level, positions, and since the
last read its fills, funding bills and liquidation penalties.

Endpoints (all signed): ``/account/config`` (``perm``, ``acctLv``), ``/account/balance``,
``/account/positions``, ``/trade/fills-history`` (three months; ``subType`` 100–107 are
liquidation fills, 125–128 ADL), ``/account/bills`` type 8 (funding fees) and
``/account/positions-history`` (a closed position's ``liqPenalty``).

Account levels (``acctLv``): 2 single-currency margin judges cross positions on the USDT
equity left after isolated margin; 3 multi-currency and 4 portfolio margin on the account's
``adjEq`` against its ``mmr``. Portfolio margin's maintenance comes from OKX's stress scenarios,
which we only extrapolate linearly: said in ``approximate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plugins.exchanges.account_reader import (
    PAGES,
    AccountReader,
    need,
    newest_first_pages,
    number,
)
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
    Penalty,
)
from plugins.exchanges.retry import BadPayload

MODES = {"1": "simple (spot only)", "2": "single-currency margin", "3": "multi-currency margin",
         "4": "portfolio margin"}
PM_NOTE = APPROXIMATED[MODES["4"]]
LIMIT = 100


def _data(resp: Any) -> list[Mapping[str, Any]]:
    data = (resp or {}).get("data")
    if not isinstance(data, list):
        raise BadPayload("OKX answer without data")
    return [d for d in data if isinstance(d, Mapping)]


def fill_kind(sub_type: Any) -> str:
    code = int(number(sub_type) or 0)
    if 100 <= code <= 107:
        return LIQUIDATION
    if 125 <= code <= 128:
        return ADL
    return TRADE


class OkxAccountReader(AccountReader):
    exchange = "okx"

    async def config(self) -> Mapping[str, Any]:
        rows = _data(await self.call("account", "privateGetAccountConfig"))
        return rows[0] if rows else {}

    async def rights(self) -> KeyRights:
        perm = str((await self.config()).get("perm", ""))
        parts = {p.strip() for p in perm.split(",") if p.strip()}
        return KeyRights(read="read_only" in parts, trade="trade" in parts,
                         withdraw="withdraw" in parts, detail=f"OKX perm \"{perm}\"")

    async def read(self, since_ms: int | None, symbols: Iterable[str] = ()) -> AccountState:
        now = await self.market.server_time()
        level = str((await self.config()).get("acctLv", "2"))
        bal = _data(await self.call("balance", "privateGetAccountBalance"))
        rows = _data(await self.call("positions", "privateGetAccountPositions",
                                     {"instType": "SWAP"}))
        positions = tuple(p for r in rows if (p := self.position(r)) is not None)
        await self.load_tiers(p.symbol for p in positions)
        state = AccountState(self.exchange, now, self.balance(bal[0] if bal else {}, level),
                             positions)
        if since_ms is None:
            return state
        fills = await self._pages("fills", "privateGetTradeFillsHistory",
                                  {"instType": "SWAP", "begin": str(since_ms)})
        bills = await self._pages("bills", "privateGetAccountBills",
                                  {"instType": "SWAP", "type": "8", "begin": str(since_ms)})
        closed = _data(await self.call("positions-history", "privateGetAccountPositionsHistory",
                                       {"instType": "SWAP", "before": str(since_ms)}))
        return AccountState(
            self.exchange, now, state.balance, positions,
            fills=tuple(x for r in fills if (x := self.fill(r)) is not None),
            funding=tuple(g for r in bills if (g := self.funding(r)) is not None),
            penalties=tuple(c for r in closed if (c := self.penalty(r)) is not None))

    async def _pages(self, endpoint: str, method: str, params: dict[str, str]
                     ) -> list[Mapping[str, Any]]:
        """Every row from ``begin`` on: newest first, paged back by ``after`` (billId)."""
        out: list[Mapping[str, Any]] = []
        query = {**params, "limit": str(LIMIT)}
        for _ in range(PAGES):
            rows = _data(await self.call(endpoint, method, query))
            out += rows
            if not newest_first_pages(rows, LIMIT):
                break
            query = {**query, "after": str(rows[-1].get("billId", ""))}
        return out

    def balance(self, b: Mapping[str, Any], level: str) -> AccountBalance:
        usdt: Mapping[str, Any] = next((d for d in b.get("details") or []
                                        if d.get("ccy") == "USDT"), {})
        eq, iso = number(usdt.get("eq")), number(usdt.get("isoEq")) or 0.0
        if level in ("3", "4"):
            return AccountBalance(
                MODES[level], equity=number(b.get("totalEq")), cross_equity=number(b.get("adjEq")),
                maintenance=number(b.get("mmr")), initial=number(b.get("imr")),
                available=number(usdt.get("availEq")),
                approximate=PM_NOTE if level == "4" else None)
        return AccountBalance(
            MODES.get(level, f"account level {level}"), equity=eq,
            cross_equity=None if eq is None else eq - iso,
            initial=number(usdt.get("imr")), available=number(usdt.get("availEq")),
            maintenance=None)

    def position(self, r: Mapping[str, Any]) -> ExchangePosition | None:
        symbol = self.symbol_of(str(r.get("instId", "")))
        pos = number(r.get("pos"))
        if symbol is None or not pos:
            return None
        side = {"long": "long", "short": "short"}.get(str(r.get("posSide")),
                                                      "long" if pos > 0 else "short")
        mode = "cross" if r.get("mgnMode") == "cross" else "isolated"
        fee, penalty = number(r.get("fee")) or 0.0, number(r.get("liqPenalty")) or 0.0
        return ExchangePosition(
            symbol=symbol, unified=self.unified(symbol), side=side,
            size=abs(pos) * self.instrument(symbol).contract_value,
            entry=need(r.get("avgPx"), "avgPx"), leverage=number(r.get("lever")) or 1.0,
            margin_mode=mode,
            margin=number(r.get("margin") if mode == "isolated" else r.get("imr")),
            mark=need(r.get("markPx"), "markPx"), liquidation_price=number(r.get("liqPx")),
            position_id=str(r.get("posId") or "") or None,
            opened_at=int(number(r.get("cTime")) or 0) or None,
            fees=-(fee + penalty), funding=number(r.get("fundingFee")),
            maintenance=number(r.get("mmr")))

    def fill(self, r: Mapping[str, Any]) -> Fill | None:
        symbol = self.symbol_of(str(r.get("instId", "")))
        size = number(r.get("fillSz"))
        if symbol is None or not size:
            return None
        return Fill(id=str(r.get("billId") or r.get("tradeId")), symbol=symbol,
                    side=str(r.get("side")),
                    size=size * self.instrument(symbol).contract_value,
                    price=need(r.get("fillPx"), "fillPx"), fee=-(number(r.get("fee")) or 0.0),
                    time=int(need(r.get("ts"), "ts")), kind=fill_kind(r.get("subType")))

    def funding(self, r: Mapping[str, Any]) -> FundingPaid | None:
        symbol = self.symbol_of(str(r.get("instId", "")))
        amount = number(r.get("balChg"))
        if symbol is None or amount is None:
            return None
        return FundingPaid(id=str(r.get("billId")), symbol=symbol,
                           time=int(need(r.get("ts"), "ts")), amount=amount,
                           price=number(r.get("px")))

    def penalty(self, r: Mapping[str, Any]) -> Penalty | None:
        symbol = self.symbol_of(str(r.get("instId", "")))
        paid = -(number(r.get("liqPenalty")) or 0.0)
        if symbol is None or paid <= 0:
            return None
        return Penalty(id=f"{r.get('posId')}:{r.get('uTime')}", symbol=symbol,
                       time=int(need(r.get("uTime"), "uTime")), amount=paid)
