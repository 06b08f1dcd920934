"""Alerts about the configuration itself, for the operator (``[telegram] admins``) only.

``bot.py run`` refuses a configured symbol the exchange does not list, but when the exchange
can't be reached at start it only warns; and a symbol can be delisted while the bot runs.
Either way the snapshot names the symbol in ``missing`` (``errors.UNKNOWN_SYMBOL``) and this
rule tells each operator, once a day per symbol while it lasts.
"""

from __future__ import annotations

import logging

from i18n import L_, Msg
from plugins.alert_rules.base import Alert, AlertRule, RuleContext
from plugins.alert_rules.words import listing
from plugins.exchanges.errors import UNKNOWN_SYMBOL, unknown_matches

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


class UnknownSymbolRule(AlertRule):
    """A configured symbol the exchange does not list: one alert per symbol and operator."""

    name = "unknown_symbol"
    kind = "config"
    on_stale_data = True  # when every symbol is unknown there is no data at all

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        unknown = sorted((s, why) for s, why in ctx.missing.items()
                         if why.startswith(UNKNOWN_SYMBOL))
        admins = ctx.config.telegram.admins
        names = [s for s, _ in unknown]
        if ctx.memory.get(self.name, "unknown", []) != names:  # logged once per change
            ctx.memory.set(self.name, "unknown", names, now_ms=ctx.now_ms)
            if names:
                log.error("[exchange] symbols: %s lists no %s%s", ctx.config.exchange.name,
                          ", ".join(names), "" if admins else
                          " (set [telegram] admins to be alerted on Telegram)")
        day = ctx.now_ms // DAY_MS
        exchange = ctx.config.exchange.name
        return [self.alert(
            ctx, f"unknown:{sym}:{admin}:{day}", "warning",
            L_("Unknown symbol {symbol!r} in [exchange] symbols", symbol=sym),
            [_why(exchange, why),
             L_("{symbol} is left out of every cycle and alert until the config is fixed.",
                symbol=sym)],
            L_("Fix [exchange] symbols in the config (python bot.py check-config lists every "
               "problem), then restart the bot."),
            owner_chat_id=admin, cooldown_key=f"config:unknown:{sym}:{admin}",
            cooldown_ms=DAY_MS, payload={"symbol": sym, "exchange": exchange, "reason": why})
            for sym, why in unknown for admin in admins]


def _why(exchange: str, reason: str) -> Msg:
    """The exchange's "unknown symbol" reason as a sentence (``errors.unknown_reason``)."""
    matches = unknown_matches(reason)
    if matches:
        return L_("{exchange}: unknown symbol on {exchange} (did you mean {matches}?).",
                  exchange=exchange, matches=listing(matches))
    if reason == f"{UNKNOWN_SYMBOL} on {exchange}":
        return L_("{exchange}: unknown symbol on {exchange}.", exchange=exchange)
    return L_("{exchange}: {reason}.", exchange=exchange, reason=reason)
