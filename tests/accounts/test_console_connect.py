"""/connect in the console, composed as ``bot.py console`` composes it (``build_runtime`` with
``ACCOUNT_ENCRYPTION_KEY``), real ccxt against the fake OKX: after ``/connect okx`` the next
line is the key — never read as a command, never echoed, never left in the readline history."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet

from chat.console import run_console
from runtime import build_runtime
from settings import Config
from settings.secrets import Secrets
from storage import accounts as store
from storage import open_database
from storage import trades as log
from tests.fakes.okx_server import FakeOkx

KEY = ("5a8f1c2e-9b7d-4e3a-8c6f-0d1e2f3a4b5c", "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
       "Console-Pass-77")
LOCAL_USER = 0


@pytest.fixture
def okx():
    srv = FakeOkx(bases=["BTC", "ETH"])
    srv.start_in_thread()
    try:
        acct = srv.new_account(wallet=20_000)
        acct.open("BTC", "long", 0.5, srv.market.price("BTC", srv.now_ms), srv.now_ms - 60_000,
                  leverage=10)
        srv.add_key(*KEY, account=acct)
        yield srv
    finally:
        srv.stop_thread()


def test_the_line_after_connect_is_the_key_and_stays_out_of_history(tmp_path, okx):
    readline = pytest.importorskip("readline")
    config = Config().with_overrides(
        exchange={"name": "okx", "api_url": okx.url, "symbols": ["BTC", "ETH"],
                  "timeout": "2s", "max_retries": 1},
        storage={"path": str(tmp_path / "hw.db")})
    rt = build_runtime(config, Secrets(account_key=Fernet.generate_key().decode()),
                       entry_points=False)
    key_line = " ".join(KEY)
    readline.clear_history()
    readline.add_history("/connect okx")
    readline.add_history(key_line)  # as an interactive console would have recorded it
    out = io.StringIO()
    lines = ["/connect okx", key_line, "positions", "/connect okx", "risk btc long 1 10x"]
    assert run_console(rt, stdin=io.StringIO("\n".join(lines) + "\n"), out=out) == 0
    said = out.getvalue()
    assert "I keep that line out of the console's history" in said
    assert "Connected your okx account" in said and "[okx, synced]" in said
    assert "I don't know" not in said  # the key was not taken for a command
    # a command typed while a key is awaited is a command (here /risk), not a key
    assert "Liquidation" in said.split("Changed your mind? Send /cancel.")[-1]
    history = [readline.get_history_item(i)
               for i in range(1, readline.get_current_history_length() + 1)]
    assert history == ["/connect okx"]
    assert not any(part in said for part in KEY)
    db = open_database(config.storage.path)
    (account,) = store.all_accounts(db)
    assert account.user_id == LOCAL_USER and account.exchange == "okx"
    (trade,) = log.list_trades(db, LOCAL_USER)
    assert trade.synced and trade.symbol == "BTC-USDT-SWAP"
