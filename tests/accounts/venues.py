"""A connected exchange account under test: a fake exchange (OKX, Binance or Bybit) with a
ledger behind a user's read-only key, the market source real ccxt reads it through, a SQLite
trade log, and the sync between them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from plugins.accounts.sync import AccountSync
from plugins.exchanges.account_access import AccountAccess
from plugins.exchanges.ccxt_market import BinanceMarket, BybitMarket, OkxMarket
from settings.config import ExchangeConfig
from settings.secrets import ExchangeKeys
from storage import accounts as store
from storage import open_database
from storage.key_vault import KeyVault
from tests.fakes.binance_bybit import FakeBinance, FakeBybit
from tests.fakes.bybit_private import ISOLATED
from tests.fakes.exchange_account import FakeAccount
from tests.fakes.okx_server import FakeOkx

USER = 7
KEYS = {"okx": ExchangeKeys("okx-u7-key-A1b2C3", "okx-u7-secret-D4e5F6", "okx-u7-pass-G7h8"),
        "binance": ExchangeKeys("bnc-u7-key-J9k8L7", "bnc-u7-secret-M6n5P4"),
        "bybit": ExchangeKeys("byb-u7-key-Q3r2S1", "byb-u7-secret-T0u9V8")}
VENUES = ("okx", "binance", "bybit")


@dataclass
class Venue:
    """One exchange with one user's account on it, synced into ``db``."""

    name: str
    server: Any
    market: Any
    account: FakeAccount
    db: Any
    vault: KeyVault
    sync: AccountSync

    def symbol(self, base: str) -> str:
        return f"{base}-USDT-SWAP" if self.name == "okx" else f"{base}USDT"

    @property
    def now(self) -> int:
        return int(self.server.now_ms)

    def at(self, ms: int) -> None:
        """Move the exchange's clock."""
        if self.name == "okx":
            self.server.set_time(ms)
        else:
            self.server.now_ms = ms

    def connect(self, user_id: int = USER) -> store.Account:
        return store.connect(self.db, self.vault, user_id=user_id, exchange=self.name,
                             keys=KEYS[self.name], rights="read only", now_ms=self.now)

    async def run(self) -> list[Any]:
        """One sync of every account, the exchange's clock moved past what happened."""
        self.at(self.now + 60_000)
        return await self.sync.sync_all()


def _server(name: str, bases: list[str]) -> Any:
    return {"okx": lambda: FakeOkx(bases=bases), "binance": lambda: FakeBinance(bases=bases),
            "bybit": lambda: FakeBybit(bases=bases)}[name]()


@contextlib.asynccontextmanager
async def venue(name: str, tmp_path: Path, *, bases: list[str] | None = None,
                wallet: float = 50_000.0, mode: str | None = None,
                resolve: Any = None) -> AsyncIterator[Venue]:
    """A running fake of ``name`` with a funded account behind ``KEYS[name]``."""
    bases = bases or ["BTC", "ETH", "SOL"]
    async with _server(name, bases) as srv:
        keys = KEYS[name]
        if name == "okx":
            acct = srv.new_account(mode or "2", wallet=wallet)
            srv.add_key(keys.api_key, keys.secret, keys.passphrase, account=acct)
            market_class: Any = OkxMarket
        elif name == "binance":
            acct = srv.new_account(wallet=wallet)
            srv.add_key(keys.api_key, keys.secret, account=acct)
            market_class = BinanceMarket
        else:
            acct = srv.new_account(mode or ISOLATED, wallet=wallet)
            srv.add_key(keys.api_key, keys.secret, account=acct)
            market_class = BybitMarket
        market = market_class(ExchangeConfig.model_validate(
            {"api_url": srv.url, "symbols": ["BTC", "ETH"], "timeout": "2s",
             "max_retries": 1}), backoff_s=0.01)
        db = open_database(tmp_path / f"{name}.db")
        vault = KeyVault(Fernet.generate_key().decode())
        access = AccountAccess(markets={name: market})
        sync = AccountSync(db, access, vault, resolve=resolve or (lambda unified: None),
                           clock=lambda: srv.now_ms / 1000)
        try:
            yield Venue(name, srv, market, acct, db, vault, sync)
        finally:
            await access.close()
            await market.close()
            db.close()
