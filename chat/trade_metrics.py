"""The trade log's figures: per trade, per period, per symbol, and the log's statistics.

Pure functions over ``storage.trades.Trade`` values (no database, no clock), so the views
(``/pnl``, ``/daily``, ``/performance``, ``/stats``) and the tests share one definition:

- a *trade* is a main position with its hedge legs; it is closed when its main is closed,
  and its result is the net P&L (realised after fees, plus funding) of the main and of every
  leg closed so far. Win rate, average win/loss and best/worst count trades, not legs;
- money is booked when a row (main or leg) closes: ``/daily`` puts a row's realised P&L,
  fees and funding in the period of its close, and the equity curve steps at each close
  time (rows closed at the same moment are one step);
- ``/performance`` lists each row under its own symbol, legs counted apart as hedges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from storage.trades import LIQUIDATED, Trade

PERIOD_UNITS = ("day", "week", "month")


@dataclass(frozen=True)
class TradeGroup:
    """A main trade and its hedge legs: one decision of the trader."""

    main: Trade
    legs: tuple[Trade, ...] = ()

    @property
    def rows(self) -> tuple[Trade, ...]:
        return (self.main, *self.legs)

    @property
    def closed(self) -> bool:
        return not self.main.is_open

    @property
    def is_open(self) -> bool:
        """Anything of it still open (the main or a leg)."""
        return any(t.is_open for t in self.rows)

    @property
    def net(self) -> float:
        """Net P&L of its closed rows (realised after fees, plus funding)."""
        return sum(t.net_pnl or 0.0 for t in self.rows if not t.is_open)


def group_trades(trades: Iterable[Trade]) -> list[TradeGroup]:
    """Mains with their legs, in id order (a leg whose main is not given stands alone)."""
    rows = sorted(trades, key=lambda t: t.id)
    ids = {t.id for t in rows}
    legs: dict[int, list[Trade]] = {}
    for t in rows:
        if t.parent_id is not None and t.parent_id in ids:
            legs.setdefault(t.parent_id, []).append(t)
    return [TradeGroup(t, tuple(legs.get(t.id, ()))) for t in rows
            if t.parent_id is None or t.parent_id not in ids]


@dataclass
class Sums:
    """Money of a set of closed rows: realised (after fees), fees, funding, and counts."""

    realised: float = 0.0
    fees: float = 0.0
    funding: float = 0.0
    trade_count: int = 0  # mains
    leg_count: int = 0  # hedge legs
    liquidations: int = 0

    @property
    def net(self) -> float:
        return self.realised + self.funding

    def add(self, t: Trade) -> None:
        self.realised += t.realised_pnl or 0.0
        self.fees += t.fees
        self.funding += t.funding
        if t.is_leg:
            self.leg_count += 1
        else:
            self.trade_count += 1
        if t.close_reason == LIQUIDATED:
            self.liquidations += 1

    def to_dict(self) -> dict[str, Any]:
        return {"realised": self.realised, "fees": self.fees, "funding": self.funding,
                "net": self.net, "trade_count": self.trade_count,
                "leg_count": self.leg_count, "liquidations": self.liquidations}


def total_of(periods: Iterable[Period]) -> Sums:
    """The periods' sums added up."""
    out = Sums()
    for p in periods:
        s = p.sums
        out.realised += s.realised
        out.fees += s.fees
        out.funding += s.funding
        out.trade_count += s.trade_count
        out.leg_count += s.leg_count
        out.liquidations += s.liquidations
    return out


def sums(trades: Iterable[Trade]) -> Sums:
    out = Sums()
    for t in trades:
        if not t.is_open:
            out.add(t)
    return out


# --- periods (/daily, /weekly, /monthly) ---------------------------------------------------


@dataclass
class Period:
    start: dt.date
    start_ms: int
    end_ms: int
    sums: Sums = field(default_factory=Sums)


def _period_start(day: dt.date, unit: str) -> dt.date:
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())  # Monday, as ISO weeks
    if unit == "month":
        return day.replace(day=1)
    return day


def _shift(start: dt.date, unit: str, k: int) -> dt.date:
    """The start of the period ``k`` periods after (negative: before) ``start``."""
    if unit == "month":
        months = start.year * 12 + start.month - 1 + k
        return dt.date(months // 12, months % 12 + 1, 1)
    return start + dt.timedelta(days=k * (7 if unit == "week" else 1))


def _midnight_ms(day: dt.date, tz: ZoneInfo) -> int:
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=tz).timestamp() * 1000)


def local_date(ms: int, tz: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz).date()


def period_bounds(now_ms: int, unit: str, n: int, tz: ZoneInfo) -> list[Period]:
    """The ``n`` periods up to the one holding ``now_ms`` (local to ``tz``), newest first."""
    if unit not in PERIOD_UNITS:
        raise ValueError(f"unit must be one of {PERIOD_UNITS}, not {unit!r}")
    current = _period_start(local_date(now_ms, tz), unit)
    starts = [_shift(current, unit, -k) for k in range(n)]
    return [Period(s, _midnight_ms(s, tz), _midnight_ms(_shift(s, unit, 1), tz))
            for s in starts]


def by_period(trades: Iterable[Trade], now_ms: int, unit: str, n: int,
              tz: ZoneInfo) -> list[Period]:
    """Closed rows summed by the period of their close, newest first; periods with no
    close stay at zero, and rows closed before the oldest period or after now are left out."""
    periods = period_bounds(now_ms, unit, n, tz)
    index = {p.start: p for p in periods}
    for t in trades:
        if t.closed_at is None or t.closed_at > now_ms:
            continue
        p = index.get(_period_start(local_date(t.closed_at, tz), unit))
        if p is not None:
            p.sums.add(t)
    return periods


# --- per symbol (/performance) --------------------------------------------------------------


def by_symbol(trades: Iterable[Trade]) -> list[dict[str, Any]]:
    """Closed rows per symbol, best net first: legs count under their own symbol as hedges
    (``leg_count``, ``hedge_net``); ``return_pct`` is the net over the margin posted."""
    rows: dict[str, tuple[Sums, list[float]]] = {}
    for t in trades:
        if t.is_open:
            continue
        s, extra = rows.setdefault(t.symbol, (Sums(), [0.0, 0.0]))
        s.add(t)
        extra[0] += t.isolated_margin
        if t.is_leg:
            extra[1] += t.net_pnl or 0.0
    out = [{"symbol": sym, **s.to_dict(), "hedge_net": hedge, "margin": margin,
            "return_pct": s.net / margin * 100 if margin > 0 else None}
           for sym, (s, (margin, hedge)) in rows.items()]
    return sorted(out, key=lambda r: (-r["net"], r["symbol"]))


# --- statistics (/stats) --------------------------------------------------------------------


@dataclass(frozen=True)
class Drawdown:
    """The deepest fall of the realised equity curve below its running peak."""

    amount: float = 0.0  # USDT, ≥ 0
    peak: float = 0.0  # the curve's value at that peak
    peak_ms: int | None = None
    trough_ms: int | None = None

    @property
    def pct(self) -> float | None:
        """The fall in % of the peak; None when the peak was not above zero."""
        return self.amount / self.peak * 100 if self.peak > 0 else None


def equity_curve(trades: Iterable[Trade]) -> list[tuple[int, float]]:
    """Cumulative net P&L after each close time (rows closed at the same ms are one step)."""
    steps: dict[int, float] = {}
    for t in trades:
        if t.closed_at is not None:
            steps[t.closed_at] = steps.get(t.closed_at, 0.0) + (t.net_pnl or 0.0)
    curve, total = [], 0.0
    for ms in sorted(steps):
        total += steps[ms]
        curve.append((ms, total))
    return curve


def max_drawdown(curve: Sequence[tuple[int, float]]) -> Drawdown:
    """The largest peak-to-trough fall in USDT; the curve starts at 0 before the first close."""
    peak, peak_ms = 0.0, None
    worst = Drawdown()
    for ms, value in curve:
        if value > peak:
            peak, peak_ms = value, ms
        elif peak - value > worst.amount:
            worst = Drawdown(peak - value, peak, peak_ms, ms)
    return worst


def _trade_ref(g: TradeGroup) -> dict[str, Any]:
    return {"id": g.main.id, "symbol": g.main.symbol, "side": g.main.side, "net": g.net,
            "legs": [leg.id for leg in g.legs]}


def statistics(trades: Sequence[Trade]) -> dict[str, Any]:
    """Win rate (a fraction 0–1), average win and loss, profit factor, best and worst trade,
    max drawdown of the realised equity curve, liquidations, totals. None where a figure
    has no meaning yet (no closed trade, no loss), with the reason in ``warnings``."""
    groups = group_trades(trades)
    closed = [g for g in groups if g.closed]
    wins = [g.net for g in closed if g.net > 0]
    losses = [g.net for g in closed if g.net < 0]
    total = sums(trades)
    dd = max_drawdown(equity_curve(trades))
    warnings = []
    if not closed:
        warnings.append("no closed trade yet")
    elif not losses:
        warnings.append("no losing trade: the profit factor is unbounded")
    if closed and dd.pct is None and dd.amount > 0:
        warnings.append("the realised equity never rose above zero: no drawdown % of a peak")
    best = max(closed, key=lambda g: (g.net, -g.main.id), default=None)
    worst = min(closed, key=lambda g: (g.net, g.main.id), default=None)
    closes = [t.closed_at for t in trades if t.closed_at is not None]
    return {
        "trades": len(closed), "wins": len(wins), "losses": len(losses),
        "draws": len(closed) - len(wins) - len(losses),
        "win_rate": len(wins) / len(closed) if closed else None,
        "average_win": sum(wins) / len(wins) if wins else None,
        "average_loss": sum(losses) / len(losses) if losses else None,
        "average_net": sum(g.net for g in closed) / len(closed) if closed else None,
        "profit_factor": sum(wins) / -sum(losses) if losses else None,
        "best_trade": _trade_ref(best) if best else None,
        "worst_trade": _trade_ref(worst) if worst else None,
        "max_drawdown": dd.amount, "max_drawdown_pct": dd.pct,
        "max_drawdown_start": dd.peak_ms, "max_drawdown_end": dd.trough_ms,
        "liquidations": total.liquidations, "legs": total.leg_count,
        "realised": total.realised, "fees": total.fees, "funding": total.funding,
        "net": total.net, "open_trades": sum(1 for g in groups if not g.closed),
        "first_close": min(closes, default=None), "last_close": max(closes, default=None),
        "warnings": warnings,
    }
