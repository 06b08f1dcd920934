"""Build and run the python-telegram-bot Application of hedgewatch.

``build_application(config, token, services)`` wires the handlers, AIORateLimiter with
``[telegram] max_retries``, ``[telegram] api_url`` (a self-hosted Bot API server or a fake),
``post_init`` (bot commands, the signal-channel check, the warm snapshot) and
``post_shutdown`` (close the market source).

Run it on the caller's event loop, next to other jobs::

    app = build_application(config, secrets.telegram_token, services,
                            webhook_secret=secrets.webhook_secret)
    await start_telegram(app)      # initialize, post_init, polling or webhook, start
    ...                            # the scheduler runs on the same loop
    await stop_telegram(app)       # the reverse, then post_shutdown

or on its own with ``run_telegram(app)`` (PTB's ``run_polling``/``run_webhook``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import re
from collections.abc import Sequence
from urllib.parse import urlparse

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    ChatMember,
)
from telegram.error import TelegramError
from telegram.ext import Application

from chat.bot_client import http_request, rate_limiter
from chat.commands.base import Command
from chat.commands.help import grouped
from chat.context import Services
from chat.dispatch import Dispatcher
from chat.telegram.groups import AdminCache, Allowlist
from chat.telegram.handlers import FRONT, TelegramFront, add_handlers
from chat.telegram.keys import add_key_handlers
from chat.telegram.webhook import WebhookServer
from i18n import DEFAULT, LANGUAGES, _, use
from settings.config import Config

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_SERVER = "webhook_server"


def api_urls(api_url: str) -> tuple[str, str]:
    """``[telegram] api_url`` → (base_url, base_file_url); ``http://host:8081`` and
    ``http://host:8081/bot`` both mean the server at host:8081."""
    base = api_url.rstrip("/")
    if not base.endswith("/bot"):
        base += "/bot"
    return base, base.removesuffix("/bot") + "/file/bot"


def build_application(config: Config, token: str, services: Services, *,
                      commands: Sequence[Command] | None = None,
                      webhook_secret: str | None = None, warm: bool = True,
                      concurrent_updates: int = 8) -> Application:
    """The configured Application; ``commands`` default to ``services.commands``."""
    if not token:
        raise ValueError(_("no bot token: set TELEGRAM_BOT_TOKEN"))
    tg = config.telegram
    if tg.mode == "webhook":
        if not tg.webhook_url:
            raise ValueError(_("[telegram] mode = \"webhook\" needs webhook_url"))
        if not webhook_secret or not _SECRET.fullmatch(webhook_secret):
            raise ValueError(_("webhook mode needs TELEGRAM_WEBHOOK_SECRET (1-256 characters "
                               "of A-Z, a-z, 0-9, _ and -)"))
        if importlib.util.find_spec("tornado") is None:
            raise ValueError(_("webhook mode needs python-telegram-bot[webhooks] installed"))
    commands = list(commands if commands is not None else services.commands.values())
    if not services.commands:
        services.commands = {c.name: c for c in commands}
    builder = (Application.builder().token(token)
               .rate_limiter(rate_limiter(config))
               .request(http_request(config))  # [telegram] timeouts and pool size
               .concurrent_updates(concurrent_updates)
               .post_init(_post_init).post_shutdown(_post_shutdown))
    if tg.api_url:
        base, files = api_urls(tg.api_url)
        builder = builder.base_url(base).base_file_url(files)
    if tg.mode == "webhook":  # our own server takes the updates (chat.telegram.webhook)
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data[FRONT] = TelegramFront(
        services=services, dispatcher=Dispatcher(commands),
        admins=AdminCache(tg.admins), allowlist=Allowlist(tg.allowed_chats, tg.admins))
    app.bot_data["webhook_secret"] = webhook_secret
    app.bot_data["warm"] = warm
    add_handlers(app)
    add_key_handlers(app)
    return app


async def _post_init(app: Application) -> None:
    """Name the bot in the dispatcher, publish the commands, check the signal channel, warm."""
    front: TelegramFront = app.bot_data[FRONT]
    front.dispatcher.bot_name = app.bot.username
    await publish_commands(app.bot, list(front.dispatcher.commands.values()))
    front.signal_ok = await check_signal_channel(app.bot,
                                                 front.services.config.telegram.signal_channel)
    if app.bot_data.get("warm"):
        try:
            await front.services.warm()
        except Exception as e:  # the bot still answers; the first command fetches again
            log.warning("warming the market snapshot failed: %s", e, exc_info=True)


async def _post_shutdown(app: Application) -> None:
    """Close the market source."""
    await app.bot_data[FRONT].services.close()


async def publish_commands(bot: Bot, commands: Sequence[Command]) -> None:
    """``setMyCommands`` per scope, in /help's task order: every command in private chats
    (and as the default); in groups the non-personal ones, without the settings commands
    that only admins may use; for group admins those too. Operator-only commands are in no
    menu (they work when the operator types them)."""
    valid = [c for c in commands if _COMMAND_NAME.fullmatch(c.name)]
    for c in commands:
        if c not in valid:
            log.warning("command /%s can't be listed in Telegram's menu (names are 1-32 of "
                        "a-z, 0-9 and _); it still works when typed", c.name)
    ordered = [c for cs in grouped(c for c in valid if not c.operator_only).values()
               for c in cs]

    def menu(cs: Sequence[Command]) -> list[BotCommand]:
        return [BotCommand(c.name, _(c.summary or c.name)[:256]) for c in cs[:100]]

    in_groups = [c for c in ordered if not c.private_only]
    scopes = [(ordered, None), (ordered, BotCommandScopeAllPrivateChats()),
              ([c for c in in_groups if not c.admin_only], BotCommandScopeAllGroupChats()),
              (in_groups, BotCommandScopeAllChatAdministrators())]
    try:
        # English is the default menu; each other language is set for its ISO 639-1 code
        # ("zh": Telegram matches every zh-* app language to it)
        for lang in LANGUAGES:
            code = None if lang == DEFAULT else lang.split("_")[0]
            with use(lang):
                for cs, scope in scopes:
                    await bot.set_my_commands(menu(cs), scope=scope, language_code=code)
    except TelegramError as e:
        log.warning("setMyCommands failed (the commands still work): %s", e)


async def check_signal_channel(bot: Bot, channel: int | str | None) -> bool | None:
    """Can the bot post to ``[telegram] signal_channel``? Logs clearly when not."""
    if channel is None:
        return None
    try:
        chat = await bot.get_chat(channel)
        member = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError as e:
        log.error("signal channel %s: the bot can't reach it (%s). Add the bot to the channel "
                  "as an administrator allowed to post messages.", channel, e)
        return False
    if chat.type == "channel":
        ok = member.status == ChatMember.OWNER or (
            member.status == ChatMember.ADMINISTRATOR
            and getattr(member, "can_post_messages", None) is not False)
        need = "an administrator allowed to post messages"
    else:
        ok = member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER) \
            or (member.status == ChatMember.RESTRICTED
                and getattr(member, "can_send_messages", False))
        need = "a member allowed to send messages"
    if ok:
        log.info("signal channel %s (%s): the bot can post there", channel, chat.type)
    else:
        log.error("signal channel %s (%s): the bot is '%s' there and can't post market-wide "
                  "alerts. Make it %s.", channel, chat.type, member.status, need)
    return ok


async def start_telegram(app: Application, *, poll_interval: float = 0.0,
                         poll_timeout: int = 10) -> None:
    """Start on the running loop: initialize, post_init, then polling or the webhook, then
    the handlers (``run_polling`` without taking over the loop)."""
    tg = app.bot_data[FRONT].services.config.telegram
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        if tg.mode == "webhook":
            secret = app.bot_data.get("webhook_secret")
            server = WebhookServer(app, listen=tg.webhook_listen, port=tg.webhook_port,
                                   url_path=urlparse(tg.webhook_url or "").path, secret=secret)
            await server.start()
            app.bot_data[WEBHOOK_SERVER] = server
            await app.bot.set_webhook(url=tg.webhook_url or "", secret_token=secret,
                                      allowed_updates=ALLOWED_UPDATES)
        else:
            updater = app.updater
            assert updater is not None
            await updater.start_polling(poll_interval=poll_interval, timeout=poll_timeout,
                                        allowed_updates=ALLOWED_UPDATES)
        await app.start()
    except BaseException:  # leave nothing half-open behind
        await stop_telegram(app)
        raise
    log.info("Telegram front end running as @%s (%s)", app.bot.username, tg.mode)


async def stop_telegram(app: Application) -> None:
    """The reverse of ``start_telegram``: stop updates, handlers, then shut down."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    server = app.bot_data.pop(WEBHOOK_SERVER, None)
    if server is not None:
        await server.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)


def run_telegram(app: Application) -> None:
    """Run the bot alone, blocking, on its own loop until Ctrl-C (PTB's run_polling, or the
    webhook server of ``chat.telegram.webhook``)."""
    tg = app.bot_data[FRONT].services.config.telegram
    if tg.mode != "webhook":
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
        return

    async def serve() -> None:
        await start_telegram(app)
        try:
            await asyncio.Event().wait()
        finally:
            await stop_telegram(app)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
