"""/connect, /balance, /sync, /disconnect and the trade views on synced trades, through the
Dispatcher with real ccxt against the fake exchanges: a trading key is refused and nothing is
stored; a read-only key is stored encrypted and its positions join the user's log; nobody else
and no group sees them."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from chat.commands.accounts import holds_secret
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from plugins.accounts.service import Accounts
from plugins.exchanges.account_access import AccountAccess
from settings import Config
from settings.logs import setup_logging
from settings.secrets import ExchangeKeys
from storage import accounts as store
from storage import trades as log
from tests.accounts.venues import KEYS, USER, venue
from tests.fakes.bybit_private import PORTFOLIO as BYBIT_PORTFOLIO
from tests.fakes.okx_private import PORTFOLIO as OKX_PORTFOLIO
from tests.telegram.conftest import registered_commands

OTHER = 8


def words(name: str) -> str:
    k = KEYS[name]
    return " ".join(x for x in (k.api_key, k.secret, k.passphrase) if x)


def key_parts(name: str) -> list[str]:
    k = KEYS[name]
    return [x for x in (k.api_key, k.secret, k.passphrase) if x]


def services(v, *, enabled: bool = True) -> Services:
    accounts = Accounts(v.db, v.vault if enabled else None,
                        AccountAccess(markets={v.name: v.market}),
                        clock=lambda: v.server.now_ms / 1000)
    cfg = Config().with_overrides(exchange={"name": v.name})
    return Services(cfg, v.db, v.market, accounts=accounts,
                    clock=lambda: v.server.now_ms / 1000)


async def ask(s: Services, text: str, user: int = USER, chat_type: str = "private"):
    ctx = CommandContext(user_id=user, chat_id=user if chat_type == "private" else -100,
                         services=s, chat_type=chat_type)
    return await Dispatcher(registered_commands()).handle(text, ctx)


def said(reply) -> str:
    return "\n".join(reply.text) + json.dumps(reply.data)


@pytest.mark.parametrize("name", ["okx", "binance", "bybit"])
async def test_a_key_that_can_trade_is_refused_and_nothing_is_stored(tmp_path, name):
    async with venue(name, tmp_path) as v:
        rights = {"okx": {"perm": "read_only,trade"}, "binance": {"enableFutures": True},
                  "bybit": {"read_only": False, "ContractTrade": ["Order"]}}[name]
        keys = KEYS[name]
        if name == "okx":
            v.server.add_key(keys.api_key, keys.secret, keys.passphrase, account=v.account,
                             **rights)
        else:
            v.server.add_key(keys.api_key, keys.secret, account=v.account, **rights)
        reply = await ask(services(v), f"/connect {name} {words(name)}")
        assert reply.kind == "usage" and "can trade" in reply.text[0]
        assert "read-only key" in reply.text[0] and "Nothing was stored" in reply.text[0]
        assert store.all_accounts(v.db) == []
        assert not any(p in said(reply) for p in key_parts(name))


async def test_connect_sync_balance_and_views_for_the_owner_only(tmp_path):
    async with venue("okx", tmp_path) as v:
        s = services(v)
        v.account.open("BTC", "long", 0.5, 60_000, v.now - 3_600_000, leverage=10)
        waiting = await ask(s, "/connect okx")
        assert waiting.data == {"exchange": "okx", "waiting_for_key": True}
        assert store.pending_connect(v.db, USER, v.now) == "okx"
        reply = await ask(s, f"/connect okx {words('okx')}")
        assert reply.ok, reply.text
        assert "Connected your okx account (single-currency margin)" in reply.text[0]
        assert store.pending_connect(v.db, USER, v.now) is None
        (t,) = log.list_trades(v.db, USER)
        assert (t.symbol, t.size, t.synced, t.account_id) == ("BTC-USDT-SWAP", 0.5, True, 1)
        assert not any(p in said(reply) for p in key_parts("okx"))

        positions = await ask(s, "/positions")
        assert "[okx, synced]" in positions.text[0]
        risk = await ask(s, "/risk")
        (r,) = risk.data["reports"]
        assert r["exchange_liquidation_price"] == pytest.approx(t.exchange_liq_price)
        assert abs(r["liquidation_diff_pct"]) < 0.1
        assert "okx's liquidation price" in "\n".join(risk.text)
        assert "at the last sync, just now" in "\n".join(risk.text)  # how old theirs is
        assert r["synced_at"] == t.synced_at and r["approximate"] is None
        balance = await ask(s, "/balance")
        (b,) = balance.data["accounts"]
        assert b["equity"] == pytest.approx(v.account.equity)
        assert b["margin_used"] is not None and b["free"] is not None
        assert "equity" in balance.text[0] and "free" in balance.text[1]

        v.account.liquidate("BTC", "long", v.now + 1_000)
        v.at(v.now + 60_000)
        synced = await ask(s, "/sync")
        (acct,) = synced.data["accounts"]
        assert acct["ok"] and acct["closed"][0]["reason"] == "liquidated"
        assert "liquidated at" in "\n".join(synced.text)

        # another user sees nothing of it; a group is refused
        other = await ask(s, "/positions", user=OTHER)
        assert other.data == {"positions": []}
        assert (await ask(s, "/balance", user=OTHER)).kind == "usage"
        for text in ("/balance", "/sync", "/positions", "/risk"):
            group = await ask(s, text, chat_type="group")
            assert group.kind == "usage" and "BTC" not in said(group), text

        status = await ask(s, "/status", chat_type="group")  # counts only, anywhere
        assert status.data["accounts"] == {"connected": 1, "failing": 0,
                                           "oldest_sync_ms": v.now}
        assert "Connected exchange accounts: 1, 0 not syncing" in "\n".join(status.text)
        assert not any(p in said(status) for p in key_parts("okx")) and "BTC" not in \
            "\n".join(status.text)

        gone = await ask(s, "/disconnect")
        assert gone.data == {"disconnected": ["okx"]} and store.all_accounts(v.db) == []
        (t,) = log.list_trades(v.db, USER)
        assert t.synced and t.account_id is None  # kept, no longer synced


@pytest.mark.parametrize("name", ["okx", "bybit"])
async def test_risk_says_our_price_is_an_estimate_in_portfolio_margin(tmp_path, name):
    mode = {"okx": OKX_PORTFOLIO, "bybit": BYBIT_PORTFOLIO}[name]
    async with venue(name, tmp_path, mode=mode) as v:
        v.account.open("ETH", "short", 20.0, 3_000, v.now - 60_000, leverage=10, mode="cross")
        assert (await ask(services(v), f"/connect {name} {words(name)}")).ok
        risk = await ask(services(v), "/risk")
        (r,) = risk.data["reports"]
        assert r["approximate"] and "portfolio margin" in r["approximate"]
        assert any(line.startswith("⚠") and "an approximation" in line for line in risk.text)
        assert r["exchange_liquidation_price"] is not None


async def test_without_the_encryption_key_connect_is_off(tmp_path):
    async with venue("okx", tmp_path) as v:
        reply = await ask(services(v, enabled=False), f"/connect okx {words('okx')}")
        assert reply.kind == "usage" and "ACCOUNT_ENCRYPTION_KEY" in reply.text[0]
        assert store.all_accounts(v.db) == []


async def test_the_key_is_never_in_the_database_file_in_clear(tmp_path):
    async with venue("okx", tmp_path) as v:
        await ask(services(v), f"/connect okx {words('okx')}")
        assert store.all_accounts(v.db)
        v.db.conn.commit()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("okx.db*"))
        for part in key_parts("okx"):
            assert part.encode() not in raw
        keys = store.load_keys(v.db, v.vault, 1)  # and it is there, encrypted
        assert (keys.api_key, keys.secret) == (KEYS["okx"].api_key, KEYS["okx"].secret)


def test_lines_with_a_key_are_recognised_for_the_console_history():
    assert holds_secret("/connect okx abc def ghi")
    assert holds_secret("connect binance k s")
    assert not holds_secret("/connect okx") and not holds_secret("/risk btc 10x")


@pytest.mark.parametrize("name", ["okx", "binance", "bybit"])
async def test_no_key_in_any_reply_or_log_line_at_debug(tmp_path, name, caplog):
    """A whole life — a mistyped secret, the right key, sync, every view, a liquidation,
    /disconnect — logged at DEBUG: no part of the key in a reply, a log record or the
    formatted log."""
    tag = uuid.uuid4().hex[:12]  # never seen before by the log masking
    keys = ExchangeKeys(f"{name}-key-{tag}", f"{name}-secret-{tag}",
                        f"{name}-pass-{tag}" if name == "okx" else None)
    parts = [p for p in (keys.api_key, keys.secret, keys.passphrase) if p]
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream, verbose=1)
    caplog.set_level(logging.DEBUG)
    replies = []
    try:
        async with venue(name, tmp_path) as v:
            v.server.add_key(*parts, account=v.account)
            v.account.open("ETH", "short", 5.0, 3_000, v.now - 60_000, leverage=20)
            s = services(v)
            wrong = " ".join([keys.api_key, f"{name}-wrong-{tag}", *parts[2:]])
            replies.append(await ask(s, f"/connect {name} {wrong}"))
            assert replies[-1].kind == "usage" and "Not connected" in replies[-1].text[0]
            replies.append(await ask(s, f"/connect {name} {' '.join(parts)}"))
            assert replies[-1].ok, replies[-1].text
            for text in ("/sync", "/balance", "/positions", "/risk", "/pnl"):
                replies.append(await ask(s, text))
            v.account.liquidate("ETH", "short", v.now + 1_000)
            v.at(v.now + 60_000)
            replies.append(await ask(s, "/sync"))
            assert replies[-1].data["accounts"][0]["closed"][0]["reason"] == "liquidated"
            replies.append(await ask(s, "/disconnect"))
    finally:
        setup_logging("INFO")
    logs = stream.getvalue() + caplog.text
    assert "DEBUG" in logs
    shown = "\n".join(said(r) for r in replies)
    for part in parts:
        assert part not in shown, "a key in a reply"
        assert part not in logs, "a key in the logs"
