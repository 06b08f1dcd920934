"""/connect on Telegram, through the real PTB application and the fake Bot API, real ccxt
against the fake OKX: the message holding a key is deleted at once; a key that can trade is
refused; a read-only key is connected; the key is in no reply, no log line at DEBUG and not in
clear in the database file; a group never runs it, and nobody else sees the account."""

from __future__ import annotations

import io
import logging

import pytest
from cryptography.fernet import Fernet

from plugins.accounts.service import Accounts
from plugins.exchanges.account_access import AccountAccess
from plugins.exchanges.ccxt_market import OkxMarket
from settings.config import ExchangeConfig
from settings.logs import setup_logging
from storage import accounts as store
from storage import trades as log
from storage.key_vault import KeyVault
from tests.fakes.okx_server import FakeOkx
from tests.telegram.conftest import FIXED_NOW, running_bot

TRADER, OTHER, NOSY, GROUP = 7, 8, 9, -100777
# shaped like OKX's: a UUID key, a 32-hex secret, a passphrase the trader chose
KEY = ("7c9e6679-7425-40de-944b-e07fc1f90ae7", "A1B2C3D4E5F60718293A4B5C6D7E8F90",
       "Hedge-Pass-2026")
TRADING = ("0f8fad5b-d9cb-469f-a165-70867728950e", "FEDCBA98765432100123456789ABCDEF",
           "Mallory!Pass7")
SECRETS = (*KEY, *TRADING)


@pytest.fixture
async def okx():
    async with FakeOkx(bases=["BTC", "ETH"]) as srv:
        acct = srv.new_account(wallet=20_000)
        acct.open("BTC", "long", 0.5, 60_000, srv.now_ms - 3_600_000, leverage=10)
        srv.add_key(*KEY, account=acct)
        srv.add_key(*TRADING, perm="read_only,trade", account=srv.new_account())
        market = OkxMarket(ExchangeConfig.model_validate(
            {"api_url": srv.url, "symbols": ["BTC", "ETH"], "timeout": "2s",
             "max_retries": 1}), backoff_s=0.01)
        try:
            yield srv, market
        finally:
            await market.close()


def accounts_with(market):
    vault = KeyVault(Fernet.generate_key().decode())
    return lambda db: Accounts(db, vault, AccountAccess(markets={"okx": market}),
                               clock=lambda: FIXED_NOW)


def text_of(messages) -> str:
    return "\n".join(m.visible_text for m in messages)


async def send(bot, chat: int, user: int, text: str, chat_type: str = "private"):
    """Inject a message; returns (its message id, what the bot sent while handling it)."""
    before = len(bot.tg.messages)
    update = bot.tg.inject_message(chat, user, text, chat_type)
    await bot.handled(update)
    return update["message"]["message_id"], bot.tg.messages[before:]


async def test_connect_deletes_the_key_message_and_keeps_the_key_secret(tmp_path, okx, caplog):
    _srv, market = okx
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream, verbose=1)
    caplog.set_level(logging.DEBUG)
    try:
        async with running_bot(tmp_path, market, accounts=accounts_with(market)) as bot:
            for user in (TRADER, OTHER, NOSY):
                await bot.say("/start", chat=user)
            asked = await bot.say("/connect okx", chat=TRADER)
            assert "KEY SECRET PASSPHRASE" in text_of(asked)

            msg_id, answer = await send(bot, TRADER, TRADER, " ".join(KEY))
            assert (TRADER, msg_id) in bot.tg.deleted  # gone before anything else
            said = text_of(answer)
            assert "I deleted your message with the key" in said
            assert "Connected your okx account" in said and "#1 BTC-USDT-SWAP long 0.5" in said
            (t,) = log.list_trades(bot.db, TRADER)
            assert t.synced and t.exchange == "okx"

            # a key that can trade, sent in one go: deleted, refused, nothing stored
            msg_id, answer = await send(bot, NOSY, NOSY, "/connect okx " + " ".join(TRADING))
            assert (NOSY, msg_id) in bot.tg.deleted
            assert "can trade" in text_of(answer) and "Nothing was stored" in text_of(answer)
            assert [a.user_id for a in store.all_accounts(bot.db)] == [TRADER]

            # in a group a key is never used: deleted (the bot is an admin there), warned
            bot.tg.set_admins(GROUP, [bot.tg.bot_id, TRADER])
            msg_id, answer = await send(bot, GROUP, TRADER, "/connect okx " + " ".join(KEY),
                                        "supergroup")
            assert (GROUP, msg_id) in bot.tg.deleted
            assert [m.chat_id for m in answer] == [GROUP]
            assert "Never post an API key in a group" in text_of(answer)
            assert len(store.all_accounts(bot.db)) == 1

            # nobody else and no group sees the trader's positions
            theirs = await bot.say("/positions", chat=OTHER)
            assert "BTC" not in text_of(theirs)
            asked_in_group = await bot.say("/positions", chat=GROUP, user=OTHER)
            assert "BTC" not in text_of(m for m in asked_in_group if m.chat_id == GROUP)
            assert "BTC" not in text_of(m for m in asked_in_group if m.chat_id != TRADER)
            balance = await bot.say("/balance", chat=GROUP, user=TRADER)
            assert "equity" not in text_of(m for m in balance if m.chat_id == GROUP)

            # a key-shaped message without a /connect is deleted too
            msg_id, answer = await send(bot, OTHER, OTHER, "my key " + TRADING[0])
            assert (OTHER, msg_id) in bot.tg.deleted and "looked like an API key" in \
                text_of(answer)

            everything = text_of(bot.tg.messages)
            kept = " ".join(str(m) for m in bot.tg._stored.values())
            bot.db.conn.commit()
            raw = b"".join(p.read_bytes() for p in tmp_path.glob("hw.db*"))
    finally:
        setup_logging("INFO")
    logs = stream.getvalue() + caplog.text
    assert "DEBUG" in logs  # the run was logged at DEBUG
    for secret in SECRETS:
        assert secret not in everything, "a key in a reply"
        assert secret not in kept, "a key message left in the chat"
        assert secret.encode() not in raw, "a key in clear in the database file"
        assert secret not in logs, "a key in the logs"
