"""The whole service as a user runs it: ``bot.py run`` in its own process, against the fake
OKX v5 server (its clock advancing through a sell-off) and the fake Telegram Bot API.

A subscribed group and a trader with a logged 10x long receive the alerts they should, once
each, in order, with numbers that match the exchange's liquidation formula; the group never
sees the trader's position.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import open_database
from storage.chats import ensure_chat, set_subscriptions
from storage.trades import open_trade
from tests.fakes.okx_server import START_MS, FakeOkx
from tests.fakes.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
BAR = 900_000
TRADER, GROUP = 5001, -1001234
MMR, FEE = 0.004, 0.0005  # OKX BTC tier 1 and the taker fee the plugin reports


def expected_liquidation(entry: float, leverage: float) -> float:
    """OKX isolated long: (entry − M/N) / (1 − mmr − fee) with M/N = entry / leverage."""
    return (entry - entry / leverage) / (1 - MMR - FEE)


@pytest.fixture
def fakes():
    okx = FakeOkx(bases=["BTC", "ETH", "SOL", "XRP"], enforce_limits=True)
    okx_url = okx.start_in_thread()
    tg = FakeTelegram(log_path=None).start_in_thread()
    yield okx, okx_url, tg
    tg.stop_thread()
    okx.stop_thread()


def bot_env(okx_url: str, tg: FakeTelegram, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HEDGEWATCH_", "TELEGRAM_", "OKX_"))}
    env.update({
        "TELEGRAM_BOT_TOKEN": tg.token,
        "HEDGEWATCH_TELEGRAM_API_URL": tg.base_url,
        "HEDGEWATCH_EXCHANGE_NAME": "okx",
        "HEDGEWATCH_EXCHANGE_API_URL": okx_url,
        "HEDGEWATCH_EXCHANGE_SYMBOLS": '["BTC", "ETH", "SOL", "XRP"]',
        "HEDGEWATCH_SCHEDULE_INTERVAL": "1s",
        "HEDGEWATCH_SCHEDULE_DELAY": "0.5s",
        "HEDGEWATCH_SCHEDULE_CASCADE_INTERVAL": "3s",
        "HEDGEWATCH_SCHEDULE_CASCADE_SYMBOLS": '["BTC"]',
        "HEDGEWATCH_ENGINE_FAST_WINDOW": "6h",
        "HEDGEWATCH_ENGINE_SLOW_WINDOW": "2d",
        "HEDGEWATCH_ENGINE_EWMA_HALFLIFE": "2h",
        "HEDGEWATCH_ALERTS_COOLDOWN": "6h",
        "HEDGEWATCH_ALERTS_STALE_AFTER": "1000",
        "HEDGEWATCH_STORAGE_PATH": str(db),
        "HEDGEWATCH_PLUGINS_ENTRY_POINTS": "false",
    })
    return env


def test_the_service_alerts_the_group_and_the_trader_through_a_selloff(fakes, tmp_path):
    okx, okx_url, tg = fakes
    db_path = tmp_path / "hw.db"
    db = open_database(db_path)
    entry = okx.market.price("BTC", START_MS)
    ensure_chat(db, GROUP, "supergroup")
    set_subscriptions(db, GROUP, ["cascade", "regime", "data"])
    trade = open_trade(db, user_id=TRADER, chat_id=TRADER, symbol="BTC-USDT-SWAP",
                       side="long", size=0.5, entry=entry, leverage=10,
                       opened_at=START_MS, fee_rate=FEE)
    db.close()
    okx.market.selloff(None, START_MS + 4 * BAR, 0.25, 16 * BAR)  # −25 % over 4 hours
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "run"], cwd=tmp_path,
                            env=bot_env(okx_url, tg, db_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(6)  # start-up and the catch-up cycle at the sim's start
        for _ in range(40):  # ten simulated hours, a bar about every second
            okx.advance(BAR)
            time.sleep(0.8)
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-3000:]
    assert "stopped cleanly" in out

    trader = [m for m in tg.sent_to(TRADER)]
    group = [m for m in tg.sent_to(GROUP)]
    # what we sent was accepted (a getUpdates abandoned by the client under load may be
    # answered 409 "terminated by other getUpdates request", as Telegram does)
    refused = [r for r in tg.rejected if r.method in ("sendMessage", "sendPhoto")]
    assert not refused, refused
    # the trader: liquidation risk, with the exchange's numbers
    liq_msgs = [m for m in trader if "iquidation" in (m.visible_text or "")]
    assert liq_msgs, [m.visible_text for m in trader]
    liq = expected_liquidation(entry, 10)
    shown = [float(x) for m in liq_msgs
             for x in re.findall(r"liquidation (?:price )?(\d+(?:\.\d+)?)", m.visible_text)]
    assert shown and all(abs(x - liq) / liq < 1e-5 for x in shown), (shown, liq)
    # the group: the cascade, never the trader's position
    assert any("Cascade" in (m.visible_text or "") for m in group), \
        [m.visible_text for m in group]
    for m in group:
        text = m.visible_text or ""
        assert f"#{trade.id}" not in text and "Trade" not in text and f"{entry:g}" not in text
    # once each, and in the order the bars came
    for msgs in (trader, group):
        texts = [m.visible_text for m in msgs]
        assert len(texts) == len(set(texts)), texts
        stamps = [re.search(r"bar closing ([\d-]+ [\d:]+)", t) for t in texts]
        times = [s.group(1) for s in stamps if s]
        assert times == sorted(times)
