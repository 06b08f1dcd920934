"""Drain the outbox to Telegram: many chats in parallel, one message in flight per chat.

Each delivery goes ``pending → sending`` (committed) → HTTP call → an outcome (committed).
A drain makes at most one attempt per delivery and returns; waits happen between drains (the
caller drains again at ``DrainReport.next_due_ms``), never by sleeping inside one, so a long
Telegram outage costs attempts spread over its length, not ten attempts in twenty seconds:

* 5xx, refused or timed-out connections: back to ``pending`` after an exponential backoff with
  jitter (``backoff`` doubled per attempt up to ``backoff_cap``, times 0.5–1);
* 429: back to ``pending`` for exactly its ``retry_after`` (the rate limiter hands it to us
  instead of sleeping it out for every chat), and the chat's other alerts wait with it;
* read timeout or a connection dropped before the answer: the message may have arrived. It
  is retried once (with a longer read timeout, to learn the outcome); when that goes
  unanswered too it becomes ``unconfirmed`` — never a third copy, never "failed";
* an alert older than ``[alerts] max_delivery_age`` for its severity becomes ``expired`` (not
  failed); the next alert on the same subject to that chat says how long delivery was
  blocked. Retries are bounded by that age, not by a count;
* before each drain, older undelivered alerts of the same subject and chat are ``folded``
  into the newest, which says how many updates it replaces; the backlog goes out highest
  severity first, newest first, within AIORateLimiter's 30/s and 20/min per group;
* ``Forbidden`` marks the chat inactive and fails its deliveries; ``ChatMigrated`` moves the
  chat to its new id and sends there; any other ``BadRequest`` fails that delivery only.

After a crash, deliveries left in ``sending`` are sent once more (the Bot API has no
idempotency key; one in flight per chat makes that at most one duplicate per chat), unless an
earlier attempt also went unanswered. When Telegram looks down (``breaker`` failures in a row
within a drain) the rest of that drain's deliveries wait for the first retry instead of
hammering it, and the next drain probes with one delivery before sending the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

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
from telegram.ext import ExtBot

from chat.alert_charts import chart_png
from chat.alert_render import RenderedAlert, render_alert, words
from chat.bot_client import (
    SENDER_WAITS_FLOOD,
    RateLimiter,
    make_bot,
    rate_limiter,
    retry_after_s,
    went_out_unanswered,
)
from chat.delivery_notes import delivery_notes
from chat.delivery_options import DeliveryOptions, delivery_options
from chat.delivery_state import Backoff, DrainPass, DrainReport, Outage
from chat.telegram_send import send_html, send_html_photo
from i18n import current_language, use
from settings.config import Config
from storage import chats, delivery_backlog, outbox
from storage.outbox import Delivery, StoredAlert

__all__ = ["DrainReport", "Sender", "make_bot", "rate_limiter"]  # make_bot: tests, benches
log = logging.getLogger(__name__)
CONFIRM_TIMEOUT_FACTOR = 3  # the retry after an unanswered attempt waits this much longer


def alert_button(label: str, data: str) -> InlineKeyboardButton:
    """A callback button, or a link button for a URL (a channel's deep link)."""
    if data.startswith("https://"):
        return InlineKeyboardButton(label, url=data)
    return InlineKeyboardButton(label, callback_data=data)


class _StopChat(Exception):
    """The chat can take no more messages (blocked, kicked)."""


class Sender:
    """``await Sender(db, bot, config).drain()`` sends every due delivery and returns a report.

    ``clock`` decides when a delivery is due (tests advance a simulated one); ``concurrency``
    chats are served at once (default: what the connection pool leaves for replies);
    ``per_chat_interval`` spaces messages to one chat (Telegram allows about one a second per
    private chat, which AIORateLimiter does not enforce); ``seed`` fixes the jitter.
    """

    def __init__(self, db: Database, bot: ExtBot[Any], config: Config, *,
                 concurrency: int | None = None, per_chat_interval: float = 1.0,
                 backoff: float = 1.0, backoff_cap: float = 30.0, breaker: int = 8,
                 clock: Callable[[], float] = time.time, seed: int | None = None) -> None:
        self.db, self.bot, self.config = db, bot, config
        pool = config.telegram.connection_pool_size
        self.concurrency = concurrency or max(1, min(64, pool - 16))
        self.per_chat_interval = per_chat_interval
        self.backoff, self.breaker = Backoff(backoff, backoff_cap, seed), breaker
        self.clock = clock
        self.max_age = config.alerts.max_delivery_age
        self.confirm_timeout = config.telegram.read_timeout.seconds * CONFIRM_TIMEOUT_FACTOR
        self.totals = DrainReport()  # cumulative since start: read by health and metrics
        # since start, for metrics: Bot API errors by kind, and retries scheduled
        self.telegram_errors: Counter[str] = Counter()
        self.retries = 0
        self.outage = Outage()
        self._recovered = False
        self._alerts: dict[int, StoredAlert] = {}
        # charts are drawn once per alert and language (their titles and labels are words)
        self._pngs: dict[tuple[int, str], asyncio.Task[bytes | None]] = {}
        self._photo_ids: dict[tuple[int, str], str] = {}  # -> Telegram file_id after upload
        self._last_send: dict[int | str, float] = {}
        self._tried: set[int] = set()  # deliveries attempted in this drain: once each
        self._flood_arg = SENDER_WAITS_FLOOD if isinstance(bot.rate_limiter, RateLimiter) \
            else None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def drain(self) -> DrainReport:
        """Expire and fold the backlog, then try every due delivery once (and those that
        fall due meanwhile, such as the backlog when a probe finds Telegram back). The first
        drain of a process re-sends what a crash left in flight."""
        report = DrainReport()
        if not self._recovered:
            report.recovered = outbox.recover_sending(self.db, self.now_ms())
            self._recovered = True
            if report.recovered:
                log.warning("re-sending %d deliveries left in flight by a crash",
                            report.recovered)
        await self.bot.initialize()
        report.expired, report.unconfirmed = delivery_backlog.expire(
            self.db, self.now_ms(), self.max_age.ms)
        report.folded = delivery_backlog.fold(self.db, self.now_ms())
        if report.expired or report.folded:
            log.warning("outbox: %d deliveries expired undelivered, %d folded into newer ones",
                        report.expired, report.folded)
        self._tried.clear()
        while due := [d for d in outbox.due_deliveries(self.db, self.now_ms())
                      if d.id not in self._tried]:
            tried = len(self._tried)
            await self._pass(due, report)
            if len(self._tried) == tried:  # all waiting on a chat or on Telegram
                break
        report.next_due_ms = delivery_backlog.next_due_ms(self.db)
        self.totals.add(report)
        return report

    async def _pass(self, due: list[Delivery], report: DrainReport) -> None:
        """Each chat's due deliveries in order, ``concurrency`` chats at a time."""
        by_chat: dict[int | str, list[Delivery]] = defaultdict(list)
        for d in due:  # most urgent first: chats start in the order of their top alert
            by_chat[d.chat_id].append(d)
        # every chat of a small pass failing is as telling as ``breaker`` in a row
        one_pass = DrainPass(min(self.breaker, len(by_chat)), probe=self.outage.down)
        sem = asyncio.Semaphore(self.concurrency)
        sent_before = report.sent

        async def run(chat_id: int | str, first: bool) -> None:
            if one_pass.probe and not first:
                await one_pass.first.wait()
            try:
                async with sem:
                    await self._chat(chat_id, by_chat[chat_id], report, one_pass)
            finally:
                one_pass.first.set()  # also when the first chat had nothing left to try

        order = one_pass.order(list(by_chat))
        await asyncio.gather(*(run(c, i == 0) for i, c in enumerate(order)))
        verdict = self.outage.after_pass(report.sent - sent_before, one_pass)
        if verdict == "back":  # the backlog need not wait for its timers
            resumed = delivery_backlog.resume(self.db, self.now_ms())
            log.info("Telegram answers again: %d waiting deliveries are due now", resumed)
        elif verdict == "down" and one_pass.retry_at is not None:
            # the whole backlog waits for the next probe, not each for its own time
            delivery_backlog.defer(self.db, None, one_pass.retry_at, self.now_ms())

    # --- one chat at a time: never two messages in flight to the same chat ------------------

    async def _chat(self, chat_id: int | str, deliveries: list[Delivery],
                    report: DrainReport, one_pass: DrainPass) -> None:
        target = chat_id
        for i, d in enumerate(deliveries):
            if one_pass.telegram_down and one_pass.retry_at is not None:
                self._defer(deliveries[i:], one_pass.retry_at, report)
                return
            try:
                target, retry_at = await self._deliver(d, target, report, one_pass)
            except _StopChat:
                return
            except TelegramError:  # e.g. InvalidToken: the drain stops, the delivery waits
                raise
            except Exception as e:  # a bug (rendering, charts) must not stop the other chats
                log.error("delivery %s to %s failed: %s", d.id, target, e, exc_info=True)
                outbox.mark_failed(self.db, d.id, f"{type(e).__name__}: {e}", self.now_ms())
                report.failed += 1
                report.errors.append(f"{d.id}: {type(e).__name__}: {e}")
                continue
            if retry_at is not None:  # the chat waits with its first alert, keeping order
                self._defer(deliveries[i + 1:], retry_at, report)
                return

    def _defer(self, deliveries: list[Delivery], until_ms: int, report: DrainReport) -> None:
        delivery_backlog.defer(self.db, (d.id for d in deliveries), until_ms, self.now_ms())
        report.deferred += len(deliveries)

    async def _deliver(self, d: Delivery, chat_id: int | str, report: DrainReport,
                       one_pass: DrainPass) -> tuple[int | str, int | None]:
        """One attempt (two when the group migrated meanwhile), in the chat's language.
        Returns the chat id for this chat's next deliveries and, when it must be tried
        again, when."""
        with use(self._language(chat_id)):
            return await self._attempt(d, chat_id, report, one_pass)

    def _language(self, chat_id: int | str) -> str:
        """The chat's language (/lang, or its Telegram app's); the signal channel's is
        ``[telegram] signal_language`` (a channel can't send /lang)."""
        if chat_id == self.config.telegram.signal_channel or not isinstance(chat_id, int):
            return self.config.telegram.signal_language
        return chats.get_settings(self.db, chat_id).language

    async def _attempt(self, d: Delivery, chat_id: int | str, report: DrainReport,
                       one_pass: DrainPass) -> tuple[int | str, int | None]:
        stored, rendered, opts = self._alert(d)
        while True:
            await self._pace(chat_id)
            if not outbox.mark_sending(self.db, d.id, self.now_ms()):
                return chat_id, None  # no longer pending: sent or given up elsewhere
            self._tried.add(d.id)
            try:
                msg = await self._send(stored, rendered, chat_id, opts,
                                       confirm=d.unanswered > 0)
            except ChatMigrated as e:
                self.telegram_errors["migrated"] += 1
                new = int(e.new_chat_id)
                log.info("chat %s migrated to %s", chat_id, new)
                outbox.migrate_chat(self.db, int(chat_id), new, self.now_ms())
                report.migrated += 1
                chat_id = new
                opts = dataclasses.replace(opts, thread_id=None)  # topics don't move along
                continue
            except Forbidden as e:
                self.telegram_errors["forbidden"] += 1
                one_pass.answered(ok=False)
                now = self.now_ms()
                if isinstance(chat_id, int):
                    chats.set_active(self.db, chat_id, False, now_ms=now)
                report.blocked += 1
                report.failed += outbox.fail_chat(self.db, chat_id, f"forbidden: {e}", now)
                raise _StopChat from e
            except RetryAfter as e:  # exactly as long as Telegram asked, then again
                wait = retry_after_s(e)
                retry_at = self.now_ms() + round(wait * 1000)
                outbox.mark_retry(self.db, d.id, f"{outbox.FLOOD_WAIT} retry after {wait:g} s",
                                  retry_at, self.now_ms())
                report.flood_waits += 1
                self.telegram_errors["flood"] += 1
                self.retries += 1
                one_pass.answered(ok=False)  # Telegram answers: the other chats may go
                return chat_id, retry_at
            except BadRequest as e:  # the message itself is wrong: retrying will not help
                self.telegram_errors["bad_request"] += 1
                outbox.mark_failed(self.db, d.id, f"bad request: {e}", self.now_ms())
                one_pass.answered(ok=False)
                report.failed += 1
                report.errors.append(f"{d.id}: {e}")
                return chat_id, None
            except NetworkError as e:  # 5xx, connection errors, timeouts
                return chat_id, self._network_error(d, e, report, one_pass)
            except TelegramError as e:  # e.g. InvalidToken: nothing will get through
                self.telegram_errors["other"] += 1
                outbox.mark_retry(self.db, d.id, f"{type(e).__name__}: {e}",
                                  self.now_ms() + self.backoff.ms(d.attempts + 1),
                                  self.now_ms())
                raise
            outbox.mark_sent(self.db, d.id, msg.message_id, self.now_ms())
            report.sent += 1
            one_pass.answered(ok=True)
            return chat_id, None

    def _network_error(self, d: Delivery, e: NetworkError, report: DrainReport,
                       one_pass: DrainPass) -> int | None:
        """Retry later; or, when this was the second attempt to go out unanswered, give the
        delivery up as ``unconfirmed`` (it may have arrived twice already)."""
        now = self.now_ms()
        # a new alert in a long outage waits like the outage's probes, not from 1 s again
        retry_at = now + self.backoff.ms(max(d.attempts, self.outage.drains) + 1)
        one_pass.failed(retry_at)
        if went_out_unanswered(e):
            report.unanswered += 1
            self.telegram_errors["timeout"] += 1
            if d.unanswered + 1 >= outbox.MAY_HAVE_ARRIVED:
                outbox.mark_unconfirmed(self.db, d.id, f"no answer twice: {e}", now)
                report.unconfirmed += 1
                return None
            outbox.mark_retry(self.db, d.id, f"no answer (may have arrived): {e}", retry_at,
                              now, unanswered=True)
            self.retries += 1
            return retry_at
        outbox.mark_retry(self.db, d.id, f"network: {e}", retry_at, now)
        self.telegram_errors["network"] += 1
        self.retries += 1
        report.retried += 1
        return retry_at

    async def _pace(self, chat_id: int | str) -> None:
        last = self._last_send.get(chat_id)
        if last is not None:
            wait = last + self.per_chat_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_send[chat_id] = time.monotonic()

    # --- rendering, charts and the HTTP call -------------------------------------------------

    def _alert(self, d: Delivery) -> tuple[StoredAlert, RenderedAlert, DeliveryOptions]:
        """The stored alert (loaded once) and its message as sent now to ``d``'s chat: the
        footer's data age is computed at this moment, in the chat's time zone, the delivery's
        notes go under the title; the options say whether it rings, which topic, which
        buttons (``chat.delivery_options``)."""
        if d.alert_id not in self._alerts:
            self._alerts[d.alert_id] = outbox.load_alert(self.db, d.alert_id)
        stored = self._alerts[d.alert_id]
        notes = delivery_notes(self.db, d, stored)
        opts = self._options(d.chat_id, stored)
        return stored, render_alert(stored, notes, now_ms=self.now_ms(), tz=opts.tz,
                                    buttons=opts.buttons), opts

    def _options(self, chat_id: int | str, stored: StoredAlert) -> DeliveryOptions:
        s = chats.get_settings(self.db, chat_id) if isinstance(chat_id, int) \
            else chats.ChatSettings(0, type="channel")
        known = isinstance(chat_id, int) and chats.known(self.db, chat_id)
        # the signal channel may have no row yet (the bot never saw it join): a deep link
        # works in a channel and in a group alike, a press on "Mute 1h" there would not
        is_channel = s.type == "channel" or (
            not known and chat_id == self.config.telegram.signal_channel)
        return delivery_options(s, kind=stored.kind, severity=stored.severity,
                                alert_id=stored.id, now_ms=self.now_ms(),
                                is_channel=is_channel, bot_username=self.bot.username)

    async def _png(self, stored: StoredAlert) -> bytes | None:
        """The chart, drawn once per alert (in a thread) and only when it is sent."""
        key = (stored.id, current_language())
        if key not in self._pngs:
            spec = stored.record.get("chart")
            if spec:
                spec = {**spec, "title": words(stored.record)["chart_title"] or
                        spec.get("title", "")}
            # to_thread copies the context: the chart's labels are drawn in this language
            self._pngs[key] = asyncio.ensure_future(asyncio.to_thread(chart_png, spec))
        return await self._pngs[key]

    async def _send(self, stored: StoredAlert, rendered: RenderedAlert, chat_id: int | str,
                    opts: DeliveryOptions, *, confirm: bool) -> Message:
        markup = InlineKeyboardMarkup([[alert_button(label, data)
                                        for label, data in rendered.buttons]])
        options: dict[str, Any] = {"reply_markup": markup, "rate_limit_args": self._flood_arg,
                                   "disable_notification": opts.silent}
        # a TradingView route's topic first, else the chat's topic for the kind
        thread = stored.record.get("thread_id", opts.thread_id)
        if thread is not None:
            options["message_thread_id"] = thread
        if confirm:  # the last try after an unanswered one: wait longer to learn the outcome
            options["read_timeout"] = self.confirm_timeout
        if rendered.has_chart:
            key = (stored.id, current_language())
            photo: bytes | str | None = self._photo_ids.get(key) or \
                await self._png(stored)
            if photo is not None:
                msg = await send_html_photo(self.bot, chat_id, photo, rendered.caption,
                                            **options)
                if msg.photo and key not in self._photo_ids:
                    self._photo_ids[key] = msg.photo[-1].file_id
                return msg
        return await send_html(self.bot, chat_id, rendered.html, **options)
