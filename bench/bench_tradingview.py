"""TradingView intake: how long a signal takes from the POST to the outbox, next to the same
run's baseline — ``/risk`` and ``/hedge`` for the same words, in process (what the intake adds
is HTTP, reading the body, the checks and the writes) — and a flood on one route: requests a
second taken, and how many became messages (``route_rate`` per ``route_period``, plus the
newest held one). TradingView waits about 3 s for an answer: the target is p95 < 500 ms.

The simulated market, a real SQLite file, the intake's own tornado server on 127.0.0.1 and
httpx as TradingView; no Telegram (sending is ``bench_delivery``'s).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.timing import percentiles, row
from chat.context import Services
from chat.tradingview.assess import assess_position
from chat.tradingview.intake import TradingViewIntake
from chat.tradingview.server import IntakeServer
from runtime import build_runtime
from settings import Config
from storage import tv_routes

CALLS = 200
FLOOD = 1000


async def _run(folder: Path) -> None:
    config = Config().with_overrides(
        exchange={"name": "sim"}, storage={"path": str(folder / "bench.db")},
        tradingview={"enabled": True, "dedup_window": "1s"})
    rt = build_runtime(config, entry_points=False)
    db = rt.open_storage()
    services = Services.from_runtime(rt, db, rt.market())
    await services.warm()
    snap = await services.snapshot()
    close = snap.last_price("BTC-USDT-SWAP")
    words = ["BTC-USDT-SWAP", "long", "0.5", f"@{close:.10g}", "10x"]
    base = []
    for _ in range(CALLS):
        t = time.perf_counter()
        await assess_position(services, words, user_id=1, chat_id=-100)
        base.append(time.perf_counter() - t)
    b50, b95 = percentiles(base)
    row("baseline: /risk + /hedge in process, p50", b50 / 1000)

    intake = TradingViewIntake(services)
    server = IntakeServer(intake, listen="127.0.0.1", port=0)
    await server.start()
    route, passphrase = tv_routes.create_route(db, chat_id=-100, owner_id=1, now_ms=0)
    flood_route, flood_pass = tv_routes.create_route(db, chat_id=-101, owner_id=1, now_ms=0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            samples = []
            for i in range(CALLS):  # a new body each time: no duplicate shortcut
                body = json.dumps({"passphrase": passphrase, "ticker": "OKX:BTCUSDT.P",
                                   "close": close, "side": "long", "size": 0.5,
                                   "leverage": 10, "message": f"signal {i}"})
                t = time.perf_counter()
                resp = await http.post(f"/tv/{route.token}", content=body,
                                       headers={"Content-Type": "application/json"})
                samples.append(time.perf_counter() - t)
                assert resp.status_code == 200, resp.text
            p50, p95 = percentiles(samples)
            row("POST /tv/<token> → outbox, enriched, p50", p50 / 1000, b50 / 1000)
            row("POST /tv/<token> → outbox, enriched, p95", p95 / 1000, b95 / 1000,
                target="< 500 ms")

            t0 = time.perf_counter()
            for i in range(FLOOD):
                body = json.dumps({"passphrase": flood_pass, "ticker": "BTCUSDT.P",
                                   "close": close + i, "action": "buy"})
                resp = await http.post(f"/tv/{flood_route.token}", content=body,
                                       headers={"Content-Type": "application/json"})
                assert resp.status_code == 200, resp.text
            took = time.perf_counter() - t0
    finally:
        await server.stop()
        await services.close()
    verdicts = [r.verdict for r in tv_routes.recent_intake(db, limit=FLOOD,
                                                           route_id=flood_route.id)]
    relayed = verdicts.count("relayed")
    print(f"{'flood: ' + str(FLOOD) + ' signals on one route':<58} {FLOOD / took:10.0f} req/s"
          f"   relayed at once {relayed}, held {verdicts.count('held')} "
          f"(route_rate {config.tradingview.route_rate} per "
          f"{config.tradingview.route_period}: messages ≤ {relayed + 1})", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(Path(folder)))


if __name__ == "__main__":
    main()
