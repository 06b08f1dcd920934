"""Connected accounts as the chat commands and the cycle reach them: check a key, store it,
read an account now, sync one user's or everyone's.

``vault`` is None when ``ACCOUNT_ENCRYPTION_KEY`` is not set: then nothing can be connected
(``enabled`` is False) and ``/connect`` says so; the operator's environment keys (``/account``)
work either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from plugins.accounts.sync import AccountSync, SyncResult
from plugins.exchanges.account_access import AccountAccess
from plugins.exchanges.account_liquidation import LiquidationCheck, check_liquidations
from plugins.exchanges.account_types import EXCHANGES, AccountState, KeyRights
from settings.logs import mask_key_words
from settings.secrets import ExchangeKeys
from storage import accounts as store
from storage.key_vault import KeyVault


@dataclass(frozen=True)
class AccountRead:
    """An account read now: its state and our liquidation check of each position."""

    state: AccountState
    checks: list[LiquidationCheck]


class Accounts:
    """One per running bot. ``resolve`` maps ccxt's unified symbol to the bot's market."""

    exchanges = EXCHANGES

    def __init__(self, db: Any, vault: KeyVault | None, access: AccountAccess, *,
                 resolve: Callable[[str], str | None] = lambda unified: None,
                 min_severity: str = "info", clock: Callable[[], float] = time.time) -> None:
        self.db, self.vault, self.access, self.clock = db, vault, access, clock
        self.sync = AccountSync(db, access, vault, resolve=resolve, min_severity=min_severity,
                                clock=clock)

    @property
    def enabled(self) -> bool:
        return self.vault is not None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def check_key(self, exchange: str, keys: ExchangeKeys) -> tuple[KeyRights,
                                                                          AccountRead | None]:
        """What the key may do, and (when it may only read) the account read with it."""
        mask_key_words([keys.api_key, keys.secret, keys.passphrase or ""])
        reader = self.access.reader(exchange, keys)
        try:
            rights = await reader.rights()
            if rights.refusal() is not None:
                return rights, None
            state = await reader.read(None)
        finally:
            await reader.close()
        return rights, AccountRead(state, check_liquidations(
            exchange, state.balance, state.positions, reader.market.instruments))

    def connect(self, user_id: int, exchange: str, keys: ExchangeKeys, rights: KeyRights
                ) -> store.Account:
        assert self.vault is not None
        return store.connect(self.db, self.vault, user_id=user_id, exchange=exchange,
                             keys=keys, rights=rights.detail, now_ms=self.now_ms())

    async def read(self, account: store.Account) -> AccountRead:
        """The account now (balance and positions, nothing applied to the log)."""
        assert self.vault is not None
        keys = store.load_keys(self.db, self.vault, account.id)
        reader = self.access.reader(account.exchange, keys)
        try:
            state = await reader.read(None)
        finally:
            await reader.close()
        return AccountRead(state, check_liquidations(
            account.exchange, state.balance, state.positions, reader.market.instruments))

    async def sync_user(self, user_id: int) -> list[SyncResult]:
        return await self.sync.sync_user(user_id)

    async def sync_all(self) -> list[SyncResult]:
        return await self.sync.sync_all() if self.enabled else []

    async def close(self) -> None:
        await self.access.close()
