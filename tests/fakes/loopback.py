"""Serving a fake on 127.0.0.1: shared by the fake OKX, Binance/Bybit and Telegram servers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web


async def serve(app: web.Application, host: str = "127.0.0.1", port: int = 0,
                shutdown_timeout: float = 0.1) -> tuple[web.AppRunner, int]:
    """Start ``app`` and return its runner and the bound port (0 picks a free one)."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


class LoopThread:
    """Runs ``start`` on a fresh event loop in a daemon thread until ``stop()``, then runs
    ``close`` there: lets a test process host a fake that another process talks to."""

    def __init__(self, start: Callable[[], Awaitable[object]],
                 close: Callable[[], Awaitable[object]], name: str) -> None:
        self._start, self._close, self.name = start, close, name
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        ready = threading.Event()

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self._start())
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self._close())
            self.loop.close()

        self.thread = threading.Thread(target=run, name=self.name, daemon=True)
        self.thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.loop and self.thread:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.thread = None
