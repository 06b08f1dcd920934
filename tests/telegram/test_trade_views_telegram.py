"""The trade log's views in Telegram: /export arrives as a CSV document in the private chat,
never in a group; the period views answer there as text."""

from __future__ import annotations

import csv
import io

import pytest

from tests.telegram.conftest import Harness

pytestmark = pytest.mark.filterwarnings(  # PTB 22 warns inside RetryAfter.__init__
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

GROUP, USER = -100555, 21


async def log_a_trade(bot: Harness, user: int) -> None:
    await bot.say("/open btc long 0.5 @60000 10x swing, \"=cmd\"", chat=user)
    await bot.say("/close 1 @61000", chat=user)


async def test_export_is_sent_as_a_csv_document(bot: Harness) -> None:
    await log_a_trade(bot, USER)
    text, doc = await bot.say("/export", chat=USER)
    assert (text.method, doc.method) == ("sendMessage", "sendDocument")
    assert text.chat_id == doc.chat_id == USER and "1 trade(s)" in text.visible_text
    assert doc.document["file_name"].startswith("hedgewatch-trades-")
    assert doc.document["file_name"].endswith(".csv")
    (row,) = csv.DictReader(io.StringIO(doc.document["content"].decode("utf-8")))
    assert row["id"] == "1" and row["symbol"] == "BTC-USDT-SWAP" and row["closed_at"]
    assert row["note"] == 'swing, "=cmd"'  # CSV quoting only; no HTML escaping in a file
    assert bot.tg.rejected == []


async def test_export_asked_in_a_group_goes_to_the_private_chat(bot: Harness) -> None:
    await log_a_trade(bot, USER)
    sent = await bot.say("/export", chat=GROUP, user=USER)
    in_group = [m for m in sent if m.chat_id == GROUP]
    assert in_group and all(m.method == "sendMessage" for m in in_group)
    assert "private chat" in in_group[0].visible_text
    docs = [m for m in sent if m.method == "sendDocument"]
    assert [m.chat_id for m in docs] == [USER]


async def test_period_views_answer_in_text(bot: Harness) -> None:
    await log_a_trade(bot, USER)
    for command in ("/daily 3", "/weekly", "/monthly 2", "/performance", "/stats", "/pnl"):
        sent = await bot.say(command, chat=USER)
        assert sent and all(m.method == "sendMessage" for m in sent), command
        assert "USDT" in sent[0].visible_text and bot.replies[-1].ok, command
    assert "Win rate 100.0 %" in bot.replies[-2].text[1]
