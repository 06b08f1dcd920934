"""``/metrics`` counts the TradingView intake's last hour of requests by verdict."""

from __future__ import annotations

from jobs.metrics import ServiceCollector
from storage import open_database, tv_routes
from storage.tv_routes import Intake


def test_metrics_count_the_last_hours_requests_by_verdict(db_path):
    db = open_database(db_path)
    hour = 3_600_000
    for t, verdict in ((0, "relayed"), (2 * hour, "relayed"), (2 * hour, "refused"),
                       (2 * hour + 1, "held")):
        tv_routes.log_intake(db, Intake(t, 1, "1.2.3.4", 200, verdict))
    collector = ServiceCollector(str(db_path), clock=lambda: (2 * hour + 10) / 1000)
    family = next(m for m in collector.collect()
                  if m.name == "hedgewatch_tradingview_requests_last_hour")
    assert {s.labels["verdict"]: s.value for s in family.samples} == {
        "relayed": 1, "refused": 1, "held": 1}
