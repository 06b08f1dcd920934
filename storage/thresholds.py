"""Per-chat alert thresholds (``/threshold``): what counts as alert-worthy for this chat, or
for this user when set in their private chat, instead of the config's global values.

A value is stored as text per (chat, alert kind, name): ``liquidation``/``distance`` (%),
``liquidation``/``prob`` (a fraction), ``cascade``/``level`` (a level name). A chat without a
row uses the config's value.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage.writes import write


def chat_thresholds(db: Database, chat_id: int) -> dict[tuple[str, str], str]:
    """This chat's thresholds by (kind, name)."""
    return {(r["kind"], r["name"]): r["value"]
            for r in db["thresholds"].rows_where("chat_id = ?", [chat_id])}


def thresholds_of(db: Database, kind: str, name: str) -> dict[int, str]:
    """Every chat's value of one threshold, by chat id."""
    return {int(r["chat_id"]): r["value"] for r in db["thresholds"].rows_where(
        "kind = ? and name = ?", [kind, name])}


def set_threshold(db: Database, chat_id: int, kind: str, name: str, value: str, *,
                  now_ms: int) -> None:
    with write(db):
        db.execute("insert into thresholds (chat_id, kind, name, value, updated_at) "
                   "values (?, ?, ?, ?, ?) on conflict(chat_id, kind, name) do update set "
                   "value = excluded.value, updated_at = excluded.updated_at",
                   [chat_id, kind, name, value, now_ms])


def clear_thresholds(db: Database, chat_id: int, kind: str | None = None) -> int:
    """Back to the config's values (one kind's, or all); returns how many were cleared."""
    with write(db):
        where, params = ("chat_id = ?", [chat_id]) if kind is None else \
            ("chat_id = ? and kind = ?", [chat_id, kind])
        n = db.execute(f"select count(*) from thresholds where {where}", params).fetchone()[0]
        db.execute(f"delete from thresholds where {where}", params)
    return int(n)


def liquidation_thresholds(db: Database) -> dict[int, dict[str, float]]:
    """Every user's own liquidation thresholds (set in their private chat, whose id is the
    user's): ``{"prob": 0.2, "distance": 5.0}``, either may be missing."""
    out: dict[int, dict[str, float]] = {}
    for name in ("prob", "distance"):
        for chat_id, value in thresholds_of(db, "liquidation", name).items():
            out.setdefault(chat_id, {})[name] = float(value)
    return out
