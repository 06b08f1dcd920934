"""Funding payments of logged trades: one row per trade and funding time, summed on the trade.

Funding is received (+) or paid (−); a payment for a time already recorded changes nothing, so
a cycle or a sync can run twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlite_utils import Database

from storage.writes import write


@dataclass(frozen=True)
class FundingPayment:
    trade_id: int
    time_ms: int
    rate: float  # per funding period, positive: longs pay shorts
    price: float  # the price the position was valued at
    amount: float  # USDT received (+) or paid (−) by this trade


def funding_amount(side: str, size: float, price: float, rate: float) -> float:
    """What a position receives at one funding time: longs pay ``rate × notional`` when the
    rate is positive, shorts receive it."""
    return -(1 if side == "long" else -1) * size * price * rate


def add_funding(db: Database, trade_id: int, time_ms: int, rate: float, price: float,
                amount: float) -> bool:
    """Record one funding payment of a trade (once per funding time: a second call for the
    same time changes nothing and returns False) and add it to the trade's ``funding``."""
    if not all(math.isfinite(v) for v in (rate, price, amount)):
        raise ValueError("a funding payment must be finite")
    with write(db):
        cur = db.execute(
            "insert or ignore into funding_payments (trade_id, time_ms, rate, price, amount) "
            "values (?, ?, ?, ?, ?)", [trade_id, time_ms, rate, price, amount])
        if cur.rowcount == 0:
            return False
        db.execute("update trades set funding = coalesce(funding, 0) + ? where id = ?",
                   [amount, trade_id])
    return True


def funding_payments(db: Database, trade_id: int) -> list[FundingPayment]:
    return [FundingPayment(r["trade_id"], r["time_ms"], r["rate"], r["price"], r["amount"])
            for r in db["funding_payments"].rows_where("trade_id = ?", [trade_id],
                                                       order_by="time_ms")]


def last_funding_time(db: Database, trade_id: int) -> int | None:
    row = db.execute("select max(time_ms) from funding_payments where trade_id = ?",
                     [trade_id]).fetchone()
    return None if row is None or row[0] is None else int(row[0])
