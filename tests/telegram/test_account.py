"""/account on Telegram, through the real PTB application, the fake Bot API and real ccxt
against the fake OKX: the operator ([telegram] admins) gets the account privately, even when
asking in a group; anyone else gets a refusal and the account is never read for them."""

from __future__ import annotations

import pytest

from plugins.exchanges.ccxt_market import OkxMarket
from settings.config import ExchangeConfig
from tests.chat.test_account_command import KEY_PARTS, KEYS, okx_position
from tests.fakes.okx_market import default_bases
from tests.fakes.okx_server import FakeOkx
from tests.telegram.conftest import running_bot

OPERATOR, STRANGER, GROUP = 7, 8, -100500


@pytest.fixture
async def okx_market():
    async with FakeOkx(bases=default_bases(4)) as okx:
        okx.add_key(*KEY_PARTS)
        okx.account_perm = "read_only,trade"
        okx.positions = [okx_position("BTC-USDT-SWAP", 50, "long", 60_000, 10, "isolated",
                                      3_000, 54_500)]
        ex = ExchangeConfig.model_validate({"api_url": okx.url, "symbols": ["BTC", "ETH"],
                                            "timeout": "2s", "max_retries": 1})
        market = OkxMarket(ex, secrets=KEYS, backoff_s=0.01)
        try:
            yield okx, market
        finally:
            await market.close()


def text(messages) -> str:
    return "\n".join(m.visible_text for m in messages)


async def test_the_operator_gets_the_account_privately_and_others_get_nothing(
        tmp_path, okx_market):
    okx, market = okx_market
    async with running_bot(tmp_path, market, admins=[OPERATOR]) as bot:
        await bot.say("/start", chat=OPERATOR)
        await bot.say("/start", chat=STRANGER)
        mine = await bot.say("/account", chat=OPERATOR)
        assert all(m.chat_id == OPERATOR for m in mine)
        said = text(mine)
        assert "BTC-USDT-SWAP long 0.5" in said and "Exchange's liquidation price 54,500" in said
        assert "can TRADE" in said  # the key's rights, flagged to its owner
        reads = sum(1 for r in okx.log if r.path == "/api/v5/account/positions")

        theirs = await bot.say("/account", chat=STRANGER)
        assert "operator" in text(theirs) and "BTC" not in text(theirs)
        assert sum(1 for r in okx.log if r.path == "/api/v5/account/positions") == reads

        in_group = await bot.say("/account", chat=GROUP, user=OPERATOR)
        group_words = text(m for m in in_group if m.chat_id == GROUP)
        assert "BTC" not in group_words and "private chat" in group_words
        assert "Exchange's liquidation price" in text(m for m in in_group
                                                       if m.chat_id == OPERATOR)
        # only the operator is told the command exists; it is in no published menu
        assert "/account" in text(await bot.say("/help", chat=OPERATOR))
        assert "/account" not in text(await bot.say("/help", chat=STRANGER))
        assert "There is no /account" in text(await bot.say("/help account", chat=STRANGER))
        assert not any("account" in [c["command"] for c in cmds]
                       for cmds in bot.tg.commands.values())
        assert bot.tg.rejected == []
