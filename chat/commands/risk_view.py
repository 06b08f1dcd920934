"""What /risk shows of one position: the engine's report on the warm snapshot and its lines.

Also used by /account and /whatif. The market inputs come from the snapshot: the mark
(``last_price``), the symbol's bars for the calibrated tail model (``core.tail_risk``, fitted
on the snapshot's 30 days), and σ per bar for the Gaussian shown next to it: the EWMA
volatility of log returns with half-life ``[engine] ewma_halflife``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chat.commands.market_view import side_word
from chat.context import Services
from core.returns import log_returns
from core.risk import MIN_RETURNS_FOR_VOL, RiskReport, risk_report
from core.tail_risk import TailFit, fit_tails
from core.types import MarketSnapshot, Position
from core.volatility import ewma_vol
from i18n import _
from settings.engine import engine_params


def sigma_per_bar(closes: np.ndarray, halflife_bars: float) -> float:
    """EWMA σ of log returns per bar (NaN with fewer than ``MIN_RETURNS_FOR_VOL`` returns)."""
    return float(ewma_vol(log_returns(closes), halflife_bars, MIN_RETURNS_FOR_VOL)[0])


def snapshot_tails(services: Services, snap: MarketSnapshot, symbol: str) -> TailFit:
    """The calibrated tail model of ``symbol`` fitted on the snapshot's bars: the same fit
    the engine makes for it (a symbol's fit depends on its own bars only)."""
    j = snap.index(symbol)
    return fit_tails(snap.close[:, j], snap.high[:, j], snap.low[:, j],
                     3_600_000 / snap.timeframe_ms, engine_params(services.config).tail)


def report_for(services: Services, snap: MarketSnapshot, pos: Position, *,
               mmr: float | None = None, fee: float | None = None,
               liquidation_price: float | None = None, cross_note: str | None = None,
               tails: TailFit | None = None) -> RiskReport:
    """The engine's RiskReport of ``pos`` on ``snap`` (the same call the tests make);
    ``tails`` is the symbol's fit (``snapshot_tails``), made here when not given."""
    cfg = services.config
    j = snap.index(pos.symbol)
    closes = snap.close[:, j]
    halflife = cfg.engine.ewma_halflife.bars(cfg.exchange.timeframe)
    instrument = services.instrument(snap, pos.symbol)
    fit = tails if tails is not None else snapshot_tails(services, snap, pos.symbol)
    return risk_report(pos, instrument, snap.last_price(pos.symbol),
                       sigma_per_bar(closes, halflife), 3_600_000 / snap.timeframe_ms,
                       closes=closes, target_prob=cfg.risk.safe_touch_prob, mmr=mmr, fee=fee,
                       liquidation_price=liquidation_price, tails=fit, cross_note=cross_note)


def _pct(x: float | None, digits: int = 1) -> str:
    return _("n/a") if x is None else f"{x:.{digits}f} %"


def _prob(p: float | None) -> str:
    """A probability as a percentage with the digits it needs (0.0012 % is not 0.00 %)."""
    if p is None:
        return _("n/a")
    pct = p * 100
    if pct == 0 or pct >= 1:
        return f"{pct:.1f} %" if pct < 99.95 or pct == 100 else "> 99.9 %"
    return f"{pct:.2g} %" if pct >= 0.001 else "< 0.001 %"


def price_text(x: float | None) -> str:
    """A price with the digits it needs (sub-1 prices in significant figures)."""
    return _px(x)


def _px(x: float | None) -> str:
    if x is None:
        return _("n/a")
    return f"{x:,.2f}" if x >= 1 else f"{x:.6g}"


def report_lines(r: dict[str, Any], pos: dict[str, Any]) -> list[str]:
    lines = [_("{symbol} {side} {size:g} @ {entry} {leverage:g}x — mark {mark}").format(
        symbol=r["symbol"], side=side_word(r["side"]), size=pos["size"], entry=_px(pos["entry"]),
        leverage=pos["leverage"], mark=_px(r["mark"]))]
    if r["liquidation_price"] is None:
        lines.append(_("Liquidation: none (the margin covers the whole position)"))
    else:
        sig = r["distance_sigma_24h"]
        liq = {"price": _px(r["liquidation_price"]), "distance": _pct(r["distance_pct"])}
        lines.append(_("Liquidation {price}: {distance} away").format(**liq) if sig is None
                     else _("Liquidation {price}: {distance} away, {sigma:.1f}σ of 24h moves")
                     .format(sigma=sig, **liq))
    p = {f"p{h}": _prob(r[f"touch_prob_{h}h"]) for h in (1, 4, 24)}
    g24 = r["touch_prob_24h_gaussian"]
    lines.append(_("Chance to touch it: 1h {p1}, 4h {p4}, 24h {p24} (a Gaussian model would "
                   "say 24h {gaussian})").format(gaussian=_prob(g24), **p)
                 if r["risk_model"] == "tail" and g24 is not None else
                 _("Chance to touch it: 1h {p1}, 4h {p4}, 24h {p24}").format(**p))
    safe = r["safe_leverage"]
    lev = {"safe": _("n/a") if safe is None else _("{leverage:.1f}x").format(leverage=safe),
           "mmr": r["mmr"] * 100}
    lines.append(_("Safe leverage: {safe} · mmr {mmr:.2f} % (tier {tier})").format(
        tier=r["tier"], **lev) if r["tier"] else
        _("Safe leverage: {safe} · mmr {mmr:.2f} %").format(**lev))
    lines += [f"⚠ {w}" for w in r["warnings"]]
    return lines
