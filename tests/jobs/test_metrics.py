"""``/metrics`` scraped over real HTTP from the running service (``jobs.service.serve`` with
the real ccxt client against the fake OKX and the real PTB bot against the fake Bot API),
parsed with prometheus-client's own parser: every metric is there with sensible values."""

from __future__ import annotations

import asyncio
import re
import socket
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.alerts import Alert
from jobs.metrics import ServiceCollector, data_age_metrics, start_metrics
from jobs.service import serve
from runtime import build_runtime
from settings import Config
from settings.config import MetricsConfig
from settings.secrets import Secrets
from storage import open_database, outbox
from storage.chats import set_subscriptions
from storage.heartbeat import beat
from tests.fakes.okx_server import FakeOkx
from tests.fakes.telegram_server import FakeTelegram, FloodControl

BASES = ["BTC", "ETH", "SOL"]
OK_CHAT, BLOCKED, LATER = 5001, 5002, 5003


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[str, list]:
    """Samples by metric name (``_total``, ``_count`` ... as written), via prometheus-client's
    parser of its text format."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    out: dict[str, list] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        out["#families"].append(family.name)
        for sample in family.samples:
            out[sample.name].append(sample)
    return out


def value(samples: dict[str, list], name: str, **labels: str) -> float:
    found = [s.value for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, samples.get(name))
    return float(found[0])


@pytest.fixture
async def okx():
    async with FakeOkx(bases=BASES) as srv:
        yield srv


@pytest.fixture
async def tg():
    async with FakeTelegram(flood=FloodControl(enabled=False)) as fake:
        yield fake


async def test_metrics_are_served_from_the_running_service(okx, tg, tmp_path):
    port = free_port()
    db_path = tmp_path / "hw.db"
    config = Config().with_overrides(
        exchange={"name": "okx", "api_url": okx.url, "symbols": BASES, "max_retries": 2},
        engine={"fast_window": "6h", "slow_window": "2d", "ewma_halflife": "2h"},
        schedule={"interval": "1h", "cascade_symbols": []},
        telegram={"api_url": tg.base_url}, storage={"path": str(db_path)},
        metrics={"port": port})
    # three chats wait for one alert recorded 90 s ago: one gets it after a 502, one has
    # blocked the bot, one is held back (its retry is due in an hour)
    db = open_database(db_path)
    now = int(time.time() * 1000)
    for chat in (OK_CHAT, BLOCKED, LATER):
        set_subscriptions(db, chat, ["cascade"])
    outbox.record_alerts(db, [Alert("cascade", "cascade:high:1", "warning", "Cascade HIGH",
                                    ("score 55",), "cut leverage", now, 0, 0)],
                         now_ms=now - 90_000)
    db.execute("update deliveries set next_attempt_at = ? where chat_id = ?",
               [now + 3_600_000, LATER])
    db.conn.commit()
    db.close()
    tg.block(BLOCKED)
    tg.fail_next("sendMessage", 1, kind="error", status=502)
    okx.fault("unavailable", "market/candles", "ETH", times=1)

    rt = build_runtime(config, Secrets(telegram_token=tg.token), entry_points=False)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(rt, stop))
    try:
        m: dict[str, list] = {}
        for _ in range(300):  # until the catch-up cycle has written its heartbeat
            await asyncio.sleep(0.2)
            assert not task.done(), task
            try:
                m = await asyncio.to_thread(scrape, port)
            except (urllib.error.URLError, ConnectionError):
                continue
            sent = [x for x in m.get("hedgewatch_deliveries", [])
                    if x.labels.get("status") == "sent" and x.value >= 1]
            if m.get("hedgewatch_cycle_duration_seconds") and sent:
                break  # the cycle ran, and the 502'd delivery went out on its retry drain
        else:
            pytest.fail("the catch-up cycle never showed in /metrics")
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 60) == 0

    # deliveries by state, the backlog and its age
    assert value(m, "hedgewatch_deliveries", status="sent") == 1
    assert value(m, "hedgewatch_deliveries", status="failed") == 1
    assert value(m, "hedgewatch_deliveries", status="pending") == 1
    assert value(m, "hedgewatch_backlog_deliveries") == 1
    assert 90 <= value(m, "hedgewatch_backlog_age_seconds") < 3600
    # the sender's retries and Telegram errors by kind
    assert value(m, "hedgewatch_delivery_retries_total") >= 1
    assert value(m, "hedgewatch_telegram_errors_total", kind="network") >= 1
    assert value(m, "hedgewatch_telegram_errors_total", kind="forbidden") == 1
    assert value(m, "hedgewatch_telegram_errors_total", kind="flood") == 0
    # the cycle: how long, when, each stage
    took = value(m, "hedgewatch_cycle_duration_seconds", job="cycle")
    assert 0 < took < 600
    assert abs(value(m, "hedgewatch_cycle_last_run_timestamp_seconds", job="cycle")
               - time.time()) < 600
    assert value(m, "hedgewatch_cycle_degraded", job="cycle") == 0
    stages = {s.labels["stage"] for s in m["hedgewatch_cycle_stage_seconds"]}
    assert {"fetch", "engine", "rules", "outbox", "send"} <= stages
    # the newest bar's age on the exchange's clock (the fake's bars are current)
    assert 0 <= value(m, "hedgewatch_data_age_seconds", exchange="okx") < 2 * 900
    # exchange latency and errors by endpoint
    candles = {"exchange": "okx", "endpoint": "candles"}
    n = value(m, "hedgewatch_exchange_request_duration_seconds_count", **candles)
    total = value(m, "hedgewatch_exchange_request_duration_seconds_sum", **candles)
    p95 = value(m, "hedgewatch_exchange_request_duration_seconds", quantile="0.95", **candles)
    assert n >= len(BASES) and total > 0 and 0 < p95 < 60
    assert value(m, "hedgewatch_exchange_errors_total", **candles) == 1
    assert value(m, "hedgewatch_exchange_errors_total", exchange="okx",
                 endpoint="books") == 0
    assert value(m, "hedgewatch_exchange_retries_total", exchange="okx") >= 1
    # the process itself, and no part of the scrape failed
    assert value(m, "process_resident_memory_bytes") > 0
    assert "hedgewatch_metrics_errors_total" not in m
    # every metric the README documents is served
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Monitoring")[1].split("\n## ")[0]
    documented = set(re.findall(r"`(hedgewatch_\w+)", section))
    served = set(m) | {f"{f}_total" for f in m["#families"]} | set(m["#families"])
    assert documented and documented <= served, documented - served
    # stopped with the service
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        await asyncio.to_thread(scrape, port)


def test_a_source_without_ages_falls_back_on_the_last_cycle(tmp_path):
    db = open_database(tmp_path / "hw.db")
    beat(db, "cycle", 1_000_000, 12.0, detail={"data_age_ms": 60_000})
    (family,) = data_age_metrics(None, db, now_ms=1_300_000)
    assert [(s.labels, s.value) for s in family.samples] == [({"exchange": "unknown"}, 360.0)]


def test_no_port_no_server_and_a_busy_port_is_logged_not_fatal(tmp_path, caplog):
    collector = ServiceCollector(str(tmp_path / "hw.db"))
    assert start_metrics(MetricsConfig(), collector) is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = MetricsConfig(port=taken.getsockname()[1])
        assert start_metrics(busy, collector) is None
    assert "/metrics is off" in caplog.text


def test_a_failing_part_is_counted_and_the_rest_still_served(tmp_path):
    class Broken:
        def health(self):
            raise RuntimeError("plugin bug")

    open_database(tmp_path / "hw.db").close()
    families = {f.name: f for f in ServiceCollector(str(tmp_path / "hw.db"), Broken()).collect()}
    assert "hedgewatch_deliveries" in families
    errors = families["hedgewatch_metrics_errors"]
    assert [(s.labels, s.value) for s in errors.samples] == [({"part": "exchange"}, 1)]
