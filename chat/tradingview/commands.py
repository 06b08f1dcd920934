"""/tvroute (make, list, revoke TradingView routes) and /tvlog (the intake log): for the bot's
operators only — a route makes the bot post in a chat, and its reply holds a secret."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext
from chat.grammar import parse_trade_id
from chat.tradingview.server import public_url
from i18n import N_, _
from storage import tv_routes
from storage.tv_routes import Route

DAY_MS = 86_400_000
# the intake log's verdicts (stored in English) as /tvroute and /tvlog show them
VERDICTS = {"relayed": N_("relayed"), "held": N_("held"), "duplicate": N_("duplicate"),
            "refused": N_("refused"), "malformed": N_("malformed")}


def verdict_word(verdict: str) -> str:
    return _(VERDICTS[verdict]) if verdict in VERDICTS else verdict


def chat_words(route: Route) -> str:
    """"chat -100123" or "chat -100123 topic 7", in the current language."""
    if route.thread_id:
        return _("chat {chat_id} topic {topic}").format(chat_id=route.chat_id,
                                                         topic=route.thread_id)
    return _("chat {chat_id}").format(chat_id=route.chat_id)


def alert_templates(passphrase: str, leverage: float) -> dict[str, str]:
    """The alert messages to paste into TradingView's Message box (placeholders unfilled)."""
    strategy = {"passphrase": passphrase, "ticker": "{{ticker}}", "exchange": "{{exchange}}",
                "close": "{{close}}", "interval": "{{interval}}",
                "action": "{{strategy.order.action}}",
                "contracts": "{{strategy.order.contracts}}",
                "position_size": "{{strategy.position_size}}", "leverage": leverage,
                "message": "{{strategy.order.comment}}"}
    indicator = {"passphrase": passphrase, "ticker": "{{ticker}}", "exchange": "{{exchange}}",
                 "close": "{{close}}", "interval": "{{interval}}", "side": "long",
                 "leverage": leverage, "message": _("my signal")}  # relayed back as typed
    return {"strategy": json.dumps(strategy, ensure_ascii=False),
            "indicator": json.dumps(indicator, ensure_ascii=False)}  # UTF-8, as TV sends


@dataclass(frozen=True)
class RouteRequest:
    action: str  # list, new, revoke
    target: str = "here"
    log_trades: bool = False
    route_id: int | None = None


def _destination(target: str, ctx: CommandContext) -> tuple[int, int | None]:
    """``here`` / ``signal`` / ``<chat id>`` / ``<chat id>/<topic id>`` → (chat, topic)."""
    if target == "here":
        return ctx.chat_id, ctx.extra.get("thread_id")
    if target == "signal":
        channel = ctx.services.config.telegram.signal_channel
        if not isinstance(channel, int):
            raise ArgumentError(_("[telegram] signal_channel must be the channel's numeric id "
                                  "(e.g. -1001234567890) for a route to it"))
        return channel, None
    chat, _sep, topic = target.partition("/")
    try:
        chat_id, thread_id = int(chat), int(topic) if topic else None
    except ValueError:
        chat_id, thread_id = 0, None
    if not 0 < abs(chat_id) < 2**52 or (thread_id is not None and not 0 < thread_id < 2**31):
        raise ArgumentError(_("'{target}' is not a destination: here, signal, a chat id or "
                              "<chat id>/<topic id>, e.g. /tvroute new -1001234567890/7")
                            .format(target=target[:40]))
    return chat_id, thread_id


def route_id(token: str, example: str) -> int:
    """``3`` or ``#3`` (the grammar of trade ids: a bounded positive number)."""
    try:
        return parse_trade_id(token, example)
    except ArgumentError:
        raise ArgumentError(_("'{token}' is not a route id like 3, e.g. {example}").format(
            token=token[:20], example=example)) from None


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%m-%d %H:%M:%S")


class TvRoute(Command):
    name = "tvroute"
    summary = N_("TradingView alerts in: make, list or revoke a route to a chat")
    usage = N_("/tvroute [new [here|signal|<chat id>[/<topic id>]] [log] | revoke <id>]")
    examples = ("/tvroute new", "/tvroute new -1001234567890/7", "/tvroute new here log",
                "/tvroute", "/tvroute revoke 3")
    operator_only = True

    def parse(self, args: list[str]) -> RouteRequest:
        words = [a.lower() for a in args]
        if not words or words == ["list"]:
            return RouteRequest("list")
        if words[0] == "revoke":
            if len(words) != 2:
                raise ArgumentError(_("Which route? e.g. {example}").format(
                    example=self.examples[4]))
            return RouteRequest("revoke", route_id=route_id(words[1], self.examples[4]))
        if words[0] != "new":
            raise ArgumentError(_("Usage: {usage}").format(usage=_(self.usage)))
        rest = words[1:]
        log_trades = "log" in rest
        rest = [w for w in rest if w != "log"]
        if len(rest) > 1:
            raise ArgumentError(_("One destination per route, e.g. {example}").format(
                example=self.examples[1]))
        return RouteRequest("new", rest[0] if rest else "here", log_trades)

    async def answer(self, request: RouteRequest, ctx: CommandContext) -> Reply:
        s = ctx.services
        if request.action == "revoke":
            assert request.route_id is not None
            if not tv_routes.revoke_route(s.db, request.route_id, s.now_ms()):
                raise ArgumentError(_("There is no active route #{id} — see /tvroute.").format(
                    id=request.route_id))
            return Reply(data={"revoked": request.route_id}, text=[
                _("Route #{id} revoked: its URL answers 404 from now on.").format(
                    id=request.route_id)])
        if request.action == "new":
            return self._new(request, ctx)
        return self._list(ctx)

    def _new(self, request: RouteRequest, ctx: CommandContext) -> Reply:
        s = ctx.services
        chat_id, thread_id = _destination(request.target, ctx)
        route, passphrase = tv_routes.create_route(
            s.db, chat_id=chat_id, thread_id=thread_id, owner_id=ctx.user_id,
            now_ms=s.now_ms(), log_trades=request.log_trades)
        url = public_url(s.config, route.token)
        templates = alert_templates(passphrase, s.config.risk.leverage)
        where = {"id": route.id, "chat": chat_words(route)}
        if request.target == "here":
            head = (_("Route #{id} → {chat} (this chat); signals logged as your trades: yes.")
                    if route.log_trades else
                    _("Route #{id} → {chat} (this chat); signals logged as your trades: no."))
        else:
            head = (_("Route #{id} → {chat}; signals logged as your trades: yes.")
                    if route.log_trades else
                    _("Route #{id} → {chat}; signals logged as your trades: no."))
        lines = [head.format(**where),
                 _("Webhook URL: {url}").format(url=url),
                 _("Alert message for a strategy (paste into TradingView's Message box):"),
                 templates["strategy"],
                 _("For an indicator alert, set \"side\" yourself:"),
                 templates["indicator"],
                 _("Keep the URL and passphrase secret; they are shown only now. "
                   "/tvroute revoke {id} stops the route.").format(id=route.id)]
        if not s.config.tradingview.enabled:
            lines.append(_("⚠ [tradingview] enabled = false: the intake is not running yet."))
        return Reply(data={"route_id": route.id, "url": url, "passphrase": passphrase,
                           "chat_id": chat_id, "thread_id": thread_id,
                           "log_trades": route.log_trades, "templates": templates},
                     text=lines)

    def _list(self, ctx: CommandContext) -> Reply:
        s = ctx.services
        since = s.now_ms() - DAY_MS
        rows: list[dict[str, Any]] = []
        lines = []
        for r in tv_routes.list_routes(s.db):
            counts = tv_routes.intake_counts(s.db, r.id, since)
            rows.append({"id": r.id, "chat_id": r.chat_id, "thread_id": r.thread_id,
                         "owner_id": r.owner_id, "log_trades": r.log_trades,
                         "created_at": r.created_at, "last_24h": counts})
            seen = ", ".join(_("{n} {verdict}").format(n=n, verdict=verdict_word(v))
                             for v, n in sorted(counts.items())) or _("nothing")
            values = {"id": r.id, "chat": chat_words(r), "seen": seen}
            lines.append((_("#{id} → {chat} · logs trades · last 24h: {seen}") if r.log_trades
                          else _("#{id} → {chat} · last 24h: {seen}")).format(**values))
        if not lines:
            lines = [_("No TradingView routes yet. Make one with {example}.").format(
                example=self.examples[0])]
        return Reply(data={"routes": rows}, text=lines)


class TvLog(Command):
    name = "tvlog"
    summary = N_("the last TradingView requests and what became of each")
    usage = N_("/tvlog [route id]")
    examples = ("/tvlog", "/tvlog 3")
    operator_only = True

    def parse(self, args: list[str]) -> int | None:
        if not args:
            return None
        if len(args) == 1:
            return route_id(args[0], self.examples[1])
        raise ArgumentError(_("/tvlog takes a route id or nothing, e.g. {example}").format(
            example=self.examples[1]))

    async def answer(self, request: int | None, ctx: CommandContext) -> Reply:
        rows = tv_routes.recent_intake(ctx.services.db, route_id=request)
        data = [{"received_at": r.received_at, "route_id": r.route_id, "ip": r.remote_ip,
                 "status": r.status, "verdict": r.verdict, "detail": r.detail,
                 "ticker": r.ticker, "symbol": r.symbol, "alert_id": r.alert_id}
                for r in rows]
        lines = [f"{_when(r.received_at)} #{r.route_id or '?'} {verdict_word(r.verdict)} "
                 f"({r.status})" + (f" {r.ticker}" if r.ticker else "")
                 + (f" → {r.symbol}" if r.symbol and r.symbol != r.ticker else "")
                 + f": {r.detail}" + (f" [{r.remote_ip}]" if r.status >= 400 else "")
                 for r in rows]
        return Reply(data={"intake": data}, text=[
            _("TradingView intake, newest first (UTC):"), *lines] if lines else [
            _("No TradingView requests yet.")])
