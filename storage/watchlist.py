"""What the watch loop watches: every open trade across users, with its chosen strategy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.trades import Trade, _trade


@dataclass(frozen=True)
class WatchedTrade:
    trade: Trade
    strategy: str  # the trade's own choice, else the user's, else the config default


def open_trades(db: Database, default_strategy: str) -> list[WatchedTrade]:
    """Every open trade, oldest first, with the strategy its owner chose."""
    rows = db.execute(
        "select t.*, coalesce(t.strategy, u.strategy) as chosen from trades t "
        "left join users u on u.id = t.user_id where t.closed_at is null order by t.id"
    ).fetchall()
    cols = [c.name for c in db["trades"].columns] + ["chosen"]
    out = []
    for row in rows:
        d = dict(zip(cols, row, strict=True))
        out.append(WatchedTrade(_trade(d), d["chosen"] or default_strategy))
    return out
