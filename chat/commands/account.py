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

from chat.commands.accounts import exchange_names
from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import age_text, freshness_data
from chat.commands.risk import report_for, report_lines
from chat.context import CommandContext
from chat.grammar import side_word
from core.types import Position
from i18n import N_, _
from plugins.exchanges.account_types import EXCHANGES, KeyRights
from plugins.exchanges.errors import KeyRejected, NotSupported
from settings.secrets import key_variables

if TYPE_CHECKING:
    from plugins.accounts.service import AccountRead

MARGIN_MODES = {"cross": N_("cross"), "isolated": N_("isolated")}
MISMATCH_PCT = 1.0  # ours vs the exchange's liquidation price: worth a warning above this


def trade_key_warning(exchange: str) -> str:
    """What to tell an operator whose key can trade."""
    return _("This {exchange} API key can TRADE. hedgewatch only reads: create a read-only "
             "key and put it in {variables}, then delete this one.").format(
        exchange=exchange, variables=" / ".join(key_variables(exchange)))


def key_rejected_message(exchange: str, error: Exception) -> str:
    """What to tell the operator when the exchange refuses the key: what is off, what is not,
    and how to fix it."""
    return _("The {exchange} API key was rejected by the exchange ({error}). /account is off "
             "until a valid read-only key is in {variables} and the bot is restarted; market "
             "commands and alerts are not affected.").format(
        exchange=exchange, error=error, variables=" / ".join(key_variables(exchange)))


def _no_account(market: Any) -> str:
    name = getattr(market, "name", None)
    if name is None:
        return _("This market has no account to read: /account needs an exchange "
                 "({exchanges}) and its read-only API keys.").format(
            exchanges=exchange_names())
    name = str(name)
    if name not in EXCHANGES:
        return _("The {name} market has no account to read: /account needs an exchange "
                 "({exchanges}) and its read-only API keys.").format(
            name=name, exchanges=exchange_names())
    return _("No {name} API keys: set {variables} (a read-only key) in the bot's environment "
             "to see your positions here.").format(
        name=name, variables=", ".join(key_variables(name)))


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
        raise KeyRejected(_("{name} rejected the API key ({reason})").format(
            name=name, reason=market.key_rejected))
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
    summary = N_("your exchange account's positions: liquidation vs the exchange's, key rights")
    usage = N_("/account")
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
        head = [_("Exchange account ({name}, {mode}) — read only; hedgewatch never places an "
                  "order").format(name=name, mode=bal.mode)]
        warnings: list[str] = []
        can_trade = rights.trade or rights.withdraw
        if can_trade:
            warnings.append(trade_key_warning(name))
            head.append(f"⚠ {warnings[-1]}")
        eq = _("unknown") if bal.cross_equity is None else f"{bal.cross_equity:,.2f} USDT"
        head.append(_("Cross-margin equity {equity} · {n} open position(s)").format(
            equity=eq, n=len(positions)))
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
                lines += ["", _("{symbol} {side} {size:g}: no price right now").format(
                    symbol=p.symbol, side=side_word(p.side), size=p.size)]
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
            lines += ["", f"{first} ({_(MARGIN_MODES.get(p.margin_mode, p.margin_mode))})",
                      *rest]
            if check.approximate:
                lines.append(f"⚠ {check.approximate}")
            if check.theirs is not None:
                lines.append(_("Exchange's liquidation price {price:,.6g}").format(
                    price=check.theirs) if diff is None else
                    _("Exchange's liquidation price {price:,.6g} (ours differs by {diff:+.2f} %)"
                      ).format(price=check.theirs, diff=diff))
                if diff is not None and abs(diff) > MISMATCH_PCT:
                    lines.append(_("⚠ ours is more than {pct:g} % off the exchange's: trust the "
                                   "exchange's figure").format(pct=MISMATCH_PCT))
        data.update(as_of=snap.last_bar_close_ms, **freshness_data(await s.freshness(snap)))
        lines += ["", age_text(data["data_age_ms"], data["data_behind"])]
        return Reply(data=data, text=lines)


def _diff_pct(ours: float | None, theirs: float | None) -> float | None:
    """Ours relative to the exchange's, in percent; None when either is missing."""
    if ours is None or theirs is None or not theirs > 0:
        return None
    return round((ours / theirs - 1.0) * 100, 6)
