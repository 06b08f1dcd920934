"""``/metrics``: the running bot as a service Prometheus can watch (``[metrics] port``).

Everything is collected when scraped, from state that already exists, by one custom
collector: the outbox (deliveries by status, the unsent backlog and its age), the heartbeat
(each job's last run and duration), the market source's ``health()`` (the newest bar's age,
latency and errors per endpoint, retries) and the sender's counters (Bot API errors by kind,
retries). prometheus-client serves it from its own HTTP server in a daemon thread; that
thread opens its own SQLite connection per scrape (WAL lets it read while a cycle writes)
and only copies what the event loop's objects hold.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlite_utils import Database

from plugins.exchanges.source import SourceHealth
from settings.config import MetricsConfig
from storage import delivery_stats, open_database, tv_routes
from storage.heartbeat import last_beat

log = logging.getLogger(__name__)

JOBS = ("cycle", "cascade_watch")
TELEGRAM_ERRORS = ("forbidden", "migrated", "flood", "bad_request", "network", "other")


class ServiceCollector:
    """Collects the service's metrics on each scrape; a part that fails (the database
    locked, a plugin's ``health()`` raising) is logged, counted in
    ``hedgewatch_metrics_errors_total{part}`` and left out of that scrape only."""

    def __init__(self, db_path: str, market: Any = None, sender: Any = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.db_path, self.market, self.sender, self.clock = db_path, market, sender, clock
        self.failures: dict[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        now_ms = int(self.clock() * 1000)
        db: Database | None = None
        health: SourceHealth | None = None
        try:
            db = open_database(self.db_path, migrate=False)
        except Exception as e:
            self._failed("database", e)
        try:
            health = self.market.health() if self.market is not None else None
        except Exception as e:
            self._failed("exchange", e)
        try:
            if (opened := db) is not None:
                yield from self._part("outbox", lambda: outbox_metrics(opened, now_ms))
                yield from self._part("cycles", lambda: cycle_metrics(opened))
                yield from self._part("tradingview",
                                      lambda: tradingview_metrics(opened, now_ms))
            yield from self._part("data", lambda: data_age_metrics(health, db, now_ms))
            if health is not None:
                yield from self._part("exchange", lambda: exchange_metrics(health))
            if self.sender is not None:
                yield from self._part("telegram", lambda: sender_metrics(self.sender))
        finally:
            if db is not None:
                db.close()
        errors = CounterMetricFamily("hedgewatch_metrics_errors",
                                     "Parts of a scrape that failed (see the log)",
                                     labels=["part"])
        for part, n in sorted(self.failures.items()):
            errors.add_metric([part], n)
        yield errors

    def _part(self, name: str, make: Callable[[], list[Metric]]) -> list[Metric]:
        try:
            return make()
        except Exception as e:
            self._failed(name, e)
            return []

    def _failed(self, part: str, e: Exception) -> None:
        self.failures[part] = self.failures.get(part, 0) + 1
        log.warning("metrics: %s not collected: %s: %s", part, type(e).__name__, e)


def outbox_metrics(db: Database, now_ms: int) -> list[Metric]:
    states = GaugeMetricFamily("hedgewatch_deliveries", "Alert deliveries (one per alert "
                               "and chat) by status", labels=["status"])
    for status, n in sorted(delivery_stats.by_status(db).items()):
        states.add_metric([status], n)
    backlog = delivery_stats.backlog(db)
    return [states,
            GaugeMetricFamily("hedgewatch_backlog_deliveries", "Deliveries not sent yet "
                              "(pending, or caught in sending)", value=backlog.depth),
            GaugeMetricFamily("hedgewatch_backlog_age_seconds", "How long the oldest unsent "
                              "delivery has waited since its alert was recorded (0: none)",
                              value=backlog.age_ms(now_ms) / 1000)]


def tradingview_metrics(db: Database, now_ms: int) -> list[Metric]:
    """TradingView requests of the last hour by verdict (relayed, held, duplicate, refused,
    malformed): a refused spike is a wrong passphrase or a scanner, none at all a dead alert."""
    recent = GaugeMetricFamily("hedgewatch_tradingview_requests_last_hour", "TradingView "
                               "intake requests in the last hour by verdict",
                               labels=["verdict"])
    for verdict, n in tv_routes.verdict_counts(db, now_ms - 3_600_000).items():
        recent.add_metric([verdict], n)
    return [recent]


def cycle_metrics(db: Database) -> list[Metric]:
    duration = GaugeMetricFamily("hedgewatch_cycle_duration_seconds", "How long the job's "
                                 "last run took", labels=["job"])
    last = GaugeMetricFamily("hedgewatch_cycle_last_run_timestamp_seconds", "When the job "
                             "last finished (Unix time)", labels=["job"])
    degraded = GaugeMetricFamily("hedgewatch_cycle_degraded", "1 when the job's last run "
                                 "degraded (an exchange, outbox or send error)", labels=["job"])
    stages = GaugeMetricFamily("hedgewatch_cycle_stage_seconds", "How long each stage of the "
                               "job's last run took", labels=["job", "stage"])
    for job in JOBS:
        beat = last_beat(db, job)
        if beat is None:
            continue
        duration.add_metric([job], beat.duration_ms / 1000)
        last.add_metric([job], beat.ts / 1000)
        degraded.add_metric([job], 0 if beat.status == "ok" else 1)
        for stage, ms in (beat.detail.get("stages_ms") or {}).items():
            stages.add_metric([job, str(stage)], float(ms) / 1000)
    return [duration, last, degraded, stages]


def data_age_metrics(health: SourceHealth | None, db: Database | None, now_ms: int
                     ) -> list[Metric]:
    """The newest closed bar's age on the exchange's clock, from the market source; a source
    that does not track it (the simulator, CSV files) falls back on the last cycle's
    snapshot, aged by the time since."""
    age = GaugeMetricFamily("hedgewatch_data_age_seconds", "Age of the newest closed bar, "
                            "judged on the exchange's clock", labels=["exchange"])
    if health is not None and health.data_age_ms:
        age.add_metric([health.name], min(health.data_age_ms.values()) / 1000)
    elif db is not None and (beat := last_beat(db, "cycle")) is not None and \
            (snap_age := beat.detail.get("data_age_ms")) is not None and snap_age >= 0:
        name = health.name if health is not None else "unknown"
        age.add_metric([name], (snap_age + max(0, now_ms - beat.ts)) / 1000)
    return [age]


def exchange_metrics(health: SourceHealth) -> list[Metric]:
    latency = Metric("hedgewatch_exchange_request_duration_seconds", "Exchange request "
                     "latency by endpoint: quantiles of the recent requests, count and sum "
                     "since start", "summary")
    errors = CounterMetricFamily("hedgewatch_exchange_errors", "Failed exchange requests by "
                                 "endpoint (each attempt; retries included)",
                                 labels=["exchange", "endpoint"])
    name = latency.name
    for endpoint, e in sorted(health.endpoints.items()):
        labels = {"exchange": health.name, "endpoint": endpoint}
        for q, v in (("0.5", e.latency_p50_s), ("0.95", e.latency_p95_s)):
            if v is not None:
                latency.add_sample(name, {**labels, "quantile": q}, v)
        latency.add_sample(name + "_count", labels, e.requests)
        latency.add_sample(name + "_sum", labels, e.latency_sum_s)
        errors.add_metric([health.name, endpoint], e.errors)
    retries = CounterMetricFamily("hedgewatch_exchange_retries", "Exchange requests retried "
                                  "after a network error, rate limit or 5xx",
                                  labels=["exchange"])
    retries.add_metric([health.name], health.retries)
    return [latency, errors, retries]


def sender_metrics(sender: Any) -> list[Metric]:
    """The sender's counters since start (``chat.sender.Sender``: ``telegram_errors`` by
    kind, ``retries``); a sender without them (the console) reports zeros."""
    counts = dict(getattr(sender, "telegram_errors", None) or {})
    errors = CounterMetricFamily("hedgewatch_telegram_errors", "Bot API errors while sending "
                                 "alerts, by kind", labels=["kind"])
    for kind in dict.fromkeys([*TELEGRAM_ERRORS, *sorted(counts)]):
        errors.add_metric([kind], counts.get(kind, 0))
    retries = CounterMetricFamily("hedgewatch_delivery_retries", "Deliveries retried after "
                                  "a transient failure (flood limit, network, 5xx)",
                                  value=int(getattr(sender, "retries", 0) or 0))
    return [errors, retries]


@dataclass
class MetricsServer:
    """prometheus-client's HTTP server in its daemon thread; ``close()`` stops it."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics(config: MetricsConfig, collector: ServiceCollector) -> MetricsServer | None:
    """Serve ``collector`` (and the process's CPU, memory and file descriptors) on
    ``[metrics] listen:port``; None when no port is set, or when it cannot listen (logged:
    the bot's alerts matter more than its metrics)."""
    if config.port is None:
        return None
    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)
    try:
        server, thread = start_http_server(config.port, config.listen, registry=registry)
    except OSError as e:
        log.error("metrics: cannot listen on %s:%d (%s); /metrics is off", config.listen,
                  config.port, e)
        return None
    log.info("metrics on http://%s:%d/metrics", config.listen, config.port)
    return MetricsServer(server, thread)
