"""Drain the outbox to Telegram: many chats in parallel, one message in flight per chat.

Each delivery goes ``pending → sending`` (committed) → HTTP call → ``sent`` with its message id
(committed). After a crash the deliveries left in ``sending`` are sent once more: the Bot API
has no idempotency key, so a message in flight at the moment of a kill may arrive twice, and
because a chat never has two in flight that is at most one duplicate per chat.

Failures: flood limits are AIORateLimiter's (30/s overall, 20/min per group; ``RetryAfter`` is
retried ``[telegram] max_retries`` times); other transient errors (``NetworkError`` other than
``BadRequest``, 5xx, timeouts) are retried with exponential backoff; ``Forbidden`` marks the
chat inactive and gives up its deliveries; ``ChatMigrated`` moves the chat to its new id and
sends there; any other ``BadRequest`` fails that delivery only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlite_utils import Database
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from chat.alert_charts import chart_png
from chat.alert_render import RenderedAlert, render_alert
from chat.telegram_send import send_html, send_html_photo
from settings.config import Config
from storage import chats, outbox
from storage.outbox import Delivery, StoredAlert

log = logging.getLogger(__name__)


OVERALL_RATE = 29.0  # messages/s: under Telegram's ~30/s with room for network jitter


def rate_limiter(config: Config, overall_rate: float = OVERALL_RATE) -> AIORateLimiter:
    """The one flood-control setting for everything the bot sends (replies and alerts).

    AIORateLimiter's default bucket (30 per 1 s) lets 30 go at once and then 30 more within
    the same second, which a sliding-window limit answers with 429s and a pause for every
    chat; one message per ``1/overall_rate`` s keeps the stream smooth instead. Groups keep
    PTB's 20 per minute; ``max_retries`` is set because its default (0) re-raises RetryAfter.
    """
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / overall_rate,
                          max_retries=config.telegram.max_retries)


def make_bot(config: Config, token: str, *, overall_rate: float = OVERALL_RATE) -> ExtBot:
    """A rate-limited bot for sending alerts without the chat front end (tests, benches);
    ``[telegram] api_url`` points it at a self-hosted or fake Bot API."""
    kwargs = {}
    if config.telegram.api_url:
        base = config.telegram.api_url.rstrip("/")
        kwargs = {"base_url": base, "base_file_url": base.replace("/bot", "/file/bot")}
    limiter = rate_limiter(config, overall_rate)
    return ExtBot(token, rate_limiter=limiter,
                  request=HTTPXRequest(connection_pool_size=128, pool_timeout=30.0,
                                       read_timeout=15.0, media_write_timeout=30.0), **kwargs)


@dataclass
class DrainReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    blocked: int = 0
    migrated: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)


class _StopChat(Exception):
    """The chat can take no more messages (blocked, kicked)."""


class Sender:
    """``await Sender(db, bot, config).drain()`` sends every due delivery and returns a report.

    ``per_chat_interval`` spaces messages to one chat (Telegram allows about one a second per
    private chat, which AIORateLimiter does not enforce); ``backoff`` is the first retry delay,
    doubled per attempt up to ``backoff_cap``; after ``attempts_per_drain`` tries a delivery
    waits for the next drain, after ``max_attempts`` in all it fails.
    """

    def __init__(self, db: Database, bot: ExtBot, config: Config, *, concurrency: int = 64,
                 per_chat_interval: float = 1.0, backoff: float = 0.5, backoff_cap: float = 30.0,
                 attempts_per_drain: int = 4, max_attempts: int = 10,
                 clock: Callable[[], float] = time.time) -> None:
        self.db, self.bot, self.config = db, bot, config
        self.concurrency = concurrency
        self.per_chat_interval = per_chat_interval
        self.backoff, self.backoff_cap = backoff, backoff_cap
        self.attempts_per_drain, self.max_attempts = attempts_per_drain, max_attempts
        self.clock = clock
        self._recovered = False
        self._alerts: dict[int, tuple[StoredAlert, RenderedAlert]] = {}
        self._pngs: dict[int, asyncio.Task[bytes | None]] = {}
        self._photo_ids: dict[int, str] = {}  # alert id -> Telegram file_id after 1st upload
        self._last_send: dict[int | str, float] = {}
        # since start, for /metrics (jobs.metrics): Bot API errors by kind, and retries
        self.telegram_errors: Counter[str] = Counter()
        self.retries = 0

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def drain(self) -> DrainReport:
        """Send every due delivery; returns when none is due (backoffs may leave some for the
        next drain). The first drain of a process re-sends what a crash left in flight."""
        report = DrainReport()
        if not self._recovered:
            report.recovered = outbox.recover_sending(self.db, self.now_ms())
            self._recovered = True
            if report.recovered:
                log.warning("re-sending %d deliveries left in flight by a crash",
                            report.recovered)
        await self.bot.initialize()
        sem = asyncio.Semaphore(self.concurrency)
        while due := outbox.due_deliveries(self.db, self.now_ms()):
            by_chat: dict[int | str, list[Delivery]] = defaultdict(list)
            for d in due:
                by_chat[d.chat_id].append(d)

            async def run(chat_id: int | str, ds: list[Delivery]) -> None:
                async with sem:
                    await self._chat(chat_id, ds, report)

            await asyncio.gather(*(run(c, ds) for c, ds in by_chat.items()))
        return report

    # --- one chat at a time: never two messages in flight to the same chat ------------------

    async def _chat(self, chat_id: int | str, deliveries: list[Delivery],
                    report: DrainReport) -> None:
        target = chat_id
        for d in deliveries:
            try:
                target = await self._deliver(d, target, report)
            except _StopChat:
                return
            except Exception as e:  # a bug (rendering, charts) must not stop the other chats
                log.error("delivery %s to %s failed: %s", d.id, target, e, exc_info=True)
                outbox.mark_failed(self.db, d.id, f"{type(e).__name__}: {e}", self.now_ms())
                report.failed += 1
                report.errors.append(f"{d.id}: {type(e).__name__}: {e}")

    async def _deliver(self, d: Delivery, chat_id: int | str, report: DrainReport
                       ) -> int | str:
        """Send one delivery (retrying what is worth retrying); returns the chat id to use
        for this chat's next deliveries (it changes when the group migrated)."""
        stored, rendered = self._alert(d.alert_id)
        attempt = d.attempts
        for tries in range(1, self.attempts_per_drain + 1):
            await self._pace(chat_id)
            if not outbox.mark_sending(self.db, d.id, self.now_ms()):
                return chat_id  # no longer pending: sent or given up elsewhere
            attempt += 1
            try:
                msg = await self._send(stored, rendered, chat_id)
            except ChatMigrated as e:
                self.telegram_errors["migrated"] += 1
                new = int(e.new_chat_id)
                log.info("chat %s migrated to %s", chat_id, new)
                outbox.migrate_chat(self.db, int(chat_id), new, self.now_ms())
                report.migrated += 1
                chat_id = new
                continue
            except Forbidden as e:
                self.telegram_errors["forbidden"] += 1
                now = self.now_ms()
                if isinstance(chat_id, int):
                    chats.set_active(self.db, chat_id, False, now_ms=now)
                report.blocked += 1
                report.failed += outbox.fail_chat(self.db, chat_id, f"forbidden: {e}", now)
                raise _StopChat from e
            except RetryAfter as e:  # AIORateLimiter already waited max_retries times
                self.telegram_errors["flood"] += 1
                wait = e.retry_after if isinstance(e.retry_after, int | float) else \
                    e.retry_after.total_seconds()
                self._retry(d, attempt, f"flood: retry after {wait}", float(wait), report)
                await asyncio.sleep(float(wait))
                continue
            except BadRequest as e:  # the message itself is wrong: retrying will not help
                self.telegram_errors["bad_request"] += 1
                outbox.mark_failed(self.db, d.id, f"bad request: {e}", self.now_ms())
                report.failed += 1
                report.errors.append(f"{d.id}: {e}")
                return chat_id
            except NetworkError as e:  # 5xx, connection errors, timeouts
                self.telegram_errors["network"] += 1
                delay = min(self.backoff * 2 ** (tries - 1), self.backoff_cap)
                if not self._retry(d, attempt, f"network: {e}", delay, report):
                    return chat_id
                await asyncio.sleep(delay)
                continue
            except TelegramError as e:  # e.g. InvalidToken: nothing will get through
                self.telegram_errors["other"] += 1
                outbox.mark_retry(self.db, d.id, f"{type(e).__name__}: {e}", 0, self.now_ms())
                raise
            outbox.mark_sent(self.db, d.id, msg.message_id, self.now_ms())
            report.sent += 1
            return chat_id
        # out of tries for this drain: wait for the next one
        row = self.db.execute("select status from deliveries where id = ?", [d.id]).fetchone()
        if row and row[0] == outbox.SENDING:
            outbox.mark_retry(self.db, d.id, "out of tries this drain",
                              self.now_ms() + int(self.backoff_cap * 1000), self.now_ms())
        return chat_id

    def _retry(self, d: Delivery, attempt: int, error: str, delay_s: float,
               report: DrainReport) -> bool:
        """Back to pending after a transient failure; False (and failed) when out of tries."""
        now = self.now_ms()
        if attempt >= self.max_attempts:
            outbox.mark_failed(self.db, d.id, f"gave up after {attempt} attempts: {error}", now)
            report.failed += 1
            report.errors.append(f"{d.id}: {error}")
            return False
        outbox.mark_retry(self.db, d.id, error, now + int(delay_s * 1000), now)
        report.retried += 1
        self.retries += 1
        return True

    async def _pace(self, chat_id: int | str) -> None:
        last = self._last_send.get(chat_id)
        if last is not None:
            wait = last + self.per_chat_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_send[chat_id] = time.monotonic()

    # --- rendering, charts and the HTTP call -------------------------------------------------

    def _alert(self, alert_id: int) -> tuple[StoredAlert, RenderedAlert]:
        if alert_id not in self._alerts:
            stored = outbox.load_alert(self.db, alert_id)
            self._alerts[alert_id] = (stored, render_alert(stored))
        return self._alerts[alert_id]

    async def _png(self, stored: StoredAlert) -> bytes | None:
        """The chart, drawn once per alert (in a thread) and only when it is sent."""
        if stored.id not in self._pngs:
            self._pngs[stored.id] = asyncio.ensure_future(
                asyncio.to_thread(chart_png, stored.record.get("chart")))
        return await self._pngs[stored.id]

    async def _send(self, stored: StoredAlert, rendered: RenderedAlert,
                    chat_id: int | str) -> Message:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)
                                        for label, data in rendered.buttons]])
        if rendered.has_chart:
            photo: bytes | str | None = self._photo_ids.get(stored.id) or \
                await self._png(stored)
            if photo is not None:
                msg = await send_html_photo(self.bot, chat_id, photo, rendered.caption,
                                            reply_markup=markup)
                if msg.photo and stored.id not in self._photo_ids:
                    self._photo_ids[stored.id] = msg.photo[-1].file_id
                return msg
        return await send_html(self.bot, chat_id, rendered.html, reply_markup=markup)
