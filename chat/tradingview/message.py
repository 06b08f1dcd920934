"""How a relayed TradingView signal reads: the signal, then what hedgewatch adds to it —
liquidation, touch probability, the hedge, the cascade level and the regime — in at most ten
lines on a phone (title, six body lines, what to do, the data's age). Everything else goes in
the alert's numbers ("Details") and the "Hedge it" button runs the full ``/hedge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chat.tradingview.assess import Assessment
from chat.tradingview.signal import Signal
from core.alerts import Alert
from storage.tv_routes import Route

KIND = "tradingview"
BODY_LINES = 6


@dataclass(frozen=True)
class Relay:
    """What the intake worked out for one signal, before it becomes an alert."""

    signal: Signal
    route: Route
    received_ms: int
    symbol: str | None = None  # the exchange symbol, None when the ticker is unknown
    assessment: Assessment | None = None
    warnings: tuple[str, ...] = ()
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


def _title(r: Relay) -> str:
    s = r.signal
    what = (s.action or s.side or "signal").upper()
    name = r.symbol or s.ticker or "no ticker"
    at = f" @ {px(s.close)}" if s.close is not None else ""
    tf = f" ({interval_text(s.interval)})" if s.interval else ""
    return f"TradingView: {what} {name}{at}{tf}"


def _position_line(r: Relay, a: Assessment | None) -> str | None:
    side = r.signal.implied_side
    if side is None:
        return "No side in the alert: add \"side\": \"long\" or \"short\" for risk numbers."
    if side == "flat":
        return "Flat after this order: no position to assess."
    pos = (a.risk.get("position") if a else None) or {}
    base = (r.symbol or "").split("-")[0]
    size = f"{pos['size']:.6g} {base}" if pos.get("size") is not None else base
    lev = f" {pos['leverage']:g}x" if pos.get("leverage") is not None else ""
    stops = "".join(f" · {k.upper()} {px(v)}" for k, v in (("sl", r.signal.sl),
                                                            ("tp", r.signal.tp)) if v)
    return f"{side.capitalize()} {size}{lev}{stops}".strip()


def _risk_line(risk: dict[str, Any]) -> str | None:
    if "liquidation_price" not in risk:
        return None
    if risk["liquidation_price"] is None:
        return "Liquidation: none (the margin covers the whole position)"
    sig = risk.get("distance_sigma_24h")
    dist = risk.get("distance_pct")
    return (f"Liquidation {px(risk['liquidation_price'])}"
            + (f", {dist:.1f} % away" if dist is not None else "")
            + (f" ({sig:.1f}σ)" if sig is not None else "")
            + f" · touch 24h {pct(risk.get('touch_prob_24h'), 2)}")


def _hedge_line(hedge: dict[str, Any], leg: dict[str, Any] | None) -> str | None:
    if not hedge:
        return None
    if leg is None:
        return "Hedge: no instrument with enough common data yet"
    eff = leg.get("effectiveness")
    return f"Hedge: {leg['text']}" + (f", removes {eff * 100:.0f} %" if eff is not None
                                      else "")


def _stop_past_liquidation(r: Relay, risk: dict[str, Any]) -> bool:
    liq, sl, side = risk.get("liquidation_price"), r.signal.sl, r.signal.implied_side
    if liq is None or sl is None:
        return False
    return bool(sl <= liq) if side == "long" else bool(sl >= liq) if side == "short" \
        else False


def _action(r: Relay, a: Assessment | None, alert_prob: float) -> tuple[str, str]:
    """(severity, what to do)."""
    risk = a.risk if a else {}
    safe = risk.get("safe_leverage")
    safe_text = f"{safe:.1f}x" if safe is not None else "a lower leverage"
    if _stop_past_liquidation(r, risk):
        return "warning", (f"The stop {px(r.signal.sl)} is past liquidation "
                           f"{px(risk['liquidation_price'])}: you would be liquidated first. "
                           f"Use {safe_text} or less, or move the stop.")
    p24 = risk.get("touch_prob_24h")
    if p24 is not None and p24 > alert_prob:
        return "warning", (f"Liquidation is likely within a day at this leverage: "
                           f"{safe_text} keeps it under the safe limit.")
    if r.symbol is None:
        return "warning", "Check the ticker: this signal was relayed without numbers."
    if a and a.hedge_leg:
        return "info", "If you take it, put the hedge above on with it (Hedge it: every " \
            "strategy)."
    return "info", "Relayed as received: no position to assess."


def relay_alert(r: Relay, *, dedup_window_ms: int, alert_prob: float, now_ms: int
                ) -> Alert:
    """The outbox alert for a relayed signal: to the route's chat (and topic) only."""
    a = r.assessment
    body: list[str] = []
    for line in (_position_line(r, a), _risk_line(a.risk) if a else None,
                 _hedge_line(a.hedge, a.hedge_leg) if a else None):
        if line:
            body.append(line)
    if a and a.hedge.get("cascade"):
        body.append(f"Cascade {a.hedge['cascade']['level']} · regime "
                    f"{a.hedge.get('regime') or 'n/a'}")
    if r.signal.message:
        body.append(f"“{r.signal.message[:200]}”")
    warnings = [*r.warnings, *(a.problems if a else ()), *r.signal.notes]
    if warnings:
        more = f" (+{len(warnings) - 1} more in Details)" if len(warnings) > 1 else ""
        body.append(f"⚠ {warnings[0]}{more}")
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
