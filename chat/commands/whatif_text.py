"""The lines a trader reads of a /whatif answer (``chat.commands.whatif.shock_data``)."""

from __future__ import annotations

from typing import Any


def _money(x: float) -> str:
    return f"{x + 0.0:+,.2f}"  # no "-0.00"


def _px(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.2f}" if x >= 1 else f"{x:.6g}"


def _prob(p: float | None) -> str:
    if p is None:
        return "n/a"
    pct = p * 100
    return f"{pct:.1f} %" if pct >= 1 or pct == 0 else f"{pct:.2g} %"


def _base(symbol: str) -> str:
    return symbol.split("-")[0]


def render(d: dict[str, Any]) -> list[str]:
    shock = d["shock"]
    name = "the market" if shock["driver"] == "market" else _base(shock["driver"])
    h = shock["horizon_h"]
    lines = [f"What if {name} moves {shock['move_pct']:+.1f} % (every asset of your book by "
             "its stress beta to it):"]
    moves: dict[str, tuple[float, float]] = {}
    for p in d["positions"]:
        moves.setdefault(p["symbol"], (p["move_pct"], p["beta"]))
    lines.append(", ".join(f"{_base(sym)} {m:+.1f} % (β {b:.2f})"
                           for sym, (m, b) in moves.items()))
    for p in d["positions"]:
        role = f" (hedge of #{p['parent_id']})" if p["parent_id"] is not None else ""
        head = (f"#{p['trade_id']}{role} {_base(p['symbol'])} {p['side']} {p['size']:g}"
                f" @ {_px(p['entry'])} {p['margin_mode']}: P&L {_money(p['pnl_now'])} → "
                f"{_money(p['pnl_after'])} USDT")
        if p["liquidated"]:
            head += f"; LIQUIDATED at {name} {p['liquidated_at_move_pct']:+.1f} %"
        elif p["distance_pct_after"] is not None:
            head += (f"; liquidation {_px(p['liquidation_price_after'])} is "
                     f"{p['distance_pct_after']:.1f} % away, {_prob(p[f'touch_prob_{h}h_after'])}"
                     f" chance to touch it within {h}h after")
        else:
            head += "; no liquidation within reach"
        lines.append(head)
    if d["liquidation_order"]:
        by_id = {p["trade_id"]: p for p in d["positions"]}
        lines.append("Liquidated, in order: " + ", ".join(
            f"#{i} {_base(by_id[i]['symbol'])} {by_id[i]['side']} (at {name} "
            f"{by_id[i]['liquidated_at_move_pct']:+.1f} %)" for i in d["liquidation_order"]))
    else:
        lines.append("Nothing is liquidated by this move.")
    a = d["account"]
    if a is not None:
        ratio = a["margin_ratio_after"]
        lines.append(f"Cross account: equity {a['equity_now']:,.2f} → {a['equity_after']:,.2f} "
                     f"USDT, maintenance {a['maintenance_after']:,.2f}, margin ratio "
                     + ("n/a" if ratio is None else f"{ratio * 100:,.0f} %")
                     + (f" — LIQUIDATED at {name} {a['liquidated_at_move_pct']:+.1f} %"
                        if a["liquidated"] else ""))
    for hg in d["hedges"]:
        off = hg["offset"]
        lines.append(f"Hedge of #{hg['trade_id']}: main {_money(hg['main_pnl_change'])}, legs "
                     f"{_money(hg['legs_pnl_change'])}, net {_money(hg['net_pnl_change'])} USDT"
                     + ("" if off is None else f" — the legs offset {off * 100:.0f} %"))
    t = d["totals"]
    lines.append(f"Book: P&L {_money(t['pnl_now'])} → {_money(t['pnl_after'])} USDT "
                 f"({_money(t['pnl_change'])})")
    return lines
