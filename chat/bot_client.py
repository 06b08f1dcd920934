"""How the bot talks to the Bot API: one rate limiter, HTTP timeouts from the config, and the
reading of Telegram's answers the alert sender needs (``retry_after``, "did it go out?").

Timeouts are set on purpose (``[telegram] connect_timeout``, ``read_timeout``, ...), not left
at PTB's defaults: a read timeout is the one failure after which a message may have arrived
anyway, so it decides how often an alert can reach a chat twice.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from settings.config import Config

# PTB 22 warns on every RetryAfter that ``retry_after`` will become a timedelta; this is its
# documented opt-in to that (our code reads no other such attribute).
os.environ.setdefault("PTB_TIMEDELTA", "true")

BOT_API = "https://api.telegram.org/bot"
OVERALL_RATE = 29.0  # messages/s: under Telegram's ~30/s with room for network jitter
SENDER_WAITS_FLOOD = -1  # ``rate_limit_args``: the caller waits out a 429 itself

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]


class _Flood(Exception):
    def __init__(self, error: RetryAfter) -> None:
        super().__init__(str(error))
        self.error = error


class RateLimiter(AIORateLimiter):
    """AIORateLimiter, plus one choice per call: ``rate_limit_args=SENDER_WAITS_FLOOD`` hands a
    429 straight back to the caller instead of sleeping it out (which would hold every request
    of the bot, for up to a minute, inside one alert drain). The alert sender uses it to keep
    the wait in the outbox (``next_attempt_at``), per chat."""

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, ApiResult]], args: Any,
        kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        if rate_limit_args != SENDER_WAITS_FLOOD:
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)

        async def once(*a: Any, **kw: Any) -> ApiResult:
            try:
                return await callback(*a, **kw)
            except RetryAfter as e:  # not a RetryAfter to AIORateLimiter: it won't sleep on it
                raise _Flood(e) from e

        try:
            return await super().process_request(once, args, kwargs, endpoint, data, None)
        except _Flood as f:
            raise f.error from None


def rate_limiter(config: Config, overall_rate: float = OVERALL_RATE) -> RateLimiter:
    """The one flood-control setting for everything the bot sends (replies and alerts).

    AIORateLimiter's default bucket (30 per 1 s) lets 30 go at once and then 30 more within
    the same second, which a sliding-window limit answers with 429s and a pause for every
    chat; one message per ``1/overall_rate`` s keeps the stream smooth instead. Groups keep
    PTB's 20 per minute; ``max_retries`` is set because its default (0) re-raises RetryAfter.
    """
    return RateLimiter(overall_max_rate=1, overall_time_period=1 / overall_rate,
                       max_retries=config.telegram.max_retries)


def http_request(config: Config) -> HTTPXRequest:
    """The HTTP client for Bot API calls, with ``[telegram]``'s timeouts and pool size."""
    tg = config.telegram
    return HTTPXRequest(connection_pool_size=tg.connection_pool_size,
                        connect_timeout=tg.connect_timeout.seconds,
                        read_timeout=tg.read_timeout.seconds,
                        write_timeout=tg.write_timeout.seconds,
                        media_write_timeout=tg.media_write_timeout.seconds,
                        pool_timeout=tg.pool_timeout.seconds)


def make_bot(config: Config, token: str, *, overall_rate: float = OVERALL_RATE) -> ExtBot[int]:
    """A rate-limited bot for sending alerts without the chat front end (tests, benches);
    ``[telegram] api_url`` points it at a self-hosted or fake Bot API."""
    base = (config.telegram.api_url or BOT_API).rstrip("/")
    return ExtBot(token, base_url=base, base_file_url=base.replace("/bot", "/file/bot"),
                  rate_limiter=rate_limiter(config, overall_rate), request=http_request(config))


def retry_after_s(error: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (a timedelta under ``PTB_TIMEDELTA``, else a number)."""
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def went_out_unanswered(error: NetworkError) -> bool:
    """True when the request was sent and no answer came back (a read timeout, a connection
    closed mid-answer): Telegram may have delivered it. Connect, pool and write timeouts and
    refused connections mean it never arrived whole, and an HTTP error status is an answer."""
    cause = error.__cause__
    if isinstance(cause, httpx.ReadTimeout | httpx.RemoteProtocolError | httpx.ReadError):
        return True
    if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.WriteTimeout):
        return False
    return isinstance(error, TimedOut) and cause is None  # unknown: assume it may have gone
