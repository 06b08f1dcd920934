"""Keep each connected exchange account and the trade log in step: each cycle and on ``/sync``.

For every account: decrypt its key (masked in the logs from then on), read the account
(``plugins.exchanges.account_*``), judge each position's liquidation price by its exchange's
rules (``account_liquidation``), and apply the read to the log (``reconcile``): the
trades, the events applied, one critical message per liquidation (a warning per ADL) and the
account's new cursor are written in one transaction. A read that fails changes nothing in the
log; the user is told once when the account starts failing, and once when it syncs again.

A synced trade is the exchange's: while its account is connected, the cycle's candle-based
liquidation close and estimated funding skip it (``jobs.trade_truth``) — the sync closes it
with the exchange's exit, close type, fees and funding instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from i18n import _
from plugins.accounts.alerts import closed_alert, failing_alert, recovered_alert
from plugins.accounts.reconcile import Changes, Reconciler
from plugins.exchanges.account_access import AccountAccess
from plugins.exchanges.account_liquidation import LiquidationCheck, check_liquidations
from plugins.exchanges.account_reader import masked
from plugins.exchanges.account_types import AccountState
from plugins.exchanges.errors import MarketError
from storage import accounts as store
from storage import outbox
from storage.accounts import Account
from storage.key_vault import KeyVault, VaultError
from storage.synced_trades import open_synced_trades
from storage.trades import ADL, LIQUIDATED, legs_of

log = logging.getLogger(__name__)
OVERLAP_MS = 60_000  # re-read this much before the cursor: a late fill is still applied once


@dataclass
class SyncResult:
    """One account's sync: what was read, what changed in the log, or why it failed."""

    account: Account
    state: AccountState | None = None
    checks: list[LiquidationCheck] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    error: str | None = None
    alerts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class AccountSync:
    """Syncs connected accounts. ``resolve`` maps ccxt's unified symbol (BTC/USDT:USDT) to
    the bot's market's id, so a trade synced from any exchange is priced by the cycle (None:
    the exchange's own id is kept)."""

    def __init__(self, db: Any, access: AccountAccess, vault: KeyVault | None, *,
                 resolve: Callable[[str], str | None] = lambda unified: None,
                 min_severity: str = "info", clock: Callable[[], float] = time.time) -> None:
        self.db, self.access, self.vault = db, access, vault
        self.resolve, self.min_severity, self.clock = resolve, min_severity, clock

    async def sync_all(self) -> list[SyncResult]:
        return [await self.sync(a) for a in store.all_accounts(self.db)]

    async def sync_user(self, user_id: int) -> list[SyncResult]:
        return [await self.sync(a) for a in store.accounts_of(self.db, user_id)]

    async def sync(self, account: Account) -> SyncResult:
        now_ms = int(self.clock() * 1000)
        if self.vault is None:
            return SyncResult(account, error=_("ACCOUNT_ENCRYPTION_KEY is not set"))
        try:
            keys = store.load_keys(self.db, self.vault, account.id)
        except VaultError as e:
            return self._failed(account, str(e), now_ms)
        reader = self.access.reader(account.exchange, keys)
        try:
            await reader.open()
            unified = {s: reader.unified(s) for s in reader.market.instruments}
            held = {t.symbol for t in open_synced_trades(self.db, account.id)}
            state = await reader.read(account.cursor, [
                s for s in unified if (self.resolve(unified[s]) or s) in held])
            checks = check_liquidations(account.exchange, state.balance, state.positions,
                                        reader.market.instruments)
            log.debug("account %s (%s): %d position(s), %d fill(s), %d funding payment(s) "
                      "since %s", account.id, account.exchange, len(state.positions),
                      len(state.fills), len(state.funding), account.cursor)
        except (MarketError, KeyError, ValueError) as e:
            return self._failed(account, masked(str(e), keys)[:300] or type(e).__name__,
                                now_ms)
        finally:
            await reader.close()

        def local(symbol: str) -> str:
            return self.resolve(unified.get(symbol, symbol)) or symbol

        def fee_rate(symbol: str) -> float:
            inst = reader.market.instruments.get(symbol)
            return inst.taker_fee if inst is not None else 0.0005

        with outbox.immediate(self.db):
            changes = Reconciler(self.db, account, local=local, fee_rate=fee_rate,
                                 now_ms=now_ms).apply(state, checks)
            alerts = [closed_alert(t, exchange=account.exchange,
                                   open_legs=legs_of(self.db, t.user_id, t.id),
                                   data_age_ms=max(0, now_ms - state.server_time))
                      for t in changes.closed if t.close_reason in (LIQUIDATED, ADL)]
            if account.failing:
                alerts.append(recovered_alert(account, account.error_since or now_ms, now_ms))
            recorded = outbox.record_alerts(self.db, alerts, now_ms=now_ms,
                                            min_severity=self.min_severity)
            cursor = state.server_time - OVERLAP_MS if account.cursor is not None \
                else state.server_time
            store.mark_synced(self.db, account.id, cursor=max(cursor, account.cursor or 0),
                              now_ms=now_ms, mode=state.balance.mode)
        for t in changes.closed:
            log.info("account %s: trade #%s %s closed (%s) at %s", account.id, t.id, t.symbol,
                     t.close_reason, t.exit_price)
        return SyncResult(store.get_account(self.db, account.id) or account, state, checks,
                          changes, alerts=len(recorded))

    def _failed(self, account: Account, error: str, now_ms: int) -> SyncResult:
        log.warning("account %s (%s, user %s) not synced: %s", account.id, account.exchange,
                    account.user_id, error)
        with outbox.immediate(self.db):
            first = store.mark_failed(self.db, account.id, error, now_ms)
            alerts = [failing_alert(account, error, now_ms)] if first else []
            outbox.record_alerts(self.db, alerts, now_ms=now_ms, min_severity=self.min_severity)
        return SyncResult(store.get_account(self.db, account.id) or account, error=error,
                          alerts=len(alerts))
