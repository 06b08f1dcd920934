"""/account: the open positions of the exchange account whose read-only keys are in the bot's
environment (OKX, Binance or Bybit), each with our liquidation price — by that exchange's rules
for its margin mode, cross positions judged on the whole account — next to the exchange's own
figure, and a loud flag when the key can trade or withdraw.

The keys are the operator's, so only the operator sees the answer: the console and the CLI,
or one of ``[telegram] admins`` in a private chat. hedgewatch never places an order; a key
that could is flagged every time, because a leaked read-only key costs privacy while a leaked
trading key costs the account.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import age_text, freshness_data
from chat.commands.risk import report_for, report_lines
from chat.context import CommandContext
from core.types import Position
from plugins.exchanges.account_types import EXCHANGES, KeyRights
from plugins.exchanges.errors import KeyRejected, NotSupported
from settings.secrets import key_variables

if TYPE_CHECKING:
    from plugins.accounts.service import AccountRead

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
    if name not in EXCHANGES:
        return (f"The {name} market has no account to read: /account needs an exchange "
                f"({', '.join(EXCHANGES)}) and its read-only API keys.")
    return (f"No {name} API keys: set {' and '.join(key_variables(name))} (a read-only key) "
            "in the bot's environment to see your positions here.")


async def read_account(market: Any) -> tuple[KeyRights, AccountRead]:
    """The operator's account behind the environment keys: rights, state and our
    liquidation check of each position (``NotSupported`` without keys or an account,
    ``KeyRejected`` when the exchange refuses the key)."""
    # ccxt's async client loads in seconds: only when an account is read, not at every start
    from plugins.accounts.service import AccountRead
    from plugins.exchanges.account_access import READERS
    from plugins.exchanges.account_liquidation import check_liquidations

    name = str(getattr(market, "name", ""))
    if name not in READERS or not getattr(market, "keys", None):
        raise NotSupported(_no_account(market))
    if getattr(market, "key_rejected", None):  # refused before: not asked again
        raise KeyRejected(f"{name} rejected the API key ({market.key_rejected})")
    reader = READERS[name](market, market.keys)
    try:
        rights = await reader.rights()
        state = await reader.read(None)
    finally:
        await reader.close()
    return rights, AccountRead(state, check_liquidations(name, state.balance, state.positions,
                                                         market.instruments))


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
            rights, read = await read_account(market)
        except NotSupported:
            raise ArgumentError(_no_account(market)) from None
        except KeyRejected as e:
            return Reply.failure(key_rejected_message(str(getattr(market, "name", "")), e))
        name = str(getattr(market, "name", "exchange"))
        bal, positions = read.state.balance, read.state.positions
        head = [f"Exchange account ({name}, {bal.mode}) — read only; hedgewatch never places "
                "an order"]
        warnings: list[str] = []
        can_trade = rights.trade or rights.withdraw
        if can_trade:
            warnings.append(trade_key_warning(name))
            head.append(f"⚠ {warnings[-1]}")
        eq = "unknown" if bal.cross_equity is None else f"{bal.cross_equity:,.2f} USDT"
        head.append(f"Cross-margin equity {eq} · {len(positions)} open position(s)")
        data: dict[str, Any] = {"exchange": name, "mode": bal.mode, "can_trade": can_trade,
                                "equity": bal.cross_equity, "positions": [],
                                "warnings": warnings}
        if bal.approximate:
            warnings.append(bal.approximate)
            head.append(f"⚠ {bal.approximate}")
        if not positions:
            return Reply(data=data, text=head)
        ours = {p.symbol: c for p, c in zip(positions, read.checks, strict=True)}
        snap = await s.snapshot(sorted({p.symbol for p in positions}))
        lines = list(head)
        for p in positions:
            if p.symbol not in snap.symbols or not math.isfinite(snap.last_price(p.symbol)):
                lines += ["", f"{p.symbol} {p.side} {p.size:g}: no price right now"]
                continue
            check = ours[p.symbol]
            pos = Position(p.symbol, p.side, p.size, p.entry, p.leverage, p.margin_mode,
                           p.margin if p.margin_mode == "isolated" else None)
            report = report_for(s, snap, pos, liquidation_price=check.ours
                                if check.ours is not None else None).to_dict()
            diff = _diff_pct(report["liquidation_price"], check.theirs)
            position = {"size": p.size, "entry": p.entry, "leverage": p.leverage,
                        "margin_mode": p.margin_mode}
            data["positions"].append({**report, "position": position,
                                      "exchange_liquidation_price": check.theirs,
                                      "liquidation_diff_pct": diff, "method": check.method,
                                      "approximate": check.approximate})
            first, *rest = report_lines(report, position)
            lines += ["", f"{first} ({p.margin_mode})", *rest]
            if check.approximate:
                lines.append(f"⚠ {check.approximate}")
            if check.theirs is not None:
                lines.append(f"Exchange's liquidation price {check.theirs:,.6g}"
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
