"""A fake Telegram Bot API server: real HTTP on 127.0.0.1 for python-telegram-bot to talk to.

Point PTB at it with ``Application.builder().token(tg.token).base_url(tg.base_url)
.base_file_url(tg.base_file_url)``. It answers ``/bot<TOKEN>/<method>`` with real Bot API shapes,
validates like Telegram (``telegram_validate.py``), enforces flood limits, and lets a test inject
updates and faults. Three ways to run it:

* in the test's loop: ``async with FakeTelegram() as tg`` (or the ``fake_telegram`` fixture);
* in a background thread: ``tg = FakeTelegram().start_in_thread()`` ... ``tg.stop_thread()``;
* in another process: ``python -m tests.fakes.telegram_server --port 0 --log log.json
  --ready-file port.txt``; drive it with ``control(url, "inject_message", chat_id=1, ...)``
  (``POST /_fake/<helper>``) and read ``GET /_fake/log`` or the JSON log file.

This module serves the fake over HTTP; the parts live beside it: ``telegram_state`` (what it
remembers), ``telegram_methods`` (the Bot API handlers), ``telegram_controls`` (the test's
helpers), ``telegram_objects`` (records and Bot API JSON), ``telegram_flood`` (flood limits) and
``telegram_params`` (request parsing). Import everything from here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.fakes.loopback import LoopThread
from tests.fakes.loopback import serve as serve_app
from tests.fakes.telegram_controls import SEND_METHODS, FakeTelegramControls
from tests.fakes.telegram_flood import FloodControl
from tests.fakes.telegram_methods import BotApiMethods
from tests.fakes.telegram_objects import Rejected, SentMessage
from tests.fakes.telegram_params import read_params
from tests.fakes.telegram_state import DEFAULT_TOKEN
from tests.fakes.telegram_validate import ApiError

__all__ = ["DEFAULT_TOKEN", "SEND_METHODS", "FakeTelegram", "FloodControl", "Rejected",
           "SentMessage", "control", "fake_telegram", "read_log", "serve"]


class FakeTelegram(BotApiMethods, FakeTelegramControls):
    """The fake Bot API. Helpers are thread-safe; answers come from the server's event loop."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_username: str = "hedgewatch_test_bot",
                 flood: FloodControl | None = None, log_path: str | Path | None = None,
                 host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(token, bot_username=bot_username, flood=flood, log_path=log_path,
                         host=host, port=port, clock=clock)
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            name[4:].replace("_", "").lower(): getattr(self, name)
            for name in dir(self) if name.startswith("_on_")
        }

    # ---------------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> FakeTelegram:
        self._loop = asyncio.get_running_loop()
        self._changed, self._closing = asyncio.Event(), asyncio.Event()
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/_fake/log", self._control_log)
        app.router.add_post("/_fake/{helper}", self._control)
        self._runner, self.port = await serve_app(app, self.host, self.port,
                                                  shutdown_timeout=0.5)
        return self

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
            self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.write_log()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 5.0) -> FakeTelegram:
        """Serve from a daemon thread with its own loop; returns once the port is bound."""
        self._thread = LoopThread(self.start, self.stop, "fake-telegram")
        self._thread.start(timeout)
        return self

    def stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    # ---------------------------------------------------------------- HTTP plumbing
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"].lower()
        params = await read_params(request)
        with self._lock:
            self.calls.append((request.match_info["method"], params))
            queue = self._faults.get(method) or self._faults.get("*")
            fault = queue.pop(0) if queue else self._lasting_fault(method)
            # a long poll is open by design, not a slow call: counted, settle() could wait
            # for a moment between two polls that it rarely samples
            counted = method != "getupdates"
            self.in_flight += counted
        try:
            if fault is not None:
                await self._apply_fault(request, fault)
            handler = self._handlers.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as err:
            self._reject(request.match_info["method"], params.get("chat_id"), err)
            if request.transport is None or request.transport.is_closing():
                self._unheard(params.get("chat_id"), err)
            return web.json_response(err.body(), status=err.status)
        finally:
            with self._lock:
                self.in_flight -= counted
        self.write_log()
        return web.json_response({"ok": True, "result": result})

    def _unheard(self, chat_id: Any, err: ApiError) -> None:
        """The client left before this answer (a slow call timed out): a 429 it never saw
        does not make its next call to the chat an early retry."""
        with self._lock:
            flood = self._flooded.get(chat_id) if err.status == 429 else None
            if flood is not None:
                self._flooded[chat_id] = (flood[0], False)

    def _lasting_fault(self, method: str) -> dict[str, Any] | None:
        """The fault ``set_outage`` or ``set_latency`` puts on ``method`` (under the lock)."""
        if self._outage is not None and method in self._outage["methods"]:
            return self._outage
        if self._latency is not None and method in self._latency[1]:
            return {"kind": "timeout", "delay": self._latency[0]}
        return None

    async def _apply_fault(self, request: web.Request, fault: dict[str, Any]) -> None:
        if fault["kind"] == "timeout":
            assert self._closing is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault["delay"])
        elif fault["kind"] == "drop":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp drops the connection without an answer
        if fault["kind"] == "error":
            raise ApiError(fault["status"], fault["description"], fault["parameters"])

    def _reject(self, method: str, chat_id: Any, err: ApiError) -> None:
        retry = (err.parameters or {}).get("retry_after")
        with self._lock:
            self.rejected.append(Rejected(method, chat_id, err.status, err.description, retry,
                                          time.time()))
            if isinstance(chat_id, int):
                counter = self.counters.setdefault(chat_id, Counter())
                counter["rejected"] += 1
                counter[str(err.status)] += 1
        self.write_log()

    async def _control(self, request: web.Request) -> web.Response:
        helper = request.match_info["helper"]
        allowed = {"inject_message", "inject_callback", "inject_my_chat_member", "set_admins",
                   "block", "unblock", "migrate", "fail_next", "set_flood", "set_outage",
                   "set_latency", "flood_chat"}
        if helper not in allowed:
            return web.json_response({"ok": False, "description": f"no helper {helper}"},
                                     status=404)
        kwargs = await request.json() if request.can_read_body else {}
        try:
            result = getattr(self, helper)(**kwargs)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _control_log(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot(), dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)


def control(url: str, helper: str, **kwargs: Any) -> Any:
    """Call a helper on a fake running in another process (``url`` is ``FakeTelegram.url``)."""
    req = urllib.request.Request(f"{url}/_fake/{helper}", data=json.dumps(kwargs).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["result"]


def read_log(url: str) -> dict[str, Any]:
    """The snapshot of a fake running in another process."""
    with urllib.request.urlopen(f"{url}/_fake/log", timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A running fake in the test's loop (register with ``pytest_plugins`` or import it)."""
    async with FakeTelegram() as server:
        yield server


def serve(port: int = 0, log_path: str | None = None, token: str = DEFAULT_TOKEN,
          ready_file: str | None = None, flood: FloodControl | None = None) -> None:
    """Serve until SIGTERM/SIGINT; print the port, write it to ``ready_file``, log to JSON."""

    async def main() -> None:
        server = FakeTelegram(token, port=port, log_path=log_path, flood=flood)
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server.write_log()
        if ready_file:
            Path(ready_file).write_text(str(server.port))
        print(f"FAKE_TELEGRAM_PORT={server.port}", flush=True)
        await stop.wait()
        await server.stop()

    asyncio.run(main())


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, default=0)
    cli.add_argument("--log", help="JSON log file, rewritten after every call")
    cli.add_argument("--token", default=DEFAULT_TOKEN)
    cli.add_argument("--ready-file", help="file to write the bound port to")
    cli.add_argument("--no-flood", action="store_true", help="disable flood control")
    args = cli.parse_args()
    serve(args.port, args.log, args.token, args.ready_file,
          FloodControl(enabled=not args.no_flood))
