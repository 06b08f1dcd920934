"""kill -9 during delivery, then a restart: nothing lost, at most one duplicate per chat —
asserted on the fake Bot API's own log (a separate process, like Telegram)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from chat.sender import Sender, make_bot
from plugins.alert_rules.base import Alert
from settings import Config
from storage import open_database, outbox
from storage.chats import set_subscriptions
from tests.alerts.sim_clock import SimClock, drain_until_settled, total
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram, read_log

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_772_323_200_000
CHATS = list(range(200_001, 200_101))
TITLES = ("Alert A", "Alert B", "Alert C")

SENDER = """
import asyncio, json, sys, time
from chat.sender import Sender, make_bot
from settings import Config
from storage import open_database

async def main(db_path, api_url):
    # Timeouts far above any latency here: this test is about the crash's bound, and an
    # answer slower than the read timeout on a loaded machine would add the ambiguous-timeout
    # copy that tests/alerts/test_telegram_outages.py covers on its own.
    config = Config().with_overrides(telegram={
        "api_url": api_url, "max_retries": 5, "read_timeout": "120s", "write_timeout": "120s",
        "connect_timeout": "60s", "pool_timeout": "60s"})
    bot = make_bot(config, sys.argv[3])
    start = time.monotonic()  # the clock starts when the alerts were recorded
    clock = lambda: int(sys.argv[4]) / 1000 + time.monotonic() - start
    sender = Sender(open_database(db_path), bot, config, per_chat_interval=0.4, clock=clock)
    first = report = await sender.drain()
    sent = report.sent
    while report.next_due_ms is not None:  # as the service does: again when one is due
        await asyncio.sleep(max(0.0, report.next_due_ms / 1000 - clock()))
        report = await sender.drain()
        sent += report.sent
    await bot.shutdown()
    print(json.dumps({"sent": sent, "recovered": first.recovered}), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def alerts() -> list[Alert]:
    return [Alert("cascade", f"cascade:{t}", "warning", t, ("body",), "act", T0, 0, 1,
                  cooldown_key=t, subject=t) for t in TITLES]


def seed(db_path: Path) -> None:
    db = open_database(db_path)
    with db.conn:
        for c in CHATS:
            set_subscriptions(db, c, ["cascade"])
    outbox.record_alerts(db, alerts(), now_ms=T0)
    db.close()


def start_sender(db_path: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SENDER, str(db_path), f"{url}/bot",
                             DEFAULT_TOKEN, str(T0)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def fake_process(tmp_path):
    ready = tmp_path / "port.txt"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_server", "--port", "0",
                             "--log", str(tmp_path / "log.json"), "--ready-file", str(ready)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not (ready.exists() and ready.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "fake did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{ready.read_text()}"
    proc.terminate()
    proc.wait(10)


def delivered(url: str) -> Counter:
    return Counter((m["chat_id"], m["visible_text"].split("\n")[0][-7:])
                   for m in read_log(url)["messages"] if m["method"] == "sendMessage")


@pytest.mark.slow
def test_kill_9_mid_drain_then_restart_loses_nothing_and_duplicates_at_most_one_per_chat(
        tmp_path, fake_process):
    db_path = tmp_path / "outbox.db"
    seed(db_path)
    first = start_sender(db_path, fake_process)
    deadline = time.monotonic() + 30
    while sum(delivered(fake_process).values()) < 60:
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    db = open_database(db_path)
    in_flight = Counter(r[0] for r in db.execute(
        "select chat_id from deliveries where status = 'sending'"))
    assert all(n == 1 for n in in_flight.values())  # the bound, before the restart
    before = delivered(fake_process)
    assert 60 <= sum(before.values()) < len(CHATS) * len(TITLES)

    second = start_sender(db_path, fake_process)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["recovered"] == sum(in_flight.values())

    got = delivered(fake_process)
    wanted = {(c, t) for c in CHATS for t in TITLES}
    assert set(got) == wanted  # nothing lost
    dupes = Counter()
    for (chat, _), n in got.items():
        dupes[chat] += n - 1
    assert max(dupes.values()) <= 1  # at most one duplicate per chat
    assert set(c for c, n in dupes.items() if n) <= set(in_flight)
    assert outbox.delivery_counts(db) == {"sent": len(wanted)}


async def test_a_delivery_caught_in_sending_is_resent_once_and_sent_ones_never(tmp_path):
    """The bound without luck: the crash left A sent, B 'sending' (it had reached the chat),
    C pending. A restart re-sends B once, sends C (after the private chat's flood limit, on
    the simulated clock), and never A."""
    db_path = tmp_path / "outbox.db"
    seed(db_path)
    db = open_database(db_path)
    chat = CHATS[0]
    ids = [r[0] for r in db.execute("select id from deliveries where chat_id = ? order by id",
                                    [chat])]
    clock = SimClock(T0)
    async with FakeTelegram(clock=clock) as tg:
        config = Config().with_overrides(telegram={"api_url": tg.base_url, "max_retries": 3})
        bot = make_bot(config, tg.token)
        await bot.initialize()
        for d, title in zip(ids[:2], TITLES, strict=False):  # A and B reached the chat
            outbox.mark_sending(db, d, T0)
            await bot.send_message(chat, title)
        outbox.mark_sent(db, ids[0], 1, T0)
        with db.conn:
            db.execute("delete from deliveries where chat_id != ?", [chat])
        sender = Sender(db, bot, config, per_chat_interval=0.0, clock=clock)
        report = total(await drain_until_settled(sender, clock))
        await bot.shutdown()
    texts = Counter(m.visible_text.split("\n")[0][-7:] for m in tg.sent_to(chat))
    assert texts == {"Alert A": 1, "Alert B": 2, "Alert C": 1}
    assert report.recovered == 1 and report.sent == 2
