"""/lang: the language this chat reads hedgewatch in — answers, alerts, buttons, menus and
charts. In a group only its admins change it; a private chat without a choice follows the
language its Telegram app is set to."""

from __future__ import annotations

import contextlib

from chat.commands.base import Command, Reply
from chat.context import CommandContext
from chat.grammar import ArgumentError
from i18n import DEFAULT, LANGUAGES, N_, _, current_language, normalize, use
from storage import chats

AUTO = "auto"
ADMINS_ONLY = N_("Only this group's admins can change its language.")


class Lang(Command):
    name = "lang"
    summary = N_("the language I answer in: English or 简体中文")
    usage = N_("/lang [en|zh|auto]")
    examples = ("/lang", "/lang zh", "/lang en", "/lang auto")
    admin_only = True

    def parse(self, args: list[str]) -> str | None:
        if not args:
            return None
        if len(args) == 1 and args[0].lower() == AUTO:
            return AUTO
        lang = normalize(args[0]) if len(args) == 1 else None
        if lang not in LANGUAGES:
            raise ArgumentError(_("I speak English and Simplified Chinese: /lang en or "
                                  "/lang zh (/lang auto follows your Telegram app)."))
        return lang

    async def answer(self, request: str | None, ctx: CommandContext) -> Reply:
        db = ctx.services.db
        if request is not None:
            if not ctx.may_change_settings:
                return Reply.usage(_(ADMINS_ONLY))
            chats.set_extra(db, ctx.chat_id, {chats.LANG: None if request == AUTO else request},
                            chat_type=ctx.chat_type, now_ms=ctx.services.now_ms())
        s = chats.get_settings(db, ctx.chat_id)
        chosen = s.extra.get(chats.LANG)
        # without a choice: the app's language we saw, else the one this answer is in (the
        # console's --lang or LANG); a change is confirmed in the new language
        lang = str(chosen or s.extra.get(chats.LANG_SEEN) or current_language())
        lang = lang if lang in LANGUAGES else DEFAULT
        with use(lang) if request is not None else contextlib.nullcontext():
            name = LANGUAGES[lang]
            lines = [_("From now on I answer in {name}.").format(name=name) if request
                     else _("Language: {name}").format(name=name)]
            if chosen is None:
                lines.append(
                    _("Not chosen: I follow --lang, else your LANG setting.")
                    if ctx.extra.get("front_end") != "telegram" else
                    _("Not chosen: I follow your Telegram app's language.") if ctx.is_private
                    else _("Not chosen: this group reads English until an admin sends "
                           "/lang zh."))
            lines.append(_("Change it: /lang en · /lang zh · /lang auto"))
        buttons = [[(other, f"/lang {code.split('_')[0]}")
                    for code, other in LANGUAGES.items() if code != lang]]
        return Reply(data={"language": lang, "chosen": chosen}, text=lines,
                     buttons=buttons)
