"""The running bot (real PTB Application, fake Bot API, SQLite in tmp_path, the sim market)
with the TradingView intake on its own server on 127.0.0.1, an HTTP client to post to it, and
the alert sender on a clock the test moves.

``async with make_tv(tradingview={...}) as tv``: ``tv.post(route, body)`` sends a request
(the route's passphrase is filled into ``{PASS}``), ``await tv.drain()`` runs the sender as
the service would after a signal, ``tv.advance(s)`` moves the clock.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat.context import Services
from chat.sender import Sender
from chat.telegram import build_application, start_telegram, stop_telegram
from chat.telegram.app import WEBHOOK_SERVER
from chat.tradingview.intake import TradingViewIntake
from chat.tradingview.server import IntakeServer, start_intake
from plugins.exchanges.sim_market import SimMarket
from settings import Config
from storage import open_database, tv_routes
from storage.tv_routes import Route
from tests.fakes.telegram_server import FakeTelegram, FloodControl, SentMessage
from tests.telegram.conftest import FIXED_NOW, Harness, registered_commands

ADMIN = 9  # [telegram] admins: the operator, in their private chat
GROUP = -1001234567890


@pytest.fixture(scope="session")
def sim_market() -> SimMarket:
    return SimMarket(Config().exchange.model_copy(update={"name": "sim"}))


class TV:
    """A running bot with its intake; routes made here keep their passphrase."""

    def __init__(self, bot: Harness, intake: TradingViewIntake, server: IntakeServer | None,
                 sender: Sender, client: httpx.AsyncClient, clock: list[float]) -> None:
        self.bot, self.intake, self.server, self.sender = bot, intake, server, sender
        self.client, self.clock = client, clock
        self.passphrases: dict[int, str] = {}

    @property
    def db(self) -> Any:
        return self.bot.db

    @property
    def tg(self) -> FakeTelegram:
        return self.bot.tg

    def route(self, chat_id: int = GROUP, thread_id: int | None = None,
              log_trades: bool = False, owner_id: int = ADMIN) -> Route:
        route, passphrase = tv_routes.create_route(
            self.db, chat_id=chat_id, thread_id=thread_id, owner_id=owner_id,
            now_ms=int(self.clock[0] * 1000), log_trades=log_trades)
        self.passphrases[route.id] = passphrase
        return route

    async def post(self, route: Route | str, body: Any, *, content_type: str | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        token = route if isinstance(route, str) else route.token
        if isinstance(body, dict):
            body = json.dumps(body)
            content_type = content_type or "application/json"
        if not isinstance(route, str) and isinstance(body, str):
            body = body.replace("{PASS}", self.passphrases[route.id])
        h = {"Content-Type": content_type or "text/plain; charset=utf-8", **(headers or {})}
        return await self.client.post(f"/tv/{token}",
                                      content=body if isinstance(body, bytes) else body.encode(),
                                      headers=h)

    async def drain(self) -> list[SentMessage]:
        before = len(self.tg.messages)
        await self.sender.drain()
        return self.tg.messages[before:]

    def advance(self, seconds: float) -> None:
        self.clock[0] += seconds


@contextlib.asynccontextmanager
async def running_tv(tmp_path: Path, sim_market: SimMarket, *,
                     tradingview: dict[str, Any] | None = None,
                     telegram: dict[str, Any] | None = None,
                     webhook_secret: str | None = None) -> AsyncIterator[TV]:
    """In webhook mode the intake is served by the webhook's server, as ``bot.py run`` does;
    otherwise by its own server on a free port."""
    async with FakeTelegram(flood=FloodControl(enabled=False)) as tg:
        clock = [FIXED_NOW]
        config = Config().with_overrides(
            exchange={"name": "sim"},
            telegram={"api_url": tg.base_url, "admins": [ADMIN], **(telegram or {})},
            storage={"path": str(tmp_path / "hw.db")},
            tradingview={"enabled": True, "public_url": "https://hooks.example.com",
                         **(tradingview or {})})
        commands = registered_commands()
        db = open_database(config.storage.path)
        services = Services(config, db, sim_market, commands={c.name: c for c in commands},
                            clock=lambda: clock[0])
        app = build_application(config, tg.token, services, warm=True,
                                webhook_secret=webhook_secret)
        harness = Harness(tg, app, db)
        await start_telegram(app, poll_timeout=1)
        intake = TradingViewIntake(services)
        webhook = app.bot_data.get(WEBHOOK_SERVER)
        server = await start_intake(config, intake, webhook, port=0)
        port = server.port if server is not None else config.telegram.webhook_port
        sender = Sender(db, app.bot, config, clock=lambda: clock[0], per_chat_interval=0.0)
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
        try:
            yield TV(harness, intake, server, sender, client, clock)
        finally:
            await client.aclose()
            if server is not None:
                await server.stop()
            await stop_telegram(app)
            db.conn.close()


@pytest.fixture
def make_tv(tmp_path: Path, sim_market: SimMarket):
    def make(**kwargs: Any) -> contextlib.AbstractAsyncContextManager[TV]:
        return running_tv(tmp_path, sim_market, **kwargs)
    return make


@pytest.fixture
async def tv(make_tv) -> AsyncIterator[TV]:
    async with make_tv() as running:
        yield running
