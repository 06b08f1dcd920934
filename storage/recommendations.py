"""Each logged trade's hedge recommendation per cycle, with the strategy's state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True)
class Recommendation:
    trade_id: int
    strategy: str
    created_at: int
    legs: list[tuple[str, str, float]]  # (symbol, side, size)
    reason: str
    state: dict[str, Any]
    trade: bool
    data_time: int | None = None


def _rec(row: dict[str, Any]) -> Recommendation:
    return Recommendation(row["trade_id"], row["strategy"], row["created_at"],
                          [tuple(x) for x in json.loads(row["legs"] or "[]")],
                          row["reason"] or "", json.loads(row["state"] or "{}"),
                          bool(row["trade"]), row["data_time"])


def latest(db: Database, trade_id: int, strategy: str) -> Recommendation | None:
    rows = list(db["recommendations"].rows_where(
        "trade_id = ? and strategy = ?", [trade_id, strategy], order_by="id desc", limit=1))
    return _rec(rows[0]) if rows else None


def latest_many(db: Database, trade_ids: list[int]) -> dict[tuple[int, str], Recommendation]:
    """The newest recommendation of every (trade, strategy) among ``trade_ids``."""
    if not trade_ids:
        return {}
    marks = ",".join("?" * len(trade_ids))
    rows = db.execute(
        f"select r.* from recommendations r join (select trade_id, strategy, max(id) as id "
        f"from recommendations where trade_id in ({marks}) group by trade_id, strategy) m "
        f"on r.id = m.id", trade_ids).fetchall()
    cols = [c.name for c in db["recommendations"].columns]
    out = {}
    for row in rows:
        rec = _rec(dict(zip(cols, row, strict=True)))
        out[(rec.trade_id, rec.strategy)] = rec
    return out


def record_many(db: Database, recs: list[Recommendation]) -> None:
    """Write a cycle's recommendations in one transaction."""
    with db.atomic():
        db["recommendations"].insert_all(
            {"trade_id": r.trade_id, "strategy": r.strategy, "created_at": r.created_at,
             "legs": json.dumps(r.legs), "reason": r.reason, "state": json.dumps(r.state),
             "trade": int(r.trade), "data_time": r.data_time} for r in recs)
