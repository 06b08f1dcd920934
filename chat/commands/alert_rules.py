"""``/alert`` sets one of your own alerts; ``/alerts`` lists them and deletes them.

Three forms: a price level (``/alert btc < 60000``), a move over a window
(``/alert eth move 5% 1h``) and a logged trade's distance to liquidation
(``/alert trade 5 distance < 3%``). Each fires once when crossed and re-arms only after the
reading is back past the level by a margin (``plugins.alert_rules.user_rules``). Rules are
personal: both commands answer only in a private chat, and only the owner's rules are seen or
deleted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext
from i18n import N_, _
from plugins.alert_rules.user_rules import number, rearm_level, span_words
from plugins.exchanges.errors import MarketError
from settings.durations import Duration
from storage import trades, user_alerts
from storage.rule_state import RuleMemory
from storage.user_alerts import DISTANCE, MOVE, PRICE, TooManyRules, UserAlert

NUM = r"\$?(?P<v>[0-9][0-9,_]*(?:\.[0-9]+)?(?:e[0-9]+)?)(?P<k>k)?"
PRICE_RE = re.compile(rf"^(?P<sym>[a-z0-9][a-z0-9/:_-]*)\s*(?P<op><|>|below|above)\s*{NUM}$")
MOVE_RE = re.compile(rf"^(?P<sym>[a-z0-9][a-z0-9/:_-]*)\s+move[sd]?\s+{NUM}\s*%\s+"
                     r"(?:in\s+)?(?P<w>[0-9]+[smhdw])$")
TRADE_RE = re.compile(rf"^trade\s+#?(?P<id>[0-9]{{1,12}})\s+distance\s*(?:<|below)\s*{NUM}\s*%$")
MAX_WINDOW = Duration.parse("7d")
DELETE_EXAMPLE = "/alerts delete 3"
RULE_STATE = "user_rules"  # the rule's name in rule_state (plugins.alert_rules.user_rules)


@dataclass(frozen=True)
class RuleRequest:
    kind: str
    op: str
    value: float
    symbol: str | None = None
    trade_id: int | None = None
    window: Duration | None = None


def _number(m: re.Match[str], example: str) -> float:
    v = float(m["v"].replace(",", "").replace("_", "")) * (1000 if m["k"] else 1)
    if not math.isfinite(v) or v <= 0 or v >= 1e12:
        raise ArgumentError(_("{value} is not a level I can watch, e.g. {example}").format(
            value=m["v"], example=example))
    return v


class SetAlert(Command):
    name = "alert"
    summary = N_("tell me when a price, a move or my trade's distance crosses a level")
    usage = N_("/alert <sym> < <price> | /alert <sym> move <pct>% <window> | "
               "/alert trade <id> distance < <pct>%")
    examples = ("/alert btc < 60000", "/alert eth move 5% 1h", "/alert trade 1 distance < 3%")
    private_only = True

    def parse(self, args: list[str]) -> RuleRequest:
        text = " ".join(args).lower().strip()
        if not text:
            raise ArgumentError(_("Say what to watch, e.g. {first} or {second} or {third}"
                                  ).format(first=self.examples[0], second=self.examples[1],
                                           third=self.examples[2]))
        if m := TRADE_RE.match(text):
            value = _number(m, self.examples[2])
            if value > 100:
                raise ArgumentError(_("a distance is at most 100%, e.g. {example}").format(
                    example=self.examples[2]))
            return RuleRequest(DISTANCE, "<", value, trade_id=int(m["id"]))
        if m := MOVE_RE.match(text):
            value = _number(m, self.examples[1])
            try:
                window = Duration.parse(m["w"])
            except ValueError as e:
                raise ArgumentError(_("{error}, e.g. {example}").format(
                    error=e, example=self.examples[1])) from None
            if value > 100 or window > MAX_WINDOW:
                raise ArgumentError(_("a move is at most 100% over at most 7d, e.g. {example}"
                                      ).format(example=self.examples[1]))
            return RuleRequest(MOVE, ">=", value, symbol=m["sym"], window=window)
        if m := PRICE_RE.match(text):
            op = {"below": "<", "above": ">"}.get(m["op"], m["op"])
            return RuleRequest(PRICE, op, _number(m, self.examples[0]), symbol=m["sym"])
        raise ArgumentError(_("I can't read that alert. Try {first} or {second} or {third}"
                              ).format(first=self.examples[0], second=self.examples[1],
                                       third=self.examples[2]))

    async def answer(self, request: RuleRequest, ctx: CommandContext) -> Reply:
        s, uid = ctx.services, ctx.user_id
        now = s.now_ms()
        symbol, price_line = None, ""
        if request.kind == DISTANCE:
            t = trades.get_trade(s.db, uid, request.trade_id or 0)
            if t is None or t.closed_at is not None:
                raise ArgumentError(_("You have no open trade #{id} (see /positions), e.g. "
                                      "/alert trade 5 distance < 3%").format(
                    id=request.trade_id))
            text = f"trade #{request.trade_id} distance < {request.value:g}%"
        else:
            example = self.examples[0 if request.kind == PRICE else 1]
            symbol = await s.resolve(request.symbol or "", example)
            price_line = await self._now_line(ctx, symbol, example)
            base = symbol.split("-")[0]
            if request.kind == PRICE:
                text = f"{base} {request.op} {number(request.value)}"
            else:
                window = request.window
                assert window is not None
                if window.ms % s.timeframe_ms:
                    raise ArgumentError(_("the window must be whole {timeframe} bars, e.g. "
                                          "{example}").format(
                        timeframe=s.config.exchange.timeframe, example=example))
                text = f"{base} move {request.value:g}% {span_words(window.ms)}"
        try:
            rule = user_alerts.add_rule(
                s.db, uid, request.kind, request.op, request.value, text, now_ms=now,
                symbol=symbol, trade_id=request.trade_id, chat_id=ctx.chat_id,
                window_ms=request.window.ms if request.window else None)
        except TooManyRules as e:
            raise ArgumentError(_("{error}: delete one first (/alerts).").format(
                error=str(e).capitalize())) from None
        lines = [_("Alert #{id} set: {text}").format(id=rule.id, text=rule_text(rule)),
                 _("I tell you once when it is crossed, then again only after {rearm}."
                   ).format(rearm=_rearm_words(rule))]
        if price_line:
            lines.append(price_line)
        lines.append(_("Your alerts: /alerts"))
        return Reply(data={"rule": _rule_dict(rule, None)}, text=lines,
                     buttons=[[(_("Delete #{id}").format(id=rule.id),
                                f"/alerts delete {rule.id}")]])

    async def _now_line(self, ctx: CommandContext, symbol: str, example: str) -> str:
        """The symbol's price now, with its data's age; it must be one the bot watches."""
        s = ctx.services
        try:
            snap = await s.snapshot()
        except MarketError as e:
            return _("Price now unknown (the exchange did not answer: {error}).").format(
                error=str(e)[:80])
        if symbol not in snap.symbols:
            watched = ", ".join(x.split("-")[0] for x in snap.symbols[:12])
            raise ArgumentError(_("I only watch {watched} (config [exchange] symbols), "
                                  "e.g. {example}").format(watched=watched, example=example))
        j = snap.symbols.index(symbol)
        fresh = await s.freshness(snap)
        return _("{base} {price} now ({age})").format(
            base=symbol.split("-")[0], price=number(float(snap.close[-1, j])), age=fresh.text())


def _rearm_words(rule: UserAlert) -> str:
    level = rearm_level(rule)
    base = (rule.symbol or "").split("-")[0]
    if rule.kind == PRICE:
        back = _("{base} is back above {level}") if rule.op == "<" else \
            _("{base} is back below {level}")
        return back.format(base=base, level=number(level))
    if rule.kind == MOVE:
        return _("the move is back under {level:.1f}%").format(level=level)
    return _("the trade is back beyond {level:.1f}%").format(level=level)


def rule_text(rule: UserAlert) -> str:
    """The rule as the reader reads it ("BTC < 60,000", "ETH move 5% 1h"); ``rule.text``
    keeps the words it was stored with (English, for --json)."""
    base = (rule.symbol or "").split("-")[0]
    if rule.kind == PRICE:
        return f"{base} {rule.op} {number(rule.value)}"
    if rule.kind == MOVE:
        return _("{base} move {pct:g}% {window}").format(
            base=base, pct=rule.value, window=span_words(rule.window_ms or 0))
    if rule.kind == DISTANCE:
        return _("trade #{id} distance < {pct:g}%").format(id=rule.trade_id, pct=rule.value)
    return rule.text


def _rule_dict(rule: UserAlert, state: dict[str, Any] | None) -> dict[str, Any]:
    state = state or {}
    return {"id": rule.id, "kind": rule.kind, "text": rule.text, "symbol": rule.symbol,
            "trade_id": rule.trade_id, "op": rule.op, "level": rule.value,
            "window_ms": rule.window_ms, "armed": bool(state.get("armed", True)),
            "fired": int(state.get("fired", 0)), "last_fired_bar_ms": state.get("at"),
            "rearm_at": rearm_level(rule), "created_at": rule.created_at}


class ListAlerts(Command):
    name = "alerts"
    summary = N_("list your alerts; /alerts delete <id> removes one")
    usage = N_("/alerts [delete <id …> | delete all]")
    examples = ("/alerts", "/alerts delete all")
    private_only = True

    def parse(self, args: list[str]) -> list[int] | str | None:
        words = [a.lower().lstrip("#") for a in args]
        if not words:
            return None
        if words[0] not in ("delete", "del", "rm", "remove"):
            raise ArgumentError(_("/alerts lists your alerts or deletes them, e.g. {example}"
                                  ).format(example=DELETE_EXAMPLE))
        ids = words[1:]
        if ids == ["all"]:
            return "all"
        if not ids or not all(w.isdigit() and len(w) <= 12 for w in ids):
            raise ArgumentError(_("Name the alerts to delete by number, e.g. {example}"
                                  ).format(example=DELETE_EXAMPLE))
        return [int(w) for w in ids]

    async def answer(self, request: list[int] | str | None, ctx: CommandContext) -> Reply:
        s, uid = ctx.services, ctx.user_id
        if request is not None:
            ids = None if isinstance(request, str) else list(request)  # str: "all"
            gone = user_alerts.delete_rules(s.db, uid, ids, now_ms=s.now_ms())
            if not gone and ids is not None:
                raise ArgumentError(_("You have no such alert (see /alerts)."))
            head = _("Deleted {ids}.").format(ids=", ".join(f"#{i}" for i in gone)) if gone \
                else _("Nothing to delete.")
        else:
            head = ""
        rules = user_alerts.user_rules(s.db, uid)
        memory = RuleMemory(s.db)
        states = {r.id: memory.get(RULE_STATE, str(r.id)) for r in rules}
        lines = [head] if head else []
        if not rules:
            lines.append(_("You have no alerts. Set one: /alert btc < 60000"))
        else:
            lines.append(_("Your alerts ({n}):").format(n=len(rules)))
            lines += [_line(r, states[r.id]) for r in rules]
        buttons = [[(_("Delete #{id}").format(id=r.id), f"/alerts delete {r.id}")
                    for r in rules[i:i + 3]] for i in range(0, min(len(rules), 9), 3)]
        return Reply(data={"alerts": [_rule_dict(r, states[r.id]) for r in rules]},
                     text=lines, buttons=buttons)


def _line(rule: UserAlert, state: dict[str, Any] | None) -> str:
    if state and not state.get("armed", True):
        return _("#{id} {text} — fired; re-arms when {rearm}").format(
            id=rule.id, text=rule_text(rule), rearm=_rearm_words(rule))
    return _("#{id} {text} — armed").format(id=rule.id, text=rule_text(rule))
