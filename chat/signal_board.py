"""Signal channel mode (``[telegram] signal_board = true``): the channel gets ONE pinned
"market state" message, edited in place after each cycle — cascade level, correlation
regime, top correlations, data time — plus a separate post only when the cascade level
changes. Market-wide alerts then no longer go to the channel one by one.

Within Telegram's limits: one edit per cycle (the 15-minute cycle, far under 20 messages a
minute per channel; AIORateLimiter paces it anyway), no edit when nothing changed (Telegram
refuses an identical edit), the text under 4,096 characters. The message id and the last
level are kept in the channel's row (``storage.chats``), so a restart edits the same
message; when it was deleted, a new one is posted and pinned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlite_utils import Database
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from chat.alert_render import local_time
from chat.first_screens import LEVEL_WORDS, word
from chat.freshness import age_words
from chat.telegram_html import TEXT_LIMIT, escape, truncate_caption
from chat.telegram_send import send_html
from core.cascade import LEVEL_ORDER
from i18n import _, use
from storage import chats

log = logging.getLogger(__name__)

BOARD = "board"  # the channel row's settings key: {"message_id", "level", "text"}
RINGING_LEVELS = frozenset({"high", "cascade"})


@dataclass(frozen=True)
class MarketState:
    """What the board shows, taken from one cycle's engine result."""

    level: str
    score: float
    market_index: float
    market_index_slow: float
    spike: bool
    top_pairs: tuple[tuple[str, str, float], ...]
    time_ms: int
    data_age_ms: int
    simulated: bool

    @classmethod
    def of(cls, result: Any, top: int = 3) -> MarketState:
        corr = np.asarray(result.view.fast_corr, dtype=float)
        names = [s.split("-")[0] for s in result.symbols]
        iu = np.triu_indices(len(names), k=1)
        values = corr[iu] if corr.size else np.array([])
        pairs = sorted(((names[i], names[j], float(v)) for i, j, v in
                        zip(iu[0], iu[1], values, strict=True) if np.isfinite(v)),
                       key=lambda p: -p[2])[:top]
        return cls(result.cascade.level, float(result.cascade.score),
                   float(result.view.market_index), float(result.view.market_index_slow),
                   bool(result.market_spike), tuple(pairs), int(result.time_ms),
                   int(result.data_age_ms), bool(result.simulated))


def _num(x: float) -> str:
    return f"{x:.2f}" if np.isfinite(x) else "n/a"


def board_html(s: MarketState, tz: str = "UTC") -> str:
    """The pinned message (Telegram HTML, every value escaped), in the current language."""
    corr = {"now": _num(s.market_index), "slow": _num(s.market_index_slow)}
    lines = [_("📊 <b>Market state</b>") + (" · " + _("SIMULATED") if s.simulated else ""),
             _("Cascade: <b>{level}</b> {score:.0f}/100").format(
                 level=escape(word(LEVEL_WORDS, s.level).upper()), score=s.score),
             _("Regime: correlation SPIKE (corr {now} 1d vs {slow} 30d)").format(**corr)
             if s.spike else _("Regime: normal (corr {now} 1d vs {slow} 30d)").format(**corr)]
    if s.top_pairs:
        lines.append(_("Top correlations (1d): {pairs}").format(pairs=" · ".join(
            f"{escape(a)}/{escape(b)} {v:.2f}" for a, b, v in s.top_pairs)))
    lines.append(_("<i>Data: bar closing {when}, {age} old · edited each cycle</i>").format(
        when=escape(local_time(s.time_ms, tz)), age=age_words(s.data_age_ms)))
    return truncate_caption("\n".join(lines), TEXT_LIMIT)


def level_change_html(before: str, s: MarketState, tz: str = "UTC") -> str:
    up = LEVEL_ORDER.index(s.level) > LEVEL_ORDER.index(before) \
        if before in LEVEL_ORDER and s.level in LEVEL_ORDER else True
    arrow = "⬆️" if up else "⬇️"
    head = _("<b>Cascade level {before} → {after}</b> ({score:.0f}/100)").format(
        before=escape(word(LEVEL_WORDS, before)), after=escape(word(LEVEL_WORDS, s.level).upper()),
        score=s.score)
    when = escape(local_time(s.time_ms, tz))
    foot = (_("Data: bar closing {when} · SIMULATED") if s.simulated
            else _("Data: bar closing {when}")).format(when=when)
    return f"{arrow} {head}\n<i>{foot}</i>"


class SignalBoard:
    """``await board.update(result)`` after each cycle."""

    def __init__(self, bot: Bot, db: Database, channel: int | str,
                 language: str | None = None) -> None:
        """``language``: the channel's (``[telegram] signal_language``; a channel can't
        send /lang); None reads the channel's row, else English."""
        self.bot, self.db, self.channel, self.language = bot, db, channel, language
        self._chat_id: int | None = channel if isinstance(channel, int) else None

    async def _resolve(self) -> int:
        if self._chat_id is None:  # "@name": its numeric id keys the channel's row
            self._chat_id = int((await self.bot.get_chat(self.channel)).id)
        return self._chat_id

    async def update(self, result: Any) -> str | None:
        """Edit (or post and pin) the board, post a level change; returns what it did
        ("posted", "edited", "unchanged") or None when Telegram refused (logged)."""
        if result is None:
            return None
        try:
            return await self._update(MarketState.of(result))
        except TelegramError as e:  # the next cycle tries again; the bot goes on
            log.warning("signal board in %s not updated: %s", self.channel, e)
            return None

    async def _update(self, state: MarketState) -> str:
        chat_id = await self._resolve()
        chats.ensure_chat(self.db, chat_id, "channel")
        settings = chats.get_settings(self.db, chat_id)
        board = dict(settings.extra.get(BOARD) or {})
        with use(self.language or getattr(settings, "language", None)):
            html = board_html(state, settings.timezone)
            before = board.get("level")
            change = level_change_html(before, state, settings.timezone) \
                if before is not None and before != state.level else None
        if change is not None:
            await send_html(self.bot, chat_id, change,
                            disable_notification=state.level not in RINGING_LEVELS)
        done = "unchanged"
        if board.get("message_id") is None:
            done = await self._post(chat_id, html, board)
        elif board.get("text") != html:
            try:
                await self.bot.edit_message_text(html, chat_id, int(board["message_id"]),
                                                 parse_mode="HTML")
                done = "edited"
            except BadRequest as e:
                text = str(e).lower()
                if "not modified" in text:
                    done = "unchanged"
                elif "not found" in text:  # someone deleted it: a new one
                    done = await self._post(chat_id, html, board)
                else:
                    raise
        board.update(level=state.level, text=html)
        chats.set_extra(self.db, chat_id, {BOARD: board}, chat_type="channel")
        return done

    async def _post(self, chat_id: int, html: str, board: dict[str, Any]) -> str:
        msg = await send_html(self.bot, chat_id, html, disable_notification=True)
        board["message_id"] = msg.message_id
        try:
            await self.bot.pin_chat_message(chat_id, msg.message_id, disable_notification=True)
        except TelegramError as e:  # not allowed to pin: the board still works, unpinned
            log.warning("could not pin the market state in %s: %s (give the bot the right "
                        "to pin messages)", chat_id, e)
        return "posted"
