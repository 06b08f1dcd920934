"""One watch cycle split into its stages, for 100 symbols and 10,000 logged trades.

The market is the simulator (fetch is an in-memory snapshot here; the exchange fetch of a
100-symbol cycle is measured against the fake OKX server in ``bench_exchange``). Alerts are
"sent" to the console sender writing into memory. Two cycles run: the first stores every
trade's first advice, the second is the steady state a live bot sees every 15 minutes.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path

import numpy as np

from chat.console_sender import ConsoleSender
from jobs.cycle import WatchCycle
from runtime import build_runtime
from settings import Config
from storage.chats import set_subscriptions

N_TRADES = 10_000
N_USERS = 1_000


async def run() -> None:
    config = Config().with_overrides(exchange={"name": "sim", "symbols": "top:100"})
    rt = build_runtime(config, entry_points=False)
    db = rt.open_storage(str(Path(tempfile.mkdtemp()) / "bench.db"))
    market = rt.market()
    await market.load_instruments()
    snap = await market.snapshot(bars=2)
    rng = np.random.default_rng(0)
    symbols = [s for s in snap.symbols if not s.startswith("VOLX")]
    rows = []
    for i in range(N_TRADES):
        sym = symbols[int(rng.integers(len(symbols)))]
        price = snap.last_price(sym)
        rows.append({"user_id": i % N_USERS + 1, "chat_id": i % N_USERS + 1, "symbol": sym,
                     "side": "long" if rng.random() < 0.6 else "short",
                     "size": 5_000 / price, "entry": price * rng.uniform(0.97, 1.03),
                     "leverage": float(rng.choice([3, 5, 10, 20])), "opened_at": 0,
                     "strategy": str(rng.choice(["min_variance", "seed_regime", "static"]))})
    with db.atomic():
        for u in range(1, N_USERS + 1):
            db["chats"].insert({"id": u, "type": "private", "active": 1})
        db["trades"].insert_all(rows)
    for u in range(1, N_USERS + 1, 10):
        set_subscriptions(db, u, list(rt.extensions.alert_kinds.subscribable))
    console = ConsoleSender(db, out=io.StringIO(), clock=lambda: market.clock_ms / 1000)

    async def send() -> int:
        return console.drain()

    cycle = WatchCycle(rt, db=db, market=market,
                       send_stage=send, clock=lambda: market.clock_ms / 1000,
                       before_fetch=lambda: market.advance(1))
    for label in ("first cycle (stores every first advice)", "steady-state cycle"):
        s = await cycle.run()
        print(f"{label}: {s.duration_ms:,.0f} ms for {s.symbols} symbols, {s.trades:,} trades, "
              f"{sum(s.alerts.values())} alerts, {s.delivered} deliveries")
        for stage, ms in s.stages_ms.items():
            print(f"    {stage:<11} {ms:9.1f} ms")
    await market.close()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
