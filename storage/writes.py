"""Every write transaction goes through ``write(db)``: it takes the write lock up front
(``BEGIN IMMEDIATE``) and, when another writer holds it past ``busy_timeout``, tries again
with backoff (tenacity) instead of failing — the body itself runs once, so nothing is written
twice. A write that still fails is classified (``fault_kind``: the database stayed locked,
the disk is full, the file is read-only, an I/O error) and remembered per database
(``current_fault``) for ``/status`` and the heartbeat, until a write succeeds again.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from sqlite_utils import Database
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from i18n import N_, _, ngettext

log = logging.getLogger(__name__)

LOCKED, FULL, READ_ONLY, IO_ERROR, CANT_OPEN = ("locked", "disk full", "read-only",
                                                 "I/O error", "cannot open")
# SQLite's primary result codes (the low byte of ``sqlite_errorcode``)
_KINDS = {5: LOCKED, 6: LOCKED, 13: FULL, 8: READ_ONLY, 10: IO_ERROR, 14: CANT_OPEN}
_WORDS = {LOCKED: N_("the database is locked by another writer"),
          FULL: N_("the disk is full"), READ_ONLY: N_("the database file is read-only"),
          IO_ERROR: N_("the disk gives I/O errors"),
          CANT_OPEN: N_("the database file cannot be opened (is its folder writable?)")}


@dataclass(frozen=True)
class WritePolicy:
    """How often and how patiently a locked write is tried (after ``busy_timeout`` each)."""

    attempts: int = 5
    initial_s: float = 0.05
    max_s: float = 2.0


POLICY = WritePolicy()


def fault_kind(exc: BaseException) -> str | None:
    """``LOCKED``, ``FULL``, ``READ_ONLY``, ``IO_ERROR`` or ``CANT_OPEN`` for a storage
    fault, else None (a bug such as a constraint or a syntax error is not a disk fault)."""
    if isinstance(exc, OSError):  # the file system itself (e.g. creating the folder)
        return (READ_ONLY if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
                else FULL if exc.errno in (errno.ENOSPC, errno.EFBIG) else IO_ERROR)
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _KINDS:
        return _KINDS[code & 0xFF]
    text = str(exc).lower()  # some drivers and paths lose the code
    for words, kind in (("locked", LOCKED), ("busy", LOCKED), ("full", FULL),
                        ("readonly", READ_ONLY), ("read-only", READ_ONLY),
                        ("disk i/o", IO_ERROR), ("unable to open", CANT_OPEN)):
        if words in text:
            return kind
    return None


def describe_fault(exc: BaseException) -> str:
    """One line for an operator: what is wrong with the storage, and SQLite's words."""
    kind = fault_kind(exc)
    words = _(_WORDS[kind]) if kind in _WORDS else _("the database failed")
    return _("{fault} ({error})").format(fault=words, error=exc)


@dataclass(frozen=True)
class StorageFault:
    kind: str  # LOCKED, FULL, READ_ONLY, IO_ERROR
    message: str
    since_ms: int
    held_alerts: int = 0  # alerts kept in memory until a write succeeds again

    def text(self) -> str:
        fault = _(_WORDS[self.kind])
        if not self.held_alerts:
            return _("{fault}: {error}").format(fault=fault, error=self.message)
        return ngettext("{fault}: {error}; {n} alert kept in memory until it recovers",
                        "{fault}: {error}; {n} alerts kept in memory until it recovers",
                        self.held_alerts).format(fault=fault, error=self.message,
                                                 n=self.held_alerts)


# id(connection) -> (connection, fault). The connection is kept so its id is not reused
# while the entry lives; entries go when a write succeeds again.
_faults: dict[int, tuple[sqlite3.Connection, StorageFault]] = {}
_held: dict[tuple[int, str], int] = {}  # (id(connection), holder) -> alerts kept in memory


def current_fault(db: Database) -> StorageFault | None:
    """The storage fault of ``db``'s last write (None when it succeeded), with the alerts
    every holder keeps in memory meanwhile."""
    entry = _faults.get(id(db.conn))
    if entry is None:
        return None
    held = sum(n for (conn, _), n in _held.items() if conn == id(db.conn))
    return replace(entry[1], held_alerts=held)


def note_held(db: Database, holder: str, held: int) -> None:
    """Record how many alerts ``holder`` (a cycle) keeps in memory because they could not
    be written."""
    if held:
        _held[(id(db.conn), holder)] = held
    else:
        _held.pop((id(db.conn), holder), None)


def _noted(db: Database, exc: BaseException | None) -> None:
    if exc is None:
        if _faults.pop(id(db.conn), None) is not None:
            log.warning("storage recovered: writes succeed again")
        return
    kind = fault_kind(exc)
    if kind is None:
        return
    old = _faults.get(id(db.conn))
    since = old[1].since_ms if old and old[1].kind == kind else int(time.time() * 1000)
    _faults[id(db.conn)] = (db.conn, StorageFault(kind, str(exc), since))


def _is_locked(exc: BaseException) -> bool:
    return fault_kind(exc) == LOCKED


def _say_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("database locked (%s): write attempt %d, trying again", exc,
                state.attempt_number)


def _retrying(step: Callable[[], Any], policy: WritePolicy) -> None:
    retrying = Retrying(retry=retry_if_exception(_is_locked),
                        stop=stop_after_attempt(policy.attempts),
                        wait=wait_exponential_jitter(multiplier=policy.initial_s,
                                                     max=policy.max_s,
                                                     jitter=policy.initial_s),
                        before_sleep=_say_retry, reraise=True)
    retrying(step)


@contextlib.contextmanager
def write(db: Database, policy: WritePolicy | None = None) -> Iterator[Database]:
    """One write transaction; inside another it is a savepoint of that one.

    ``BEGIN IMMEDIATE`` and ``COMMIT`` are retried while the database is locked (each
    attempt already waits ``busy_timeout``); any other error rolls back and propagates.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    policy = policy or POLICY
    try:
        _retrying(lambda: db.conn.execute("BEGIN IMMEDIATE"), policy)
    except sqlite3.Error as e:
        _noted(db, e)
        raise
    try:
        yield db
        _retrying(lambda: db.conn.execute("COMMIT"), policy)
    except BaseException as e:
        if db.conn.in_transaction:
            db.conn.rollback()
        _noted(db, e)
        raise
    _noted(db, None)
