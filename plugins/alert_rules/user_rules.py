"""Users' own alerts (``/alert btc < 60000``, ``/alert eth move 5% 1h``,
``/alert trade 5 distance < 3%``): each rule fires once when its condition is crossed, then
stays quiet until the reading has gone back past the level by a margin (hysteresis), so a
price dancing around 60,000 does not ring every cycle.

The rules live in ``storage.user_alerts``; whether each is armed is rule memory
(``ctx.memory``, key = the rule's id), written only with the alert it raised, so a restart
neither repeats a firing nor loses one. Alerts go to the rule's owner alone (scope
``personal``); a trade rule reads only its owner's trade.
"""

from __future__ import annotations

import math
from typing import Any

from i18n import L_, Msg
from plugins.alert_rules.base import Alert, AlertRule, RuleContext
from storage.user_alerts import DISTANCE, MOVE, PRICE, UserAlert, live_rules

PRICE_REARM = 0.005  # a price rule re-arms 0.5 % back past its level
MOVE_REARM = 0.5  # a move rule re-arms when the move is under half its size
DISTANCE_REARM = 1.25  # a distance rule re-arms beyond 1.25× its distance (and +0.5 point)
SEVERITY = {PRICE: "warning", MOVE: "warning", DISTANCE: "critical"}


def number(x: float) -> str:
    """A price as a trader reads it: 60,000 · 3,012.5 · 0.01234."""
    if abs(x) >= 1000:
        return f"{x:,.2f}".rstrip("0").rstrip(".")
    return f"{x:.6g}"


def span_words(ms: int) -> str:
    """A window as typed: 15m, 1h, 4h, 1d."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms // 1000}s"


def rearm_level(rule: UserAlert) -> float:
    """Where the reading must be back to before the rule can fire again."""
    if rule.kind == PRICE:
        return rule.value * (1 + PRICE_REARM if rule.op == "<" else 1 - PRICE_REARM)
    if rule.kind == MOVE:
        return rule.value * MOVE_REARM
    return max(rule.value * DISTANCE_REARM, rule.value + 0.5)


def crossed(rule: UserAlert, value: float) -> bool:
    """The rule's condition holds for this reading."""
    if rule.kind == MOVE:
        return abs(value) >= rule.value
    return value < rule.value if rule.op == "<" else value > rule.value


def rearmed(rule: UserAlert, value: float) -> bool:
    """The reading is back past the level by the margin: the rule may fire again."""
    level = rearm_level(rule)
    if rule.kind == MOVE:
        return abs(value) < level
    return value > level if rule.op == "<" else value < level


def reading(rule: UserAlert, ctx: RuleContext) -> float | None:
    """The number the rule watches at this bar, or None when it is not known (a symbol
    without data, a closed trade, too little history)."""
    r = ctx.result
    if r is None:
        return None
    if rule.kind == PRICE:
        if rule.symbol not in r.symbols:
            return None
        p = float(r.prices[r.index(rule.symbol)])
        return p if math.isfinite(p) else None
    if rule.kind == MOVE:
        return move_pct(rule, ctx)
    ti = next((t for t in ctx.trades if t.trade_id == rule.trade_id
               and t.owner_chat_id == rule.user_id), None)
    if ti is None or r.risk is None:
        return None
    d = float(r.risk.distance_pct[ti.position_index])
    return d if math.isfinite(d) else None


def move_pct(rule: UserAlert, ctx: RuleContext) -> float | None:
    """The close-to-close move in % over the rule's window, ending at the latest bar."""
    snap = ctx.snapshot
    if snap is None or rule.symbol not in snap.symbols or not rule.window_ms:
        return None
    bars = max(1, rule.window_ms // snap.timeframe_ms)
    if snap.n_bars <= bars:
        return None
    j = snap.symbols.index(rule.symbol)
    now, then = float(snap.close[-1, j]), float(snap.close[-1 - bars, j])
    if not (math.isfinite(now) and math.isfinite(then)) or then <= 0:
        return None
    return (now / then - 1) * 100


class UserRulesRule(AlertRule):
    """Every user's ``/alert`` rules: one alert per crossing, to the owner only."""

    name = "user_rules"
    kind = "rule"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        out = []
        for rule in live_rules(ctx.memory.db):
            value = reading(rule, ctx)
            if value is None:
                continue
            state: dict[str, Any] = ctx.memory.get(self.name, str(rule.id)) or {
                "armed": True, "fired": 0}
            if state.get("armed", True) and crossed(rule, value):
                fired = int(state.get("fired", 0)) + 1
                alert = self._fired(ctx, rule, value, fired)
                ctx.memory.set(self.name, str(rule.id),
                               {"armed": False, "fired": fired, "at": ctx.time_ms,
                                "value": value}, now_ms=ctx.now_ms, only_if=alert.dedup_key)
                out.append(alert)
            elif not state.get("armed", True) and rearmed(rule, value):
                ctx.memory.set(self.name, str(rule.id), {**state, "armed": True},
                               now_ms=ctx.now_ms)
        return out

    def _fired(self, ctx: RuleContext, rule: UserAlert, value: float, fired: int) -> Alert:
        base = (rule.symbol or "").split("-")[0]
        again = rearm_level(rule)
        title: Msg
        back: Msg
        if rule.kind == PRICE:
            prices = {"base": base, "level": number(rule.value), "now": number(value),
                      "again": number(again)}
            if rule.op == "<":
                title = L_("{base} below {level}: now {now}", **prices)
                back = L_("{base} is back above {again}", **prices)
            else:
                title = L_("{base} above {level}: now {now}", **prices)
                back = L_("{base} is back below {again}", **prices)
        elif rule.kind == MOVE:
            window = span_words(rule.window_ms or 0)
            title = L_("{base} moved {move:+.1f}% in {window}", base=base, move=value,
                       window=window)
            back = L_("the {window} move is under {again:.1f}%", window=window, again=again)
        else:
            title = L_("Trade #{trade_id} is {distance:.1f}% from liquidation",
                       trade_id=rule.trade_id, distance=value)
            back = L_("it is more than {again:.1f}% away", again=again)
        numbers = {"rule_id": rule.id, "rule": rule.text, "kind": rule.kind,
                   "value": value, "level": rule.value, "rearm_at": again, "fired": fired,
                   "symbol": rule.symbol, "trade_id": rule.trade_id,
                   "delete_command": f"/alerts delete {rule.id}"}
        action = L_("Your alert #{rule_id} ({rule}) fires again only after {back}. Delete it "
                    "with /alerts delete {rule_id}.", rule_id=rule.id, rule=rule.text, back=back)
        if rule.kind == DISTANCE:
            action = L_("Add margin or cut trade #{trade_id} (/risk {trade_id}). {then}",
                        trade_id=rule.trade_id, then=action)
        return self.alert(ctx, f"{rule.id}:{fired}", SEVERITY[rule.kind], title,
                          [L_("Your alert #{rule_id}: {rule}", rule_id=rule.id,
                              rule=rule.text)], action,
                          payload=numbers, symbol=rule.symbol, owner_chat_id=rule.user_id,
                          cooldown_ms=0)
