"""``/export``: the trade log as CSV, one row per trade and per hedge leg.

Numbers are written exactly (Python's shortest round-trip form), times as ISO 8601 in UTC,
an empty cell where there is no value. Nothing is escaped but what CSV itself needs (the
``csv`` module quotes commas, quotes and line breaks); a text cell that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return — a
note such as ``=HYPERLINK(...)``) gets a leading ``'``, as OWASP advises against CSV
injection. UTF-8, RFC 4180 line ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from typing import Any

from chat.trade_metrics import group_trades
from storage.trades import Trade

COLUMNS = ("id", "parent_id", "exchange", "symbol", "side", "size", "entry", "exit_price",
           "leverage", "margin_mode", "margin", "opened_at", "closed_at", "close_reason",
           "fees", "funding", "funding_payments", "realised_pnl", "net_pnl", "note")
TEXT_COLUMNS = frozenset({"exchange", "symbol", "side", "margin_mode", "close_reason", "note"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso_utc(ms: int | None) -> str | None:
    """``2026-03-01T08:00:00.000Z`` for a Unix time in ms; None for None."""
    if ms is None:
        return None
    when = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def safe_text(value: str) -> str:
    """A text cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def export_rows(trades: Iterable[Trade], funding_counts: Mapping[int, int]
                ) -> list[dict[str, Any]]:
    """One dict per trade and leg (each main followed by its legs), keys ``COLUMNS``."""
    out = []
    for group in group_trades(trades):
        for t in group.rows:
            out.append({
                "id": t.id, "parent_id": t.parent_id, "exchange": t.exchange,
                "symbol": t.symbol, "side": t.side, "size": t.size, "entry": t.entry,
                "exit_price": t.exit_price, "leverage": t.leverage,
                "margin_mode": t.margin_mode, "margin": t.isolated_margin,
                "opened_at": iso_utc(t.opened_at), "closed_at": iso_utc(t.closed_at),
                "close_reason": t.close_reason, "fees": t.fees, "funding": t.funding,
                "funding_payments": funding_counts.get(t.id, 0),
                "realised_pnl": t.realised_pnl, "net_pnl": t.net_pnl, "note": t.note})
    return out


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in TEXT_COLUMNS:
        return safe_text(str(value))
    return repr(value) if isinstance(value, float) else str(value)


def to_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The rows as CSV bytes (UTF-8), with a header of ``COLUMNS``."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(c, row.get(c)) for c in COLUMNS])
    return buf.getvalue().encode("utf-8")
