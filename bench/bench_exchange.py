"""The 100-symbol market-data cycle against the fake OKX server (in its own process).

Figures: a cycle of candles + books + funding + open interest for 100 symbols, as a ratio to
the per-endpoint bound (OKX's documented limits at their sustained rate; target ≤ 1.15) and to
ccxt's default single throttle; the 429 count; the request count of an incremental cycle.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import time
import urllib.request

from bench.timing import row

SYMBOLS = 100
BASELINE_SYMBOLS = 10  # ccxt's throttle is slow: measured on fewer symbols, scaled linearly
TF = 900_000


def _serve(port_q: mp.Queue, n: int) -> None:
    from tests.fakes.okx_market import default_bases
    from tests.fakes.okx_server import FakeOkx

    async def run() -> None:
        async with FakeOkx(bases=default_bases(n)) as okx:
            port_q.put(okx.port)
            await asyncio.Event().wait()

    asyncio.run(run())


def _control(url: str, what: str) -> dict:
    with urllib.request.urlopen(f"{url}/_fake/{what}", timeout=10) as r:
        return json.loads(r.read())


def _count(stats: dict, status: int | None = None, path: str = "") -> int:
    return sum(v for k, v in stats["counts"].items()
               if path in k and (status is None or k.endswith(f" {status}")))


async def _ours(url: str) -> tuple[float, float, int, int]:
    from plugins.exchanges.ccxt_market import OkxMarket
    from settings.config import ExchangeConfig

    m = OkxMarket(ExchangeConfig.model_validate({"api_url": url, "symbols": f"top:{SYMBOLS}"}))
    try:
        syms = await m.symbols()
        _control(url, "clear")
        t0 = time.perf_counter()
        snap = await m.snapshot(syms, bars=100)
        took = time.perf_counter() - t0
        assert not snap.missing, dict(snap.missing)
        first = _control(url, "clear")
        _control(url, "advance?ms=900000")
        _control(url, "clear")
        await m.snapshot(syms, bars=100)
        incremental = _control(url, "stats")
        bound = m.limiters.bound_seconds({"candles": SYMBOLS, "books": SYMBOLS,
                                          "funding-rate": SYMBOLS, "open-interest": SYMBOLS},
                                         symbols=SYMBOLS)
        return (took, bound, _count(first, 429),
                _count(incremental, path="candles"))
    finally:
        await m.close()


async def _ccxt_default(url: str) -> float:
    import ccxt.async_support as ccxt

    ex = ccxt.okx({"urls": {"api": {"rest": url}}, "options": {"fetchMarkets": {"types":
                                                                                ["swap"]}}})
    try:
        await ex.load_markets()
        syms = [s for s in ex.symbols][:BASELINE_SYMBOLS]
        t0 = time.perf_counter()
        await asyncio.gather(*(c for s in syms for c in (
            ex.fetch_ohlcv(s, "15m", limit=100), ex.fetch_order_book(s, 400),
            ex.fetch_funding_rate(s), ex.fetch_open_interest(s))))
        return (time.perf_counter() - t0) * SYMBOLS / len(syms)
    finally:
        await ex.close()


def main() -> None:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(q, SYMBOLS), daemon=True)
    proc.start()
    try:
        url = f"http://127.0.0.1:{q.get(timeout=30)}"
        took, bound, n429, incr = asyncio.run(_ours(url))
        time.sleep(2.1)  # let OKX's 2-second windows empty before the baseline
        base = asyncio.run(_ccxt_default(url))
    finally:
        proc.terminate()
        proc.join(5)
    row(f"{SYMBOLS}-symbol cycle (candles+books+funding+OI), s", took, base, unit="s",
        target="≤ 1.15 × bound")
    print(f"  per-endpoint bound {bound:.2f} s → ratio {took / bound:.2f} (target ≤ 1.15); "
          f"ccxt default throttle {base:.1f} s (measured on {BASELINE_SYMBOLS} symbols × "
          f"{SYMBOLS // BASELINE_SYMBOLS}); HTTP 429 answers: {n429}")
    print(f"  incremental cycle: {incr} candle requests for {SYMBOLS} symbols")


if __name__ == "__main__":
    main()
