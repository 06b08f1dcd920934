""""More": the pressed message becomes the whole answer, in place (``editMessageText``).

A long answer's first screen carries a "More" button whose data is the command line ending in
``full`` (``m:``/``mk:``, ``chat.telegram.render``). Pressing it answers that line again as
the presser — anyone may expand; personal commands still answer only in private — and the
pressed message's text is replaced by the first chunk of the whole answer; any further
chunks, a chart or a file follow as new messages. A message that is not text (a chart with a
caption) cannot take a longer text, so the answer is posted instead.
"""

from __future__ import annotations

import logging

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from chat.telegram.render import Rendered

log = logging.getLogger(__name__)


async def replace_text(message: Message, rendered: Rendered) -> Rendered | None:
    """Put the first chunk of ``rendered`` in place of ``message``'s text; returns what is
    left to post (None when nothing is), or ``rendered`` unchanged when it could not edit."""
    if message.text is None or not rendered.chunks:
        return rendered
    rest = rendered.chunks[1:]
    try:
        await message.edit_text(rendered.chunks[0], parse_mode=ParseMode.HTML,
                                reply_markup=None if rest else rendered.keyboard)
    except BadRequest as e:
        if "not modified" in str(e).lower():  # pressed twice: it already shows it all
            return None
        log.warning("could not expand message %s in place (%s): posting the answer",
                    message.message_id, e)
        return rendered
    if not rest and rendered.photo is None and rendered.document is None:
        return None
    return Rendered(rest, rendered.keyboard if rest else None, rendered.photo,
                    rendered.caption, rendered.document)
