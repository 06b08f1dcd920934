"""Our liquidation price of each position of an account, by its exchange's rules, next to the
exchange's own.

- OKX: isolated by OKX's formula with the position's tier (contracts) and the taker fee; cross
  on the account: single-currency margin on the USDT cross equity against every cross
  position's ``N·mark·(mmr + fee)``; multi-currency and portfolio margin on ``adjEq`` against
  the account's ``mmr`` (plus the fees to close).
- Binance USDⓈ-M: Binance's published formula with the bracket chosen at the liquidation
  price; cross with ``crossWalletBalance`` less the other cross positions' maintenance margin
  plus their unrealised P&L (its TMM1 and UPNL1).
- Bybit unified: isolated by Bybit's formula with the risk-limit tier; cross on the account's
  ``totalEquity`` against its ``totalMaintenanceMargin``.

A mode we only estimate (OKX or Bybit portfolio margin) says so in ``approximate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.account_liquidation import account_liquidation_price, bybit_isolated_liquidation_price
from core.liquidation import (
    DEFAULT_MMR,
    binance_liquidation_price,
    choose_tier,
    liquidation,
)
from core.types import Instrument, Position, Tier
from i18n import N_, gettext
from plugins.exchanges.account_types import AccountBalance, ExchangePosition

NO_TIERS = N_("no maintenance tiers for {symbol}: the default rate {mmr:g} is assumed")


@dataclass(frozen=True)
class LiquidationCheck:
    """Ours next to the exchange's for one position (``diff_pct``: ours relative to theirs)."""

    position: ExchangePosition
    ours: float | None  # None: cannot be liquidated (or the account is below maintenance)
    theirs: float | None
    mmr: float
    method: str
    approximate: str | None = None

    @property
    def diff_pct(self) -> float | None:
        if self.ours is None or self.theirs is None or not self.theirs > 0:
            return None
        return (self.ours / self.theirs - 1.0) * 100.0


def _tier(inst: Instrument, size: float, price: float) -> Tier | None:
    return choose_tier(inst, size, price) if inst.tiers else None


def _rate(inst: Instrument, size: float, price: float) -> tuple[float, float, str | None]:
    """(mmr, maintenance amount, note) of a position of ``size`` at ``price``."""
    t = _tier(inst, size, price)
    if t is None:
        return DEFAULT_MMR, 0.0, gettext(NO_TIERS).format(symbol=inst.symbol, mmr=DEFAULT_MMR)
    return t.mmr, t.maintenance_amount, None


def _note(bal: AccountBalance) -> str | None:
    """Why the account's mode makes our price an estimate, in the reader's language (the
    notes are marked where they are defined: ``account_types.APPROXIMATED``, ...)."""
    return gettext(bal.approximate) if bal.approximate else None


def _price(x: float) -> float | None:
    return x if x == x and x > 0 else None  # NaN: under maintenance already; 0: never


def check_liquidations(exchange: str, balance: AccountBalance,
                       positions: Sequence[ExchangePosition],
                       instruments: Mapping[str, Instrument]) -> list[LiquidationCheck]:
    """One ``LiquidationCheck`` per position, in order."""
    rule = {"okx": _okx, "binance": _binance, "bybit": _bybit}.get(exchange, _okx)
    return [rule(p, balance, positions, instruments) for p in positions]


def _okx(p: ExchangePosition, bal: AccountBalance, all_: Sequence[ExchangePosition],
         inst: Mapping[str, Instrument]) -> LiquidationCheck:
    i = inst[p.symbol]
    if p.margin_mode == "isolated":
        liq = liquidation(Position(p.symbol, p.side, p.size, p.entry, p.leverage, "isolated",
                                   p.margin), i)
        note = None if i.tiers else gettext(NO_TIERS).format(symbol=p.symbol, mmr=liq.mmr)
        return LiquidationCheck(p, _price(liq.price), p.liquidation_price, liq.mmr,
                                "OKX isolated formula", note)
    cross = [q for q in all_ if q.margin_mode == "cross"]

    def k(q: ExchangePosition) -> float:
        return _rate(inst[q.symbol], q.size, q.entry)[0] + inst[q.symbol].taker_fee

    if bal.maintenance is None:  # single-currency: the positions' own maintenance
        maintenance = sum(q.size * q.mark * k(q) for q in cross)
        method = "OKX cross: USDT cross equity against every cross position's maintenance"
    else:
        maintenance = bal.maintenance + sum(q.size * q.mark * inst[q.symbol].taker_fee
                                            for q in cross)
        method = "OKX cross: the account's adjEq against its mmr"
    return _account(p, bal, maintenance, k(p), method, _rate(i, p.size, p.entry))


def _account(p: ExchangePosition, bal: AccountBalance, maintenance: float, k: float,
             method: str, rate: tuple[float, float, str | None]) -> LiquidationCheck:
    if bal.cross_equity is None:
        return LiquidationCheck(p, None, p.liquidation_price, rate[0], method,
                                gettext("the exchange did not give the account's equity"))
    px = float(account_liquidation_price(bal.cross_equity, maintenance, p.mark, p.size,
                                         p.sign, k))
    return LiquidationCheck(p, _price(px), p.liquidation_price, rate[0], method,
                            _note(bal) or rate[2])


def _binance(p: ExchangePosition, bal: AccountBalance, all_: Sequence[ExchangePosition],
             inst: Mapping[str, Instrument]) -> LiquidationCheck:
    i = inst[p.symbol]
    tiers = sorted(i.tiers, key=lambda t: t.max_size) or [Tier(1, 0, float("inf"),
                                                                  DEFAULT_MMR, 125)]
    note = None if i.tiers else gettext(NO_TIERS).format(symbol=p.symbol, mmr=DEFAULT_MMR)
    if p.margin_mode == "isolated":
        margin = p.margin if p.margin is not None else p.size * p.entry / p.leverage
        method = "Binance isolated formula (bracket at the liquidation price)"
    else:
        others = [q for q in all_ if q.margin_mode == "cross" and q is not p]
        tmm = 0.0
        for q in others:
            mmr, cum, _ = _rate(inst[q.symbol], q.size, q.mark)
            tmm += q.size * q.mark * mmr - cum
        margin = (bal.wallet or 0.0) - tmm + sum(q.unrealised for q in others)
        method = "Binance cross formula (crossWalletBalance − TMM1 + UPNL1)"
        if bal.wallet is None:
            note = gettext("the exchange did not give the cross wallet balance")
    px = float(binance_liquidation_price(p.entry, p.size, p.sign, margin, tiers))
    t = choose_tier(i, p.size, px if px > 0 else p.mark) if i.tiers else None
    return LiquidationCheck(p, _price(px), p.liquidation_price,
                            t.mmr if t else DEFAULT_MMR, method, _note(bal) or note)


def _bybit(p: ExchangePosition, bal: AccountBalance, all_: Sequence[ExchangePosition],
           inst: Mapping[str, Instrument]) -> LiquidationCheck:
    i = inst[p.symbol]
    if p.margin_mode == "isolated":
        mmr, ded, note = _rate(i, p.size, p.entry)
        margin = p.margin if p.margin is not None else p.size * p.entry / p.leverage
        px = float(bybit_isolated_liquidation_price(p.entry, p.size, p.sign, margin, mmr, ded))
        return LiquidationCheck(p, _price(px), p.liquidation_price, mmr,
                                "Bybit isolated formula (risk-limit tier at entry)", note)
    rate = _rate(i, p.size, p.mark)
    return _account(p, bal, bal.maintenance if bal.maintenance is not None else 0.0,
                    rate[0] + i.taker_fee,
                    "Bybit unified cross: totalEquity against totalMaintenanceMargin", rate)
