"""``bot.py run`` with ``[tradingview] enabled``, in process: the intake is up with the
Telegram front end, and a signal posted to it reaches its chat without waiting for a cycle
(the intake kicks the service's one serialised sender)."""

from __future__ import annotations

import asyncio
import json

import httpx

from jobs.service import serve
from runtime import build_runtime
from settings import Config
from settings.secrets import Secrets
from storage import open_database, tv_routes
from tests.fakes.telegram_server import FakeTelegram, FloodControl
from tests.telegram.test_lifecycle import free_port

GROUP = -1001777


async def post_when_up(url: str, body: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(600):  # the service starts: instruments, catch-up cycle, Telegram
            try:
                return await http.post(url, content=body.encode(),
                                       headers={"Content-Type": "application/json"})
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
    raise AssertionError("the intake never came up")


async def test_the_running_service_relays_a_signal_at_once(tmp_path):
    db_path = tmp_path / "hw.db"
    db = open_database(db_path)
    route, passphrase = tv_routes.create_route(db, chat_id=GROUP, owner_id=1, now_ms=0)
    db.close()
    port = free_port()
    async with FakeTelegram(flood=FloodControl(enabled=False)) as tg:
        config = Config().with_overrides(
            exchange={"name": "sim"}, storage={"path": str(db_path)},
            schedule={"interval": "1h", "cascade_symbols": []},
            telegram={"api_url": tg.base_url},
            tradingview={"enabled": True, "listen": "127.0.0.1", "port": port})
        rt = build_runtime(config, Secrets(telegram_token=tg.token), entry_points=False)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(rt, stop))
        try:
            body = json.dumps({"passphrase": passphrase, "ticker": "OKX:ETHUSDT.P",
                               "side": "short", "message": "from the service"})
            resp = await post_when_up(f"http://127.0.0.1:{port}/tv/{route.token}", body)
            assert resp.status_code == 200, resp.text
            sent = await tg.wait_for_messages(1, timeout=30, chat_id=GROUP)
            assert "from the service" in sent[0].visible_text
            assert "ETH-USDT-SWAP" in sent[0].visible_text
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 60) == 0
