"""The warm snapshot is reused only while it holds the newest closed bar, and every answer
says the data's age when it is given: the real ccxt client against the fake OKX, whose clock
the test moves."""

from __future__ import annotations

import pytest

from chat.alert_render import render_alert
from chat.commands.market import Market
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from chat.freshness import age_text, age_words
from plugins.exchanges.ccxt_market import OkxMarket
from settings import Config
from storage import open_database
from storage.outbox import StoredAlert
from tests.fakes.okx_server import FakeOkx

BAR = 900_000


@pytest.mark.parametrize(("ms", "words"), [
    (0, "0 s"), (59_999, "59 s"), (60_000, "1 min"), (3_599_999, "59 min"),
    (3 * 3_600_000, "3 h"), (3 * 3_600_000 + 12 * 60_000, "3 h 12 min"),
    (49 * 3_600_000, "2 d 1 h"), (-1, "unknown")])
def test_ages_in_words(ms, words):
    assert age_words(ms) == words


def test_old_data_is_never_called_fresh():
    assert age_text(30_000) == "data 30 s old"
    assert age_text(11_520_000, "exchange not answering") == \
        "⚠ data 3 h 12 min old — exchange not answering"
    assert "fresh" not in age_text(0) + age_text(-1)


async def test_a_snapshot_is_reused_only_while_it_holds_the_newest_bar(tmp_path):
    async with FakeOkx(bases=["BTC", "ETH", "SOL"]) as okx:
        config = Config().with_overrides(
            exchange={"name": "okx", "api_url": okx.url, "symbols": ["BTC", "ETH", "SOL"],
                      "max_retries": 1},
            engine={"fast_window": "6h", "slow_window": "2d", "ewma_halflife": "2h"},
            storage={"path": str(tmp_path / "hw.db")})
        market = OkxMarket(config.exchange, backoff_s=0.01)
        services = Services(config, open_database(config.storage.path), market,
                            clock=lambda: okx.now_ms / 1000)
        ctx = CommandContext.local(services)
        chat = Dispatcher([Market()])
        try:
            okx.advance(BAR // 3)  # 5 minutes into a bar
            first = await chat.handle("/market", ctx)
            fetches = okx.count("/api/v5/public/time")
            okx.advance(BAR // 3)  # still the same bar: the same snapshot, older by 5 min
            second = await chat.handle("/market", ctx)
            assert okx.count("/api/v5/public/time") == fetches
            assert second.data["data_age_ms"] == first.data["data_age_ms"] + BAR // 3
            okx.advance(BAR // 3 + 10_000)  # a bar has closed: fetched again, age resets
            third = await chat.handle("/market", ctx)
            assert okx.count("/api/v5/public/time") > fetches
            assert third.data["data_age_ms"] < first.data["data_age_ms"]
            assert third.data["as_of"] == first.data["as_of"] + BAR
            assert all(r.data["data_behind"] is None for r in (first, second, third))
        finally:
            await market.close()


def test_an_alert_says_its_data_age_when_it_is_sent():
    """Recorded at 12:00 on 4-minute-old data, sent 30 minutes later: 34 min old."""
    created = 1_767_268_800_000
    record = {"title": "t", "body": [], "action": "a", "time_ms": created - 240_000,
              "data_age_ms": 240_000, "numbers": {}, "chart": None}
    alert = StoredAlert(1, "cascade", "warning", None, None, created, record)
    assert "4 min old" in render_alert(alert).plain
    assert "34 min old" in render_alert(alert, now_ms=created + 30 * 60_000).plain


def test_ages_and_reasons_read_in_chinese_while_the_stored_reason_stays_english():
    import i18n
    from chat.freshness import EXCHANGE_DOWN, NO_NEW_BARS

    reason = f"{EXCHANGE_DOWN} (timeout)"  # as Reply.data["data_behind"] keeps it
    with i18n.use("zh_Hans"):
        assert age_words(3 * 3_600_000 + 12 * 60_000) == "3 小时 12 分钟"
        assert age_text(300_000) == "数据为 5 分钟前"
        assert age_text(11_520_000, reason) == "⚠ 数据为 3 小时 12 分钟前 — 交易所无响应（timeout）"
        assert age_text(-1, NO_NEW_BARS) == "⚠ 无行情数据 — 交易所没有新 K 线"
    assert age_text(11_520_000, reason) == \
        "⚠ data 3 h 12 min old — exchange not answering (timeout)"
