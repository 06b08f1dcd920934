"""What the fake Telegram server checks: HTML parse mode, lengths, keyboards, command names.

Written from the Bot API docs ("Formatting options", "MessageEntity") and kept independent of
``chat/telegram_html.py`` on purpose: the fake is the oracle the renderer is tested against.
It is a little stricter than Telegram where Telegram silently drops entities it cannot nest
(a tag inside ``<code>``, a link inside a link): a renderer that passes here is safe there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64

#: tag -> MessageEntity type
TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
#: entities that may not contain each other ("All other entities can't contain each other")
_EXCLUSIVE = {"text_link", "code", "pre", "custom_emoji"}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status,
                                "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str, parameters: dict | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {description}", parameters)


@dataclass
class Parsed:
    """Text as Telegram stores it: tags stripped, entities decoded, plus MessageEntity dicts."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: how Telegram counts lengths and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(match: re.Match[str]) -> str | None:
    named, dec, hexa = match.groups()
    if named:
        return _NAMED[named]
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return None
    return chr(code)


def _attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        value = m.group(2) or ""
        if value[:1] in "\"'":
            value = value[1:-1]
        attrs[m.group(1).lower()] = _ENTITY.sub(lambda e: _decode_entity(e) or e.group(0), value)
    return attrs


def parse_html(html: str) -> Parsed:
    """Parse Telegram HTML; raise ``ApiError`` 400 "can't parse entities: ..." on bad markup."""

    def fail(reason: str, pos: int) -> ApiError:
        offset = len(html[:pos].encode("utf-8"))
        return bad_request(f"can't parse entities: {reason} at byte offset {offset}")

    out: list[str] = []
    pos16 = 0  # UTF-16 length of ``out`` so far
    stack: list[tuple[str, str, int, dict[str, str]]] = []  # (tag, entity type, start, attrs)
    entities: list[dict[str, Any]] = []
    i, n = 0, len(html)
    while i < n:
        ch = html[i]
        if ch == "&":
            m = _ENTITY.match(html, i)
            decoded = _decode_entity(m) if m else None
            if decoded is None:
                raise fail('unsupported HTML entity, "&" must be escaped as "&amp;"', i)
            out.append(decoded)
            pos16 += utf16_len(decoded)
            i = m.end()  # type: ignore[union-attr]
            continue
        if ch != "<":
            out.append(ch)
            pos16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        close = html.startswith("</", i)
        name_m = _NAME.match(html, i + (2 if close else 1))
        if not name_m:
            raise fail('unsupported start tag "", "<" must be escaped as "&lt;"', i)
        tag = name_m.group(0).lower()
        end = html.find(">", name_m.end())
        if end < 0:
            raise fail(f'unclosed {"end" if close else "start"} tag "{tag}"', i)
        rest = html[name_m.end():end]
        if close:
            if rest.strip():
                raise fail(f'unexpected characters in end tag "{tag}"', i)
            if not stack:
                raise fail(f'unexpected end tag "{tag}"', i)
            open_tag, etype, start, attrs = stack.pop()
            if open_tag != tag:
                raise fail(f'unmatched end tag, expected "</{open_tag}>", found "</{tag}>"', i)
            ent = _entity(etype, start, pos16 - start, attrs, stack)
            if ent is not None and pos16 > start:
                entities.append(ent)
        else:
            if tag not in TAGS:
                raise fail(f'unsupported start tag "{tag}"', i)
            if rest.rstrip().endswith("/"):
                raise fail(f'self-closing tag "{tag}" is not supported', i)
            attrs = _attrs(rest)
            etype = _check_open(tag, attrs, stack, lambda r, p=i: fail(r, p))
            stack.append((tag, etype, pos16, attrs))
        i = end + 1
    if stack:
        raise bad_request(f"can't parse entities: can't find end tag corresponding to start "
                          f'tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return Parsed("".join(out), entities)


def _check_open(tag: str, attrs: dict[str, str], stack: list, fail: Any) -> str:
    etype = TAGS[tag]
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise fail('tag "span" must have class "tg-spoiler"')
    if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise fail('tag "tg-emoji" must have a numeric "emoji-id"')
    outer = [s[1] for s in stack]
    if outer and outer[-1] == "pre" and tag == "code":
        return etype
    if "code" in outer or "pre" in outer:
        raise fail(f'entity "{etype}" can\'t be nested in "{outer[-1]}"')
    if etype == "blockquote" and "blockquote" in outer:
        raise fail("blockquotes can't be nested")
    if etype in _EXCLUSIVE and _EXCLUSIVE.intersection(outer):
        raise fail(f'entity "{etype}" can\'t be nested in another "{outer[-1]}"')
    return etype


def _entity(
    etype: str, start: int, length: int, attrs: dict[str, str], stack: list
) -> dict[str, Any] | None:
    ent: dict[str, Any] = {"type": etype, "offset": start, "length": length}
    if etype == "text_link":
        ent["url"] = attrs.get("href", "")
    elif etype == "custom_emoji":
        ent["custom_emoji_id"] = attrs["emoji-id"]
    elif etype == "blockquote" and "expandable" in attrs:
        ent["type"] = "expandable_blockquote"
    elif etype == "code" and stack and stack[-1][1] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language
        lang = attrs.get("class", "")
        if lang.startswith("language-"):
            stack[-1][3]["_language"] = lang[len("language-"):]
        return None
    elif etype == "pre" and attrs.get("_language"):
        ent["language"] = attrs["_language"]
    return ent


def parse_text(text: Any, parse_mode: Any, *, limit: int, caption: bool = False) -> Parsed:
    """Validate message text or a caption as sendMessage/sendPhoto/editMessageText do."""
    text = "" if text is None else str(text)
    mode = (parse_mode or "").lower()
    if mode == "html":
        parsed = parse_html(text)
    elif mode in ("", "markdown", "markdownv2"):
        parsed = Parsed(text)  # the fake does not model Markdown: counted as plain text
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    if not caption and not parsed.text.strip():
        raise bad_request("message text is empty")
    if utf16_len(parsed.text) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return parsed


def check_reply_markup(markup: Any) -> None:
    """Inline keyboards: every button has text and one action; callback_data is 1-64 bytes."""
    if markup is None or not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("field \"inline_keyboard\" must be an Array of Array")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(str(data).encode("utf-8"))
                if not isinstance(data, str) or not 1 <= size <= CALLBACK_DATA_LIMIT:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif "url" in button:
                if not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                    raise bad_request("BUTTON_URL_INVALID")
            elif not set(button) - {"text"}:
                raise bad_request("text buttons are unallowed in the inline keyboard")


def check_commands(commands: Any) -> list[dict[str, str]]:
    """setMyCommands: up to 100 commands, names 1-32 of [a-z0-9_], descriptions 1-256."""
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be an array of at most 100 BotCommand")
    clean = []
    for cmd in commands:
        name = str(cmd.get("command", "")) if isinstance(cmd, dict) else ""
        desc = str(cmd.get("description", "")) if isinstance(cmd, dict) else ""
        if not _COMMAND.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(desc) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": name, "description": desc})
    return clean
