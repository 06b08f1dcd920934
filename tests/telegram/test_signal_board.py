"""Signal channel mode: one pinned market-state message edited in place each cycle, a
separate post only when the cascade level changes, nothing sent when nothing changed, and the
same message edited again after a restart. The real PTB bot against the fake Bot API."""

from __future__ import annotations

import dataclasses
from typing import Any

from chat.signal_board import SignalBoard
from core.evaluate import evaluate
from settings.engine import engine_params
from tests.telegram.conftest import Harness

CHANNEL = -100444


async def engine_result(bot: Harness) -> Any:
    s = bot.front.services
    snap = await s.snapshot()
    return evaluate(snap, [], engine_params(s.config), market=await s.engine_market(snap))


def with_level(result: Any, level: str, score: float) -> Any:
    return dataclasses.replace(result, cascade=dataclasses.replace(
        result.cascade, level=level, score=score))


def sends(bot: Harness) -> list[dict[str, Any]]:
    return [p for m, p in bot.tg.calls if m == "sendMessage" and p.get("chat_id") == CHANNEL]


async def test_the_board_is_pinned_once_then_edited_in_place(bot: Harness) -> None:
    bot.tg.chat(CHANNEL, "channel", title="signals")
    result = with_level(await engine_result(bot), "calm", 12.0)
    board = SignalBoard(bot.app.bot, bot.db, CHANNEL)
    assert await board.update(result) == "posted"
    (first,) = bot.tg.sent_to(CHANNEL)
    assert bot.tg.pinned[CHANNEL] == first.message_id
    text = first.visible_text
    assert text.startswith("📊 Market state") and "Cascade: CALM 12/100" in text
    assert "Top correlations (1d): " in text and "Data: bar closing" in text
    assert len(text.splitlines()) <= 10
    assert str(sends(bot)[0]["disable_notification"]).lower() == "true"
    assert await board.update(result) == "unchanged"  # nothing new: no call at all
    assert len(bot.tg.sent_to(CHANNEL)) == 1
    later = dataclasses.replace(result, time_ms=result.time_ms + 900_000)
    assert await board.update(later) == "edited"
    edits = [m for m in bot.tg.messages if m.chat_id == CHANNEL
             and m.method == "editMessageText"]
    assert [m.message_id for m in edits] == [first.message_id] and len(sends(bot)) == 1
    assert bot.tg.rejected == []


async def test_a_level_change_is_its_own_post_and_a_restart_edits_the_same_board(bot) -> None:
    bot.tg.chat(CHANNEL, "channel", title="signals")
    result = with_level(await engine_result(bot), "calm", 12.0)
    await SignalBoard(bot.app.bot, bot.db, CHANNEL).update(result)
    pinned = bot.tg.pinned[CHANNEL]
    restarted = SignalBoard(bot.app.bot, bot.db, CHANNEL)  # state from the database
    assert await restarted.update(with_level(result, "high", 61.0)) == "edited"
    posts = sends(bot)
    assert len(posts) == 2 and "Cascade level calm → HIGH" in posts[1]["text"]
    assert str(posts[1].get("disable_notification")).lower() != "true"  # high rings
    assert bot.tg.pinned[CHANNEL] == pinned
    assert "Cascade: HIGH 61/100" in bot.tg.messages[-1].visible_text
    await restarted.update(with_level(result, "high", 63.0))
    assert len(sends(bot)) == 2  # the score moved, the level did not: an edit only


def test_the_board_reads_in_the_channels_language():
    import i18n
    from chat.signal_board import MarketState, board_html, level_change_html

    state = MarketState("high", 72, 0.6, 0.4, True, (("BTC", "ETH", 0.9),), 0, 60_000, False)
    with i18n.use("zh_Hans"):
        board, change = board_html(state), level_change_html("calm", state)
    assert "<b>市场状态</b>" in board and "相关性骤升" in board and "1 分钟前" in board
    assert "爆仓风险等级 平稳 → 高" in change
    assert "<b>Market state</b>" in board_html(state)
