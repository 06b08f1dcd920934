"""/account: the open positions of the exchange account whose read-only keys are in the bot's
environment, each with our liquidation maths next to the exchange's own figure, cross-margin
positions judged on the whole account's equity, and a loud flag when the key can trade.

The keys are the operator's, so only the operator sees the answer: the console and the CLI,
or one of ``[telegram] admins`` in a private chat. hedgewatch never places an order; a key
that could is flagged every time, because a leaked read-only key costs privacy while a leaked
trading key costs the account.
"""

from __future__ import annotations

import math
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import age_text, freshness_data
from chat.commands.risk import report_for, report_lines
from chat.context import CommandContext
from core.liquidation import cross_liquidation_price
from core.risk import RiskReport
from core.types import MarketSnapshot, Position
from plugins.exchanges.errors import KeyRejected, NotSupported
from settings.secrets import key_variables

MISMATCH_PCT = 1.0  # ours vs the exchange's liquidation price: worth a warning above this


def trade_key_warning(exchange: str) -> str:
    """What to tell an operator whose key can trade."""
    return (f"This {exchange} API key can TRADE. hedgewatch only reads: create a read-only "
            f"key and put it in {' / '.join(key_variables(exchange))}, then delete this one.")


def key_rejected_message(exchange: str, error: Exception) -> str:
    """What to tell the operator when the exchange refuses the key: what is off, what is not,
    and how to fix it."""
    return (f"The {exchange} API key was rejected by the exchange ({error}). /account is off "
            f"until a valid read-only key is in {' / '.join(key_variables(exchange))} and the "
            "bot is restarted; market commands and alerts are not affected.")


def _no_account(market: Any) -> str:
    name = str(getattr(market, "name", "this market"))
    if not hasattr(market, "keys"):
        return (f"The {name} market has no account to read: /account needs an exchange "
                "(okx, binance, bybit) and its read-only API keys.")
    return (f"No {name} API keys: set {' and '.join(key_variables(name))} (a read-only key) "
            "in the bot's environment to see your positions here.")


def account_reports(services: Any, snap: MarketSnapshot, positions: tuple[Position, ...],
                    equity: float | None) -> list[RiskReport]:
    """Each position's RiskReport on ``snap``. Isolated positions by the exchange's formula;
    cross positions from the account's equity with every other cross position at its mark
    (``core.liquidation.cross_liquidation_price``), which needs the equity."""
    first = [report_for(services, snap, p) for p in positions]
    cross = [i for i, p in enumerate(positions) if p.margin_mode == "cross"]
    if not cross or equity is None:
        return first
    liq = cross_liquidation_price(
        equity, [snap.last_price(positions[i].symbol) for i in cross],
        [positions[i].size for i in cross], [positions[i].sign for i in cross],
        [first[i].mmr for i in cross], [first[i].fee for i in cross])
    out = list(first)
    for k, i in enumerate(cross):
        out[i] = report_for(services, snap, positions[i], liquidation_price=float(liq[k]))
    return out


class Account(Command):
    name = "account"
    summary = "your exchange account's positions: liquidation vs the exchange's, key rights"
    usage = "/account"
    examples = ("/account",)
    private_only = True
    operator_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        market = s.market
        try:
            acct = await market.fetch_positions()
        except NotSupported:
            raise ArgumentError(_no_account(market)) from None
        except KeyRejected as e:
            return Reply.failure(key_rejected_message(str(getattr(market, "name", "")), e))
        name = str(getattr(market, "name", "exchange"))
        head = [f"Exchange account ({name}) — read only; hedgewatch never places an order"]
        warnings: list[str] = []
        if acct.can_trade:
            warnings.append(trade_key_warning(name))
            head.append(f"⚠ {warnings[-1]}")
        eq = "unknown" if acct.equity is None else f"{acct.equity:,.2f} USDT"
        head.append(f"Cross-margin equity {eq} · {len(acct.positions)} open position(s)")
        data: dict[str, Any] = {"exchange": name, "can_trade": acct.can_trade,
                                "equity": acct.equity, "positions": [], "warnings": warnings}
        if not acct.positions:
            return Reply(data=data, text=head)
        snap = await s.snapshot(sorted({p.symbol for p in acct.positions}))
        known = tuple(p for p in acct.positions if p.symbol in snap.symbols
                      and math.isfinite(snap.last_price(p.symbol)))
        await s.load_tiers(p.symbol for p in known)
        lines = list(head)
        for p in acct.positions:
            if p not in known:
                lines += ["", f"{p.symbol} {p.side} {p.size:g}: no price right now"]
        if any(p.margin_mode == "cross" for p in known) and acct.equity is None:
            warnings.append("the exchange did not give the account equity: cross positions "
                            "are judged as if isolated")
            lines.append(f"⚠ {warnings[-1]}")
        for p, r in zip(known, account_reports(s, snap, known, acct.equity), strict=True):
            report = r.to_dict()
            theirs = acct.exchange_liquidation.get(p.symbol)
            diff = _diff_pct(report["liquidation_price"], theirs)
            position = {"size": p.size, "entry": p.entry, "leverage": p.leverage,
                        "margin_mode": p.margin_mode}
            data["positions"].append({**report, "position": position,
                                      "exchange_liquidation_price": theirs,
                                      "liquidation_diff_pct": diff})
            first, *rest = report_lines(report, position)
            lines += ["", f"{first} ({p.margin_mode})", *rest]
            if theirs is not None:
                lines.append(f"Exchange's liquidation price {theirs:,.6g}"
                             + ("" if diff is None else f" (ours differs by {diff:+.2f} %)"))
                if diff is not None and abs(diff) > MISMATCH_PCT:
                    lines.append(f"⚠ ours is more than {MISMATCH_PCT:g} % off the exchange's: "
                                 "trust the exchange's figure")
        data.update(as_of=snap.last_bar_close_ms, **freshness_data(await s.freshness(snap)))
        lines += ["", age_text(data["data_age_ms"], data["data_behind"])]
        return Reply(data=data, text=lines)


def _diff_pct(ours: float | None, theirs: float | None) -> float | None:
    """Ours relative to the exchange's, in percent; None when either is missing."""
    if ours is None or theirs is None or not theirs > 0:
        return None
    return round((ours / theirs - 1.0) * 100, 6)
