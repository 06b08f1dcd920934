"""A command's Reply as Telegram messages: HTML with every value escaped, chunks under 4,096
characters as Telegram counts them, the chart as a photo with a caption under 1,024, and the
reply's buttons as inline keyboards whose ``callback_data`` fits in 64 bytes.

Callback data contract (every button the bot shows; handled in ``handlers.on_callback``):

* ``c:<command text without the slash>`` — run that command as the presser (when it fits);
* ``k:<name>.<key>`` — the same for a longer command, looked up in ``ButtonStore`` (in
  memory: such a button expires when the process restarts, and the presser is told to run
  ``/<name>`` again);
* ``mute:<duration>`` — run ``/mute <duration>`` as the presser (alerts' "Mute 1h");
* ``alert:<id>`` — show the stored alert's details (alerts' "Details");
* ``m:<command text>`` / ``mk:<key>`` — "More": run the command (its line ends in ``full``)
  as the presser and replace the message's text with the whole answer
  (``chat.telegram.expand``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlite_utils import Database
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from chat.alert_render import SEVERITY_WORDS, local_time, words
from chat.commands.base import Document, Reply
from chat.first_screens import Pre
from chat.telegram_html import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    escape,
    split_html,
    truncate_caption,
    utf16_len,
    visible_text,
)
from chat.telegram_send import send_html, send_html_photo
from i18n import _
from storage import outbox
from storage.outbox import StoredAlert

log = logging.getLogger(__name__)

RUN, KEYED, MUTE, ALERT = "c", "k", "mute", "alert"
MORE, MORE_KEYED = "m", "mk"
BUTTON_LABEL_MAX = 64


class ButtonStore:
    """Maps a button's command text to compact callback data and back."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._texts: OrderedDict[str, str] = OrderedDict()

    def encode(self, command_text: str, *, more: bool = False) -> str:
        """``c:``/``k:`` data that runs the command; with ``more``, ``m:``/``mk:`` data that
        replaces the pressed message with its answer."""
        text = " ".join(command_text.split()).removeprefix("/")
        inline = f"{MORE if more else RUN}:{text}"
        if 2 < len(inline.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            return inline
        # the command's name stays in the data, so the button can say what to run again
        # after a restart emptied this store ("k:<name>.<hash>")
        name = text.split(maxsplit=1)[0][:32] if text else ""
        name = name if name.isascii() and "." not in name else ""
        key = f"{name}.{hashlib.blake2b(text.encode('utf-8'), digest_size=9).hexdigest()}"
        self._texts[key] = text
        self._texts.move_to_end(key)
        while len(self._texts) > self.capacity:
            self._texts.popitem(last=False)
        return f"{MORE_KEYED if more else KEYED}:{key}"

    def decode(self, data: str) -> str | None:
        """The command text ("/open ...") behind ``c:``/``k:`` (or ``m:``/``mk:``) data;
        None when unknown."""
        prefix, _, rest = data.partition(":")
        if prefix in (RUN, MORE) and rest.strip():
            return "/" + rest
        if prefix in (KEYED, MORE_KEYED) and rest in self._texts:
            return "/" + self._texts[rest]
        return None


def command_of(data: str) -> str | None:
    """The command name a button's data carries (``c:hedge btc``, ``k:hedge.<hash>``,
    ``mute:1h``), for an expired button's message; None when it names none."""
    prefix, _, rest = data.partition(":")
    if prefix == MUTE:
        return "mute"
    if prefix == KEYED:
        if "." not in rest:  # data from before names were kept in it
            return None
        rest = rest.split(".", 1)[0]
    elif prefix != RUN:
        return None
    word = rest.split(maxsplit=1)[0] if rest.strip() else ""
    return word if word and len(word) <= 32 and word.replace("_", "").isalnum() else None


@dataclass
class Rendered:
    """What to send for one reply: text chunks, maybe a photo first, a keyboard under the
    text, then a document (a file such as ``/export``'s CSV) last."""

    chunks: list[str]
    keyboard: InlineKeyboardMarkup | None = None
    photo: bytes | None = None
    caption: str | None = None
    document: Document | None = None
    extra: dict[str, object] = field(default_factory=dict)


def reply_html(reply: Reply) -> str:
    """The reply's lines as Telegram HTML: each escaped; the heading bold on a good answer."""
    lines = list(reply.text) if reply.text else reply.as_text().splitlines()
    html = [f"<pre>{escape(line)}</pre>" if isinstance(line, Pre) else escape(line)
            for line in lines]
    if reply.ok and len(html) > 1 and html[0].strip():
        html[0] = f"<b>{html[0]}</b>"
    return "\n".join(html)


def keyboard(rows: Sequence[Sequence[tuple[str, str]]], store: ButtonStore
             ) -> InlineKeyboardMarkup | None:
    """Inline keyboard of (label, command text) rows; None without buttons."""
    out = []
    for row in rows:
        buttons = [InlineKeyboardButton((label.strip() or command)[:BUTTON_LABEL_MAX],
                                        callback_data=store.encode(command))
                   for label, command in row if command.strip()]
        if buttons:
            out.append(buttons)
    return InlineKeyboardMarkup(out) if out else None


def callback_keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard of (label, ready callback data) rows, e.g. an alert's buttons."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label[:BUTTON_LABEL_MAX],
                                                       callback_data=data)
                                  for label, data in row] for row in rows])


async def render(reply: Reply, store: ButtonStore) -> Rendered:
    """Render a reply (drawing its chart off the event loop when it has one)."""
    html = reply_html(reply)
    chunks = split_html(html) or ["Done."]
    markup = keyboard(reply.buttons, store)
    if reply.more:  # "More" first: it expands this very message
        more = [InlineKeyboardButton(_("More"),
                                     callback_data=store.encode(reply.more, more=True))]
        markup = InlineKeyboardMarkup([more, *(markup.inline_keyboard if markup else ())])
    out = Rendered(chunks, markup, document=reply.document)
    if reply.chart is not None:
        try:
            out.photo = await asyncio.to_thread(reply.chart)
        except Exception:  # a broken chart must not cost the user the answer
            log.error("drawing the chart failed; sending the text only", exc_info=True)
            return out
        if reply.caption:
            out.caption = truncate_caption(escape(reply.caption), CAPTION_LIMIT)
        elif len(chunks) == 1 and utf16_len(visible_text(html)) <= CAPTION_LIMIT:
            out.caption, out.chunks = chunks[0], []
    return out


async def send(bot: Bot, chat_id: int, rendered: Rendered, thread_id: int | None = None
               ) -> list[Message]:
    """Send a rendered reply; the keyboard goes under the last message. HTML Telegram refuses
    (a bug of ours) goes once more as plain text (``chat.telegram_send``)."""
    sent: list[Message] = []
    last_is_photo = not rendered.chunks
    if rendered.photo is not None:
        sent.append(await send_html_photo(
            bot, chat_id, rendered.photo, rendered.caption, message_thread_id=thread_id,
            reply_markup=rendered.keyboard if last_is_photo else None))
    for i, chunk in enumerate(rendered.chunks):
        markup = rendered.keyboard if i == len(rendered.chunks) - 1 else None
        sent.append(await send_html(bot, chat_id, chunk, message_thread_id=thread_id,
                                    reply_markup=markup))
    if rendered.document is not None:
        doc = rendered.document
        sent.append(await bot.send_document(chat_id, doc.content, filename=doc.filename,
                                            message_thread_id=thread_id))
    return sent


# --- an alert's "Details" ----------------------------------------------------------------


def load_details(db: Database, alert_id: str) -> tuple[StoredAlert, int | None] | None:
    """The stored alert and its owner chat (None for market-wide); None when not stored."""
    return outbox.find_alert(db, alert_id)


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def alert_details_html(alert: StoredAlert, tz: str = "UTC") -> str:
    """Everything stored with an alert, escaped: the lines, the numbers behind it, when (in
    the reader's time zone ``tz``)."""
    rec = alert.record
    w = words(rec)
    when = local_time(int(rec.get("time_ms") or alert.created_at), tz)
    severity = _(SEVERITY_WORDS.get(alert.severity, alert.severity))
    head = " · ".join(escape(x) for x in (alert.kind, severity, alert.symbol) if x)
    lines = [f"<b>{escape(w['title'] or _('Alert'))}</b>", f"<i>{head}</i>"]
    lines += [escape(line) for line in w["body"]]
    if w["action"]:
        lines.append(_("<b>What to do:</b> {action}").format(action=escape(w["action"])))
    numbers = rec.get("numbers") or {}
    if numbers:  # the names are the --json keys: English in every language
        lines.append("<b>{}</b>".format(escape(_("Numbers"))))
        lines += [f"{escape(k)}: <code>{escape(_number(v))}</code>"
                  for k, v in sorted(numbers.items())]
    foot = _("Bar closing {when} · alert #{id}").format(when=when, id=alert.id)
    if rec.get("simulated"):
        foot += " · " + _("SIMULATED")
    lines.append(f"<i>{escape(foot)}</i>")
    return "\n".join(lines)
