"""The web side of the TradingView intake: ``POST /tv/<route token>`` on tornado.

tornado is already here (python-telegram-bot's ``webhooks`` extra, our webhook server), so the
intake adds no web library: in webhook mode its route is added to the webhook's own server
(one port, one TLS proxy); in polling mode it gets a small server of its own on
``[tradingview] listen``/``port``. Only the path's token and the answer's one line cross this
file; everything else is ``chat.tradingview.intake``. Nothing here logs a token or a body.
"""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import urlparse

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from chat.tradingview.intake import TradingViewIntake
from settings.config import Config

log = logging.getLogger(__name__)
PATH = r"/tv/([A-Za-z0-9_-]{1,128})/?"
MAX_BODY_CAP = 1_000_000  # tornado refuses anything larger before reading it


class IntakeHandler(RequestHandler):
    """POST only; the answer is one line of plain text."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, intake: TradingViewIntake) -> None:
        self.intake = intake

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")

    async def post(self, token: str) -> None:
        headers = {k: v for k, v in self.request.headers.get_all()}
        answer = await self.intake.handle(token, self.request.body, headers,
                                          self.request.remote_ip or "")
        self.set_status(answer.status)
        self.finish(answer.text + "\n")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(f"{self._reason}\n")


def handlers(intake: TradingViewIntake) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    return [(PATH, IntakeHandler, {"intake": intake})]


def public_url(config: Config, token: str) -> str:
    """The URL TradingView posts to: ``[tradingview] public_url``, else the webhook URL's
    origin in webhook mode, else the intake's own listen address and port."""
    tv, tg = config.tradingview, config.telegram
    if tv.public_url:
        base = tv.public_url.rstrip("/")
    elif tg.mode == "webhook" and tg.webhook_url:
        u = urlparse(tg.webhook_url)
        base = f"{u.scheme}://{u.netloc}"
    else:
        host = socket.gethostname() if tv.listen in ("0.0.0.0", "::") else tv.listen
        base = f"http://{host}:{tv.port}"
    return f"{base}/tv/{token}"


class IntakeServer:
    """The intake's own server (polling mode). ``port`` 0 picks a free one (tests)."""

    def __init__(self, intake: TradingViewIntake, *, listen: str, port: int) -> None:
        web = WebApplication(handlers(intake), log_function=lambda _handler: None)
        self.http = HTTPServer(web, max_body_size=MAX_BODY_CAP)
        self.listen, self.port = listen, port

    async def start(self) -> None:
        sockets = bind_sockets(self.port, address=self.listen)
        self.port = sockets[0].getsockname()[1]
        self.http.add_sockets(sockets)
        log.info("TradingView intake listening on %s:%d", self.listen, self.port)

    async def stop(self) -> None:
        self.http.stop()
        await self.http.close_all_connections()


async def start_intake(config: Config, intake: TradingViewIntake,
                       webhook_server: Any = None, *, port: int | None = None
                       ) -> IntakeServer | None:
    """Serve the intake: on the webhook's server when given (nothing to stop: it stops with
    Telegram), else on its own. Returns the server to stop, or None."""
    if webhook_server is not None:
        webhook_server.web.add_handlers(r".*", handlers(intake))
        log.info("TradingView intake served by the webhook server at /tv/<token>")
        return None
    server = IntakeServer(intake, listen=config.tradingview.listen,
                          port=config.tradingview.port if port is None else port)
    await server.start()
    return server
