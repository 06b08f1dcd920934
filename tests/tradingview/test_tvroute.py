"""/tvroute and /tvlog through Telegram (the real Application, the fake Bot API): an operator
makes a route and gets a URL and alert messages that work as pasted; nobody else can; the
route can be listed and revoked; /tvlog says what became of each request. And in webhook
mode the intake is served by the webhook's own server."""

from __future__ import annotations

import json

from storage import tv_routes
from tests.telegram.test_lifecycle import free_port
from tests.tradingview.conftest import ADMIN, GROUP


def filled(template: str, close: float) -> str:
    """What TradingView posts for a template: its placeholders filled in."""
    values = {"{{ticker}}": "BTCUSDT.P", "{{exchange}}": "OKX", "{{close}}": f"{close}",
              "{{interval}}": "60", "{{strategy.order.action}}": "buy",
              "{{strategy.order.contracts}}": "0.1", "{{strategy.position_size}}": "0.1",
              "{{strategy.order.comment}}": "entry"}
    for k, v in values.items():
        template = template.replace(k, v)
    return template


async def test_an_operator_makes_a_route_to_a_forum_topic_and_its_template_works(tv):
    tv.tg.chat(GROUP, "supergroup", is_forum=True)
    answer = await tv.bot.say(f"/tvroute new {GROUP}/7 log", chat=ADMIN)
    text = answer[0].visible_text
    data = tv.bot.replies[-1].data
    assert data["url"].startswith("https://hooks.example.com/tv/")
    assert data["url"] in text and data["passphrase"] in text
    route = tv_routes.list_routes(tv.db)[0]
    assert (route.chat_id, route.thread_id, route.log_trades, route.owner_id) == (
        GROUP, 7, True, ADMIN)
    assert route.passphrase_hash != data["passphrase"]  # only its hash is stored
    snap = await tv.bot.front.services.snapshot()
    close = round(snap.last_price("BTC-USDT-SWAP"), 1)
    sent = []
    for kind in ("strategy", "indicator"):
        body = filled(data["templates"][kind], close)
        json.loads(body)  # what TradingView posts is JSON
        resp = await tv.post(route.token, body, content_type="application/json")
        assert resp.status_code == 200, (kind, resp.text)
        sent += await tv.drain()  # the service drains after each signal
    assert [(m.chat_id, m.thread_id) for m in sent] == [(GROUP, 7), (GROUP, 7)]
    assert "(1h)" in sent[0].visible_text


async def test_only_the_operator_can_make_routes_or_read_the_log(tv):
    for command in ("/tvroute new", "/tvlog"):
        answer = await tv.bot.say(command, chat=5)
        assert "only for the operator" in answer[0].visible_text
    assert tv_routes.list_routes(tv.db) == []


async def test_routes_are_listed_with_their_traffic_and_revoked(tv):
    route = tv.route()
    await tv.post(route, '{"passphrase": "wrong"}', content_type="application/json")
    listing = (await tv.bot.say("/tvroute", chat=ADMIN))[0].visible_text
    assert f"#{route.id} → chat {GROUP}" in listing and "1 refused" in listing
    log = (await tv.bot.say("/tvlog", chat=ADMIN))[0].visible_text
    assert "refused (401)" in log and "127.0.0.1" in log
    assert tv.passphrases[route.id] not in log and route.token not in log
    revoked = (await tv.bot.say(f"/tvroute revoke {route.id}", chat=ADMIN))[0].visible_text
    assert "revoked" in revoked
    assert (await tv.post(route, '{"passphrase": "{PASS}"}')).status_code == 404
    again = (await tv.bot.say(f"/tvroute revoke {route.id}", chat=ADMIN))[0].visible_text
    assert "no active route" in again


async def test_in_webhook_mode_the_intake_shares_the_webhook_server(make_tv):
    port = free_port()
    async with make_tv(telegram={"mode": "webhook", "webhook_url": "https://b.example/hook",
                                 "webhook_listen": "127.0.0.1", "webhook_port": port},
                       tradingview={"public_url": None},
                       webhook_secret="s3cret_token") as tv:
        assert tv.server is None  # no server of its own
        data_reply = await tv.bot.front.dispatcher.handle(
            "/tvroute new", _operator(tv))
        assert data_reply is not None
        assert data_reply.data["url"].startswith("https://b.example/tv/")
        route = tv.route()
        resp = await tv.post(route, '{"passphrase": "{PASS}", "ticker": "BTCUSDT.P", '
                                    '"side": "long", "message": "webhook"}',
                             content_type="application/json")
        assert resp.status_code == 200, resp.text
        hook = await tv.client.post("/hook", content=b"{}",
                                    headers={"Content-Type": "application/json"})
        assert hook.status_code == 403  # the Telegram webhook still wants its secret
        assert len(await tv.drain()) == 1


def _operator(tv):
    from chat.context import CommandContext

    return CommandContext(user_id=ADMIN, chat_id=ADMIN, services=tv.bot.front.services,
                          is_operator=True)


async def test_a_route_to_the_signal_channel_posts_there(make_tv):
    channel = -1009999
    async with make_tv(telegram={"signal_channel": channel}) as tv:
        tv.tg.chat(channel, "channel")
        await tv.bot.say("/tvroute new signal", chat=ADMIN)
        data = tv.bot.replies[-1].data
        assert data["chat_id"] == channel
        token = data["url"].rsplit("/", 1)[-1]
        body = json.dumps({"passphrase": data["passphrase"], "ticker": "SOLUSDT.P",
                           "side": "long", "message": "to the channel"})
        resp = await tv.post(token, body, content_type="application/json")
        assert resp.status_code == 200, resp.text
        sent = await tv.drain()
        assert [m.chat_id for m in sent] == [channel]
        assert "SOL-USDT-SWAP" in sent[0].visible_text
