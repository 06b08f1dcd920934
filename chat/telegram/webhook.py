"""The webhook server Telegram POSTs updates to (``[telegram] mode = "webhook"``).

PTB's built-in server calls ``json.loads`` on the body unguarded, so a body that is not JSON
(or not UTF-8) is answered 500, as if the bot were broken. This is PTB's documented
"custom webhook" set-up instead — the Application is built without an Updater and this
tornado server (the ``webhooks`` extra) puts each update on ``application.update_queue`` —
with the same checks in the same order and every malformed request answered 4xx:
403 without the secret token, 415 for a body that is not declared JSON, 400 for a body that
is not a JSON object or not an Update. Telegram drops a 4xx delivery instead of retrying it.
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram.ext import Application, ExtBot
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import HTTPError, RequestHandler

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateHandler(RequestHandler):
    """One POST, one update on the queue; anything else a short 4xx."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot_app: Application[Any, Any, Any, Any, Any, Any],
                   secret: str | None) -> None:
        self.bot_app = bot_app
        self.secret = secret

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", 'application/json; charset="utf-8"')

    def _refuse(self, status: HTTPStatus, reason: str) -> None:
        log.warning("webhook: %s from %s answered %d", reason, self.request.remote_ip,
                    status.value)
        raise HTTPError(status.value, reason=reason)

    async def post(self) -> None:
        token = self.request.headers.get(SECRET_HEADER, "")
        if self.secret is not None and not hmac.compare_digest(token.encode(),
                                                               self.secret.encode()):
            self._refuse(HTTPStatus.FORBIDDEN, "missing or wrong secret token")
        media = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media != "application/json":
            self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "body not declared as JSON")
        try:
            data = json.loads(self.request.body)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            self._refuse(HTTPStatus.BAD_REQUEST, "body is not JSON")
        if not isinstance(data, dict):
            self._refuse(HTTPStatus.BAD_REQUEST, "body is not a JSON object")
        bot = self.bot_app.bot
        try:
            update = Update.de_json(data, bot)
        except Exception:  # any field PTB cannot read
            update = None
        if update is None:
            self._refuse(HTTPStatus.BAD_REQUEST, "body is not a Telegram update")
        assert update is not None
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(update)
        await self.bot_app.update_queue.put(update)
        self.set_status(HTTPStatus.OK)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, HTTPError):  # refusals are logged once, by _refuse
            super().log_exception(typ, value, tb)


class WebhookServer:
    """``await server.start()`` / ``await server.stop()`` around the Application's run."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], *,
                 listen: str, port: int, url_path: str, secret: str | None) -> None:
        path = "/" + url_path.strip("/")
        web = WebApplication([(rf"{path}/?", UpdateHandler,
                               {"bot_app": application, "secret": secret})],
                             log_function=lambda _handler: None)
        self.web = web  # other routes may be added (the TradingView intake)
        self.http = HTTPServer(web)
        self.listen, self.port = listen, port

    async def start(self) -> None:
        self.http.listen(self.port, address=self.listen)

    async def stop(self) -> None:
        self.http.stop()
        await self.http.close_all_connections()
