"""Connected exchange accounts: one per user and exchange, the read-only key kept encrypted
(``storage.key_vault``), with how its last sync went; and the ``/connect`` that waits for a
user's key.

Nothing here ever holds a key in clear except ``load_keys``'s return value, which is masked in
the logs from the moment it is decrypted. ``Account`` carries no key material at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from settings.secrets import ExchangeKeys
from storage.key_vault import KeyVault
from storage.writes import write

CONNECT_TTL_MS = 10 * 60_000  # a /connect waits this long for the key


@dataclass(frozen=True)
class Account:
    id: int
    user_id: int
    exchange: str
    created_at: int
    rights: str | None = None  # what the exchange said the key may do, when it was checked
    mode: str | None = None  # the account's margin mode at the last sync
    synced_at: int | None = None  # our clock, last successful sync
    cursor: int | None = None  # the exchange's clock: events after it are not applied yet
    last_error: str | None = None
    error_since: int | None = None

    @property
    def failing(self) -> bool:
        return self.error_since is not None


def _account(row: dict[str, Any]) -> Account:
    return Account(row["id"], row["user_id"], row["exchange"], row["created_at"],
                   row.get("rights"), row.get("mode"), row.get("synced_at"), row.get("cursor"),
                   row.get("last_error"), row.get("error_since"))


def connect(db: Database, vault: KeyVault, *, user_id: int, exchange: str, keys: ExchangeKeys,
            rights: str, now_ms: int) -> Account:
    """Store the user's key for ``exchange`` (encrypted), replacing an older one; the sync
    starts from now."""
    token = vault.encrypt(keys)
    with write(db):
        found = list(db.table("accounts").rows_where("user_id = ? and exchange = ?",
                                               [user_id, exchange]))
        values = {"keys": token, "rights": rights, "created_at": now_ms, "last_error": None,
                  "error_since": None}
        if found:
            db.table("accounts").update(found[0]["id"], values)
            account_id = int(found[0]["id"])
        else:
            table = db.table("accounts")
            table.insert({"user_id": user_id, "exchange": exchange, **values})
            account_id = int(table.last_pk or 0)
        db.execute("delete from connect_requests where user_id = ?", [user_id])
    acct = get_account(db, account_id)
    assert acct is not None
    return acct


def disconnect(db: Database, user_id: int, exchange: str | None = None) -> list[str]:
    """Delete the user's key for ``exchange`` (every exchange when None); returns the
    exchanges disconnected. Their synced trades stay in the log, no longer synced."""
    where = "user_id = ?" + (" and exchange = ?" if exchange else "")
    params: list[Any] = [user_id] + ([exchange] if exchange else [])
    with write(db):
        rows = list(db.table("accounts").rows_where(where, params))
        for r in rows:
            db.execute("update trades set account_id = null where account_id = ?", [r["id"]])
            db.execute("delete from synced_events where account_id = ?", [r["id"]])
            db.table("accounts").delete(r["id"])
    return sorted(r["exchange"] for r in rows)


def get_account(db: Database, account_id: int) -> Account | None:
    rows = list(db.table("accounts").rows_where("id = ?", [account_id]))
    return _account(rows[0]) if rows else None


def accounts_of(db: Database, user_id: int) -> list[Account]:
    return [_account(r) for r in db.table("accounts").rows_where("user_id = ?", [user_id],
                                                           order_by="exchange")]


def all_accounts(db: Database) -> list[Account]:
    return [_account(r) for r in db.table("accounts").rows_where(order_by="id")]


def sync_counts(db: Database) -> dict[str, int | None]:
    """How many accounts are connected, how many fail to sync, and the oldest last sync
    among them (for ``/status``: counts only, nobody's account or key)."""
    n, failing, oldest = db.execute(
        "select count(*), count(error_since), min(coalesce(synced_at, created_at)) "
        "from accounts").fetchone()
    return {"connected": int(n), "failing": int(failing),
            "oldest_sync_ms": None if oldest is None else int(oldest)}


def load_keys(db: Database, vault: KeyVault, account_id: int) -> ExchangeKeys:
    """The account's key, decrypted (and masked in the logs from now on)."""
    row = db.table("accounts").get(account_id)
    return vault.decrypt(str(row["keys"]))


def mark_synced(db: Database, account_id: int, *, cursor: int, now_ms: int,
                mode: str | None) -> None:
    db.table("accounts").update(account_id, {"cursor": cursor, "synced_at": now_ms, "mode": mode,
                                       "last_error": None, "error_since": None})


def mark_failed(db: Database, account_id: int, error: str, now_ms: int) -> bool:
    """Record a failed sync; True when the account was fine until now (tell the user once)."""
    acct = get_account(db, account_id)
    if acct is None:
        return False
    db.table("accounts").update(account_id, {"last_error": error[:300],
                                       "error_since": acct.error_since or now_ms})
    return acct.error_since is None


def request_connect(db: Database, user_id: int, exchange: str, now_ms: int) -> None:
    """The user asked to connect ``exchange``: their next message is the key."""
    db.table("connect_requests").upsert({"user_id": user_id, "exchange": exchange,
                                   "expires_at": now_ms + CONNECT_TTL_MS}, pk="user_id")


def pending_connect(db: Database, user_id: int, now_ms: int) -> str | None:
    """The exchange a ``/connect`` of the user waits for a key for, None when none (or it
    expired)."""
    row = db.execute("select exchange, expires_at from connect_requests where user_id = ?",
                     [user_id]).fetchone()
    return str(row[0]) if row is not None and int(row[1]) > now_ms else None


def cancel_connect(db: Database, user_id: int) -> None:
    db.execute("delete from connect_requests where user_id = ?", [user_id])
