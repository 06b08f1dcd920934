"""How a relayed TradingView signal reads: the signal, then what hedgewatch adds to it —
liquidation, touch probability, the hedge, the cascade level and the regime — in at most ten
lines on a phone (title, six body lines, what to do, the data's age). Everything else goes in
the alert's numbers ("Details") and the "Hedge it" button runs the full ``/hedge``.

Its words are ``i18n.L_`` messages, rendered in every language when the alert is recorded
(like the rules' alerts), so each chat a route reaches reads it in its own language; the
numbers (``payload``, for Details and ``--json``) stay English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chat.first_screens import LEVEL_WORDS, REGIME_WORDS, SIDE_WORDS
from chat.tradingview.assess import Assessment
from chat.tradingview.signal import Signal
from core.alerts import Alert
from i18n import DEFAULT, L_, N_, Msg, use
from storage.tv_routes import Route

KIND = "tradingview"
BODY_LINES = 6
# the signal's own word for what it says, as the title shows it
ACTION_WORDS = {"buy": N_("BUY"), "sell": N_("SELL"), "long": N_("LONG"),
                "short": N_("SHORT"), "flat": N_("FLAT"), "close": N_("CLOSE"),
                "exit": N_("EXIT"), "signal": N_("SIGNAL")}


def lazy_word(table: dict[str, str], value: Any) -> Msg | str:
    """A data word (a side, a level) rendered later in each reader's language."""
    text = str(value)
    return Msg(table[text]) if text in table else text


def english(value: Msg | str) -> str:
    """A message as the payload keeps it (English, for Details and ``--json``)."""
    with use(DEFAULT):
        return str(value)


@dataclass(frozen=True)
class Relay:
    """What the intake worked out for one signal, before it becomes an alert."""

    signal: Signal
    route: Route
    received_ms: int
    symbol: str | None = None  # the exchange symbol, None when the ticker is unknown
    assessment: Assessment | None = None
    warnings: tuple[str | Msg, ...] = ()  # shown in the reader's language
    trade_id: int | None = None  # logged for the route's owner (``log`` routes)


def px(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.2f}" if x >= 1 else f"{x:.6g}"


def pct(p: float | None, digits: int = 1) -> str:
    return "n/a" if p is None else f"{p * 100:.{digits}f} %"


def interval_text(interval: str) -> str:
    """TradingView's ``{{interval}}``: minutes as digits ("15", "240"), else "1D", "1W"."""
    if not interval.isdecimal():
        return interval
    minutes = int(interval)
    return f"{minutes // 60}h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes}m"


def _title(r: Relay) -> Msg:
    s = r.signal
    what = (s.action or s.side or "signal").lower()
    name: Msg | str = r.symbol or s.ticker or L_("no ticker")
    at = f" @ {px(s.close)}" if s.close is not None else ""
    tf = f" ({interval_text(s.interval)})" if s.interval else ""
    return L_("TradingView: {what} {name}{details}",
              what=lazy_word(ACTION_WORDS, what) if what in ACTION_WORDS else what.upper(),
              name=name, details=at + tf)


def _position_line(r: Relay, a: Assessment | None) -> Msg | str | None:
    side = r.signal.implied_side
    if side is None:
        return L_("No side in the alert: add \"side\": \"long\" or \"short\" for risk numbers.")
    if side == "flat":
        return L_("Flat after this order: no position to assess.")
    pos = (a.risk.get("position") if a else None) or {}
    base = (r.symbol or "").split("-")[0]
    size = f"{pos['size']:.6g} {base}" if pos.get("size") is not None else base
    lev = f" {pos['leverage']:g}x" if pos.get("leverage") is not None else ""
    what = (f"{size}{lev}").strip()
    if not what:  # no symbol: the side alone
        position = L_("Long") if side == "long" else L_("Short") if side == "short" \
            else side.capitalize()
    else:
        position = L_("Long {position}", position=what) if side == "long" else \
            L_("Short {position}", position=what) if side == "short" else \
            L_("{side} {position}", side=side.capitalize(), position=what)
    sl, tp = r.signal.sl, r.signal.tp
    if sl and tp:
        return L_("{position} · SL {sl} · TP {tp}", position=position, sl=px(sl), tp=px(tp))
    if sl:
        return L_("{position} · SL {sl}", position=position, sl=px(sl))
    if tp:
        return L_("{position} · TP {tp}", position=position, tp=px(tp))
    return position


def _risk_line(risk: dict[str, Any]) -> Msg | None:
    if "liquidation_price" not in risk:
        return None
    if risk["liquidation_price"] is None:
        return L_("Liquidation: none (the margin covers the whole position)")
    sig = risk.get("distance_sigma_24h")
    dist = risk.get("distance_pct")
    values = {"price": px(risk["liquidation_price"]),
              "sigma": f" ({sig:.1f}σ)" if sig is not None else "",
              "prob": pct(risk.get("touch_prob_24h"), 2)}
    if dist is not None:
        return L_("Liquidation {price}, {distance:.1f} % away{sigma} · touch 24h {prob}",
                  distance=dist, **values)
    return L_("Liquidation {price}{sigma} · touch 24h {prob}", **values)


def _leg(leg: dict[str, Any]) -> Msg | str:
    """The hedge leg as a trader reads it: side, base size, contracts, USDT."""
    try:
        values = {"side": lazy_word(SIDE_WORDS, leg["side"]), "size": float(leg["size"]),
                  "base": str(leg["symbol"]).split("-")[0],
                  "notional": float(leg["notional"])}
    except (KeyError, TypeError, ValueError):
        return str(leg.get("text", ""))
    if leg.get("contracts") is not None:
        return L_("{side} {size:.6g} {base} ({contracts:,.1f} ct, {notional:,.0f} USDT)",
                  contracts=float(leg["contracts"]), **values)
    return L_("{side} {size:.6g} {base} ({notional:,.0f} USDT)", **values)


def _hedge_line(hedge: dict[str, Any], leg: dict[str, Any] | None) -> Msg | None:
    if not hedge:
        return None
    if leg is None:
        return L_("Hedge: no instrument with enough common data yet")
    eff = leg.get("effectiveness")
    if eff is not None:
        return L_("Hedge: {leg}, removes {share:.0f} %", leg=_leg(leg), share=eff * 100)
    return L_("Hedge: {leg}", leg=_leg(leg))


def _stop_past_liquidation(r: Relay, risk: dict[str, Any]) -> bool:
    liq, sl, side = risk.get("liquidation_price"), r.signal.sl, r.signal.implied_side
    if liq is None or sl is None:
        return False
    return bool(sl <= liq) if side == "long" else bool(sl >= liq) if side == "short" \
        else False


def _action(r: Relay, a: Assessment | None, alert_prob: float) -> tuple[str, Msg]:
    """(severity, what to do)."""
    risk = a.risk if a else {}
    safe = risk.get("safe_leverage")
    safe_text: Msg | str = f"{safe:.1f}x" if safe is not None else L_("a lower leverage")
    if _stop_past_liquidation(r, risk):
        return "warning", L_("The stop {stop} is past liquidation {liquidation}: you would be "
                             "liquidated first. Use {safe} or less, or move the stop.",
                             stop=px(r.signal.sl), liquidation=px(risk["liquidation_price"]),
                             safe=safe_text)
    p24 = risk.get("touch_prob_24h")
    if p24 is not None and p24 > alert_prob:
        return "warning", L_("Liquidation is likely within a day at this leverage: {safe} "
                             "keeps it under the safe limit.", safe=safe_text)
    if r.symbol is None:
        return "warning", L_("Check the ticker: this signal was relayed without numbers.")
    if a and a.hedge_leg:
        return "info", L_("If you take it, put the hedge above on with it (Hedge it: every "
                          "strategy).")
    return "info", L_("Relayed as received: no position to assess.")


def relay_alert(r: Relay, *, dedup_window_ms: int, alert_prob: float, now_ms: int
                ) -> Alert:
    """The outbox alert for a relayed signal: to the route's chat (and topic) only."""
    a = r.assessment
    body: list[str | Msg] = []
    for line in (_position_line(r, a), _risk_line(a.risk) if a else None,
                 _hedge_line(a.hedge, a.hedge_leg) if a else None):
        if line:
            body.append(line)
    if a and a.hedge.get("cascade"):
        regime = a.hedge.get("regime")
        body.append(L_("Cascade {level} · regime {regime}",
                       level=lazy_word(LEVEL_WORDS, a.hedge["cascade"]["level"]),
                       regime=lazy_word(REGIME_WORDS, regime) if regime else "n/a"))
    if r.signal.message:
        body.append(f"“{r.signal.message[:200]}”")
    said: list[str | Msg] = [*r.warnings, *(a.problems if a else ()), *r.signal.notes]
    if said:
        body.append(L_("⚠ {warning} (+{n} more in Details)", warning=said[0],
                       n=len(said) - 1) if len(said) > 1 else
                    L_("⚠ {warning}", warning=said[0]))
    warnings = [english(w) for w in said]
    severity, action = _action(r, a, alert_prob)
    s, route = r.signal, r.route
    numbers: dict[str, Any] = {
        "route_id": route.id, "ticker": s.ticker, "exchange": s.exchange, "symbol": r.symbol,
        "side": s.implied_side, "action": s.action, "close": s.close, "sl": s.sl, "tp": s.tp,
        "interval": s.interval, "words": " ".join(a.words) if a else None,
        "warnings": warnings, "trade_id": r.trade_id}
    if a:
        numbers["risk"] = {k: a.risk.get(k) for k in (
            "liquidation_price", "distance_pct", "distance_sigma_24h", "touch_prob_1h",
            "touch_prob_24h", "safe_leverage", "mmr", "position")}
        numbers["hedge"] = {k: a.hedge.get(k) for k in (
            "hedge_symbol", "legs", "regime", "cascade", "correlation_fast",
            "correlation_slow")}
        if a.words:
            numbers["hedge_command"] = "/hedge " + " ".join(a.words)
    key = f"tv:{route.id}:{s.digest}"
    return Alert(
        kind=KIND, dedup_key=f"{key}:{now_ms}", severity=severity, title=_title(r),
        body=tuple(body[:BODY_LINES]), action=action,
        time_ms=(a.as_of if a and a.as_of else r.received_ms),
        data_age_ms=a.data_age_ms if a else -1, cooldown_ms=dedup_window_ms,
        cooldown_key=key, payload=numbers, symbol=r.symbol, owner_chat_id=route.chat_id,
        subject=f"tv:{route.id}:{r.symbol or s.ticker or '-'}", thread_id=route.thread_id,
        simulated=bool(a and a.hedge.get("simulated")))
