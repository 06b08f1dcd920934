"""A fake OKX v5 REST server: real HTTP on 127.0.0.1, real envelopes, OKX's rate limits.

Use it in an async test::

    async with FakeOkx(bases=["BTC", "ETH"]) as okx:
        market = OkxMarket(ExchangeConfig(api_url=okx.url, ...))

from synchronous code or another thread (``okx.start_in_thread()`` / ``okx.stop_thread()``),
or as its own process for a bot under test::

    python -m tests.fakes.okx_server --port 8765 --symbols 30 --realtime

The clock is fake: ``okx.now_ms`` only moves with ``advance``/``set_time`` unless
``realtime=True``. Faults (``okx.fault(...)``) and gaps are injected per endpoint and symbol;
every request lands in ``okx.log`` for assertions on what a client asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import time
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.exchange_account import FakeAccount
from tests.fakes.loopback import LoopThread, serve
from tests.fakes.okx_flow_routes import FLOW_LIMITS
from tests.fakes.okx_market import FakeMarket, default_bases
from tests.fakes.okx_private import PRIVATE, SINGLE, OkxKey, authenticate, okx_account
from tests.fakes.okx_routes import route

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
# endpoint path → (requests per window, per instrument?)
OKX_LIMITS: dict[str, tuple[int, bool]] = {
    "/api/v5/market/candles": (40, False),
    "/api/v5/market/history-candles": (20, False),
    "/api/v5/market/books": (40, False),
    "/api/v5/public/funding-rate": (10, True),
    "/api/v5/public/funding-rate-history": (10, False),
    "/api/v5/public/open-interest": (20, True),
    "/api/v5/public/position-tiers": (10, False),
    "/api/v5/market/tickers": (20, False),
    "/api/v5/public/instruments": (20, False),
    "/api/v5/public/time": (10, False),
    **FLOW_LIMITS,
}
WINDOW_S = 2.0
SIGNED = ("/api/v5/account/", "/api/v5/asset/")  # signed endpoints: need a valid key
KEY_ERRORS = {"50111": "Invalid OK-ACCESS-KEY", "50112": "Invalid OK-ACCESS-TIMESTAMP",
              "50113": "Invalid Sign", "50114": "Invalid authorization",
              "50105": "OK-ACCESS-PASSPHRASE incorrect"}
FAULTS = ("unavailable", "error", "timeout", "malformed", "drop", "empty", "nulls", "badsymbol",
          "ratelimited")
_BAR = re.compile(r"^(\d+)([mHDW])(utc)?$")
_UNIT_MS = {"m": 60_000, "H": 3_600_000, "D": 86_400_000, "W": 604_800_000}


@dataclass
class Request:
    path: str
    params: dict[str, str]
    status: int
    at: float  # monotonic seconds


@dataclass
class Fault:
    kind: str
    endpoint: str | None
    symbol: str | None
    remaining: int | None  # None = until cleared
    delay_s: float = 30.0


@dataclass
class FakeOkx:
    bases: list[str] = field(default_factory=lambda: default_bases(8))
    start_ms: int = START_MS
    step_ms: int = 900_000
    seed: int = 7
    enforce_limits: bool = True
    realtime: bool = False
    host: str = "127.0.0.1"
    port: int = 0

    def __post_init__(self) -> None:
        self.market = FakeMarket(self.bases, now_ms=self.start_ms, step_ms=self.step_ms,
                                 seed=self.seed)
        self._clock_ms = self.start_ms
        self._wall0 = time.time()
        self.log: list[Request] = []
        self.faults: list[Fault] = []
        self.account_perm = "read_only"
        self.keys: dict[str, OkxKey] = {}  # API key → its secret, passphrase, rights, ledger
        self.reject_key: str | None = None  # an OKX code (e.g. "50111"): private routes refuse
        self.positions: list[dict] = []
        self.equity: float | None = 10_000.0  # USDT equity of the account (balance)
        self.iso_equity = 0.0  # the part of it held as isolated margin
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._runner: web.AppRunner | None = None
        self._thread: LoopThread | None = None

    # --- clock, faults, log ------------------------------------------------------------------

    @property
    def now_ms(self) -> int:
        if self.realtime:
            return self._clock_ms + int((time.time() - self._wall0) * 1000)
        return self._clock_ms

    def advance(self, ms: int) -> None:
        self._clock_ms += int(ms)

    def set_time(self, ms: int) -> None:
        self._clock_ms = int(ms)

    def fault(self, kind: str, endpoint: str | None = None, symbol: str | None = None, *,
              times: int | None = None, delay_s: float = 30.0) -> Fault:
        """Inject a fault on ``endpoint`` (a path suffix such as "market/candles", None = any)
        for ``symbol`` (a base such as "BTC", None = any), ``times`` times (None = until
        ``clear_faults``). Kinds: unavailable (503/50001), error (500/50026), timeout (sleeps
        ``delay_s``), malformed (broken JSON), drop (connection closed), empty (no data),
        nulls (fields null), badsymbol (51001), ratelimited (429/50011, as if the window
        were full)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULTS}")
        f = Fault(kind, endpoint, symbol.upper() if symbol else None, times, delay_s)
        self.faults.append(f)
        return f

    def clear_faults(self) -> None:
        self.faults.clear()

    def gap(self, base: str, times_ms: list[int]) -> None:
        """Bars that the exchange does not have (until ``fill_gaps``)."""
        self.market.gaps.setdefault(base, set()).update(int(t) for t in times_ms)

    def fill_gaps(self) -> None:
        self.market.gaps.clear()

    def requests(self, endpoint: str = "", symbol: str | None = None) -> list[Request]:
        """Logged requests whose path ends with ``endpoint`` (and for ``symbol``, a base).
        Mark-price candles count only when asked for by name: "candles" means trade bars."""
        out = [r for r in self.log if r.path.endswith(endpoint)
               and ("mark-price" in endpoint or "mark-price" not in r.path)]
        if symbol:
            inst = self.market.inst_id(symbol.upper())
            out = [r for r in out if r.params.get("instId") == inst]
        return out

    def count(self, endpoint: str = "", symbol: str | None = None, status: int | None = None
              ) -> int:
        return sum(1 for r in self.requests(endpoint, symbol)
                   if status is None or r.status == status)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_key(self, api_key: str, secret: str, passphrase: str, *, perm: str | None = None,
                account: FakeAccount | None = None) -> OkxKey:
        """Accept requests signed with this key. ``perm`` as OKX's ``/account/config`` says
        it ("read_only", "read_only,trade", "read_only,withdraw"; None: ``account_perm``);
        ``account`` is its ledger (None: the raw ``positions``/``equity`` fields)."""
        self.keys[api_key] = OkxKey(secret, passphrase, perm, account)
        return self.keys[api_key]

    def new_account(self, mode: str = SINGLE, *, wallet: float = 10_000.0) -> FakeAccount:
        """A ledger with OKX's liquidation formulas for account level ``mode`` ("2" single-
        currency, "3" multi-currency, "4" portfolio margin), marked at the fake's prices."""
        acct = okx_account(mode, wallet=wallet, ct_values={
            b: self.market.contract_value(b) for b in self.market.bases})
        for b in self.market.bases:
            acct.marks[b] = self.market.price(b, self.now_ms)
        return acct

    # --- HTTP plumbing ----------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self) -> FakeOkx:
        self._runner, self.port = await serve(self.app(), self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOkx:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self) -> str:
        """Serve from a background thread with its own loop; returns the base URL."""
        self._thread = LoopThread(self.start, self.stop, "fake-okx")
        self._thread.start()
        return self.url

    def stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def _limited(self, path: str, params: dict[str, str]) -> bool:
        rule = OKX_LIMITS.get(path)
        if not self.enforce_limits or rule is None:
            return False
        limit, per_inst = rule
        key = (path, params.get("instId", "") if per_inst else "")
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= limit:
            return True
        hits.append(now)
        return False

    def _take_fault(self, path: str, params: dict[str, str]) -> Fault | None:
        inst = params.get("instId") or params.get("instFamily", "")
        base = inst.split("-")[0].upper() if inst else None
        for f in self.faults:
            if f.endpoint and not path.endswith(f.endpoint):
                continue
            if f.symbol and f.symbol != base:
                continue
            if f.remaining is not None:
                if f.remaining <= 0:
                    continue
                f.remaining -= 1
            return f
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, params = request.path, dict(request.query)
        if path.startswith("/_fake/"):
            return web.json_response(self._control(path, params))
        entry = Request(path, params, 200, time.monotonic())
        self.log.append(entry)
        if self._limited(path, params):
            entry.status = 429
            return web.json_response({"code": "50011", "msg": "Too Many Requests", "data": []},
                                     status=429)
        if self.reject_key and path.startswith(SIGNED):
            entry.status = 401
            return web.json_response({"code": self.reject_key, "msg": KEY_ERRORS.get(
                self.reject_key, "Invalid authorization"), "data": []}, status=401)
        fault = self._take_fault(path, params)
        if fault is not None:
            resp = await self._faulty(fault, request, entry)
            if resp is not None:
                return resp
        if path in PRIVATE:
            key, refused = authenticate(self, request.method, request.raw_path,
                                        await request.text(), request.headers)
            if key is None:
                assert refused is not None
                entry.status = refused[0]
                return web.json_response(refused[1], status=refused[0])
            status, body = PRIVATE[path](self, key, params)
        else:
            status, body = route(self, path, params)
        entry.status = status
        if fault is not None and fault.kind == "nulls" and body.get("data"):
            body["data"] = [_nulled(d) for d in body["data"]]
        return web.json_response(body, status=status)

    async def _faulty(self, f: Fault, request: web.Request, entry: Request
                      ) -> web.StreamResponse | None:
        if f.kind == "unavailable":
            entry.status = 503
            return web.json_response({"code": "50001", "msg": "Service temporarily unavailable",
                                      "data": []}, status=503)
        if f.kind == "error":
            entry.status = 500
            return web.json_response({"code": "50026", "msg": "System error", "data": []},
                                     status=500)
        if f.kind == "ratelimited":
            entry.status = 429
            return web.json_response({"code": "50011", "msg": "Too Many Requests", "data": []},
                                     status=429)
        if f.kind == "badsymbol":
            return web.json_response({"code": "51001", "msg": "Instrument ID does not exist",
                                      "data": []}, status=200)
        if f.kind == "timeout":
            await asyncio.sleep(f.delay_s)
            return None
        if f.kind == "malformed":
            return web.Response(text='{"code":"0","msg":"","data":[{"ts":', status=200,
                                content_type="application/json")
        if f.kind == "empty":
            return web.json_response({"code": "0", "msg": "", "data": []})
        if f.kind == "drop":
            entry.status = 0
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client
        return None  # "nulls" is applied to the real answer

    def _control(self, path: str, params: dict[str, str]) -> dict:
        """Steering from another process: /_fake/advance?ms=, /_fake/time?ms=,
        /_fake/selloff?base=&start_ms=&drop=&duration_ms= (base empty: every symbol),
        /_fake/stats (request counts by path and status), /_fake/clear (the log)."""
        if path == "/_fake/selloff":
            self.market.selloff(params.get("base") or None, int(params["start_ms"]),
                                float(params["drop"]), int(params["duration_ms"]))
        elif path == "/_fake/advance":
            self.advance(int(params.get("ms", "0")))
        elif path == "/_fake/time" and "ms" in params:
            self.set_time(int(params["ms"]))
        elif path == "/_fake/clear":
            self.log.clear()
        counts: dict[str, int] = {}
        for r in self.log:
            key = f"{r.path} {r.status}"
            counts[key] = counts.get(key, 0) + 1
        return {"now_ms": self.now_ms, "requests": len(self.log), "counts": counts}

    # --- helpers for routes ------------------------------------------------------------------

    @staticmethod
    def bar_ms(bar: str) -> int | None:
        m = _BAR.match(bar)
        return int(m.group(1)) * _UNIT_MS[m.group(2)] if m else None


def _nulled(d: object) -> object:
    if isinstance(d, dict):
        return {k: (None if k not in ("instId", "instType") else v) for k, v in d.items()}
    if isinstance(d, list):
        return [None for _ in d]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description="Serve a fake OKX v5 REST API on 127.0.0.1.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--symbols", type=int, default=8)
    ap.add_argument("--realtime", action="store_true", help="the fake clock follows the wall")
    ap.add_argument("--no-limits", action="store_true")
    args = ap.parse_args()
    okx = FakeOkx(bases=default_bases(args.symbols), port=args.port, realtime=args.realtime,
                  enforce_limits=not args.no_limits,
                  start_ms=int(time.time() * 1000) if args.realtime else START_MS)

    async def serve() -> None:
        async with okx:
            print(f"fake OKX on {okx.url}", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
