"""Telegram HTML helpers: escaping, length as Telegram counts it, splitting, callback data.

Pure functions with no PTB import. Telegram counts a message's length in UTF-16 code units of
the text *after* entity parsing (tags stripped, ``&lt;`` decoded), so that is what ``split_html``
and ``truncate_caption`` measure. Every chunk they return is valid Telegram HTML on its own: tags
open at a cut are closed in the chunk and reopened at the start of the next one.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
ELLIPSIS = "…"

_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code",
                   "pre", "blockquote", "tg-spoiler", "span", "tg-emoji"})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def escape(value: object) -> str:
    """Escape any value for Telegram HTML text (``&``, ``<``, ``>``; quotes are fine in text)."""
    return _html.escape(str(value), quote=False)


def escape_attr(value: object) -> str:
    """Escape a value for a quoted attribute such as ``<a href="...">``."""
    return _html.escape(str(value), quote=True).replace("&#x27;", "'")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (an astral character such as most emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "char", "open" or "close"
    value: str  # the visible character, or the tag name
    raw: str  # source to emit (bare "&" and "<" come back escaped)


def _entity(match: re.Match[str]) -> str | None:
    named, dec, hexa = match.groups()
    if named:
        return _NAMED[named]
    code = int(dec) if dec else int(hexa, 16)
    return None if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code)


def _tokenize(source: str) -> list[_Token]:
    """Characters and tags. Lenient with text (a bare ``&``/``<`` is kept and escaped, unknown
    tags become text) but strict with structure: a mismatched end tag raises ValueError."""
    tokens: list[_Token] = []
    stack: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "<" and (m := _TAG.match(source, i)) and m.group(2).lower() in _TAGS:
            name = m.group(2).lower()
            if m.group(1):
                if not stack or stack[-1] != name:
                    raise ValueError(f"unbalanced HTML: </{name}> at {i} closes "
                                     f"{'<' + stack[-1] + '>' if stack else 'nothing'}")
                stack.pop()
                tokens.append(_Token("close", name, m.group(0)))
            else:
                stack.append(name)
                tokens.append(_Token("open", name, m.group(0)))
            i = m.end()
        elif ch == "&" and (m := _ENTITY.match(source, i)) and (decoded := _entity(m)):
            tokens.append(_Token("char", decoded, m.group(0)))
            i = m.end()
        else:
            tokens.append(_Token("char", ch, escape(ch)))
            i += 1
    return tokens


def _stacks(tokens: list[_Token]) -> list[tuple[_Token, ...]]:
    """``stacks[k]``: the tags open before ``tokens[k]`` (``stacks[len]`` after the last)."""
    stack: tuple[_Token, ...] = ()
    out = []
    for tok in tokens:
        out.append(stack)
        if tok.kind == "open":
            stack = (*stack, tok)
        elif tok.kind == "close":
            stack = stack[:-1]
    out.append(stack)
    return out


def _width(tok: _Token) -> int:
    return 0 if tok.kind != "char" else (2 if ord(tok.value) > 0xFFFF else 1)


def visible_text(source: str) -> str:
    """The text Telegram shows and counts: tags stripped, entities decoded."""
    return "".join(t.value for t in _tokenize(source) if t.kind == "char")


def plain_text(source: str) -> str:
    """What to send when Telegram refused ``source`` as HTML: the visible text, and for markup
    too broken to parse, the source with tags removed and entities decoded (never raises)."""
    try:
        return visible_text(source)
    except ValueError:
        return _html.unescape(_TAG.sub("", source))


def _render(tokens: list[_Token], stacks: list[tuple[_Token, ...]], start: int, end: int,
            tail: str = "") -> str:
    opened = "".join(t.raw for t in stacks[start])
    body = "".join(t.raw for t in tokens[start:end])
    closed = "".join(f"</{t.value}>" for t in reversed(stacks[end]))
    return opened + body + tail + closed


def _cut(tokens: list[_Token], start: int, limit: int, lines: bool = True) -> tuple[int, bool]:
    """Where a chunk starting at ``start`` ends: after the last newline that fits (when
    ``lines``), else the last other whitespace, else as many characters as fit. Also says
    whether the chunk holds anything but whitespace (Telegram refuses a blank message)."""
    width, i, n = 0, start, len(tokens)
    line = word = None
    content = False
    while i < n:
        tok = tokens[i]
        if tok.kind == "char":
            w = _width(tok)
            if width + w > limit:
                break
            width += w
            if not tok.value.isspace():
                content = True
            elif content and lines and tok.value == "\n":
                line = i + 1
            elif content:
                word = i + 1
        i += 1
    if i >= n:
        return n, content
    end = line or word or i
    while end < n and tokens[end].kind == "close":  # keep "...</b>" with its text
        end += 1
    while end > start and tokens[end - 1].kind == "open":  # and "<b>..." with the next
        end -= 1
    return end, content


def split_html(source: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split Telegram HTML into chunks whose visible length is at most ``limit`` UTF-16 units.

    Cuts at line ends, else between words, else anywhere (never inside a character). Each chunk
    is valid HTML by itself. Whitespace-only stretches that would make a chunk of their own
    (Telegram refuses blank messages) are dropped, so blank input gives ``[]``.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 (an astral character takes 2)")
    tokens = _tokenize(source)
    stacks = _stacks(tokens)
    chunks: list[str] = []
    start = 0
    while start < len(tokens):
        end, content = _cut(tokens, start, limit)
        if end == start:  # only tags fit before the cut: move past them
            end = start + 1
        if content:
            chunks.append(_render(tokens, stacks, start, end))
        start = end
    return chunks


def truncate_caption(source: str, limit: int = CAPTION_LIMIT) -> str:
    """Shorten Telegram HTML to ``limit`` visible units, ending with "…" when cut."""
    tokens = _tokenize(source)
    stacks = _stacks(tokens)
    if sum(map(_width, tokens)) <= limit:
        return _render(tokens, stacks, 0, len(tokens))
    end, _ = _cut(tokens, 0, limit - utf16_len(ELLIPSIS), lines=False)
    return _render(tokens, stacks, 0, end, tail=ELLIPSIS)


def callback_data(*parts: object, sep: str = ":") -> str:
    """Join parts into compact ``callback_data`` (1-64 UTF-8 bytes), e.g. ``"hedge:BTC:0.5"``.

    Numbers are written short (``0.5``, ``10``, booleans as ``1``/``0``). Raises ValueError when
    a part contains the separator or the result does not fit Telegram's 64 bytes.
    """
    words = []
    for part in parts:
        if isinstance(part, bool):
            word = "1" if part else "0"
        elif isinstance(part, float):
            word = f"{part:.10g}"
        else:
            word = str(part)
        if sep in word:
            raise ValueError(f"callback_data part {word!r} contains the separator {sep!r}")
        words.append(word)
    data = sep.join(words)
    size = len(data.encode("utf-8"))
    if not 1 <= size <= CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback_data must be 1-{CALLBACK_DATA_LIMIT} bytes, got {size}: "
                         f"{data[:80]!r}")
    return data


def parse_callback_data(data: str, sep: str = ":") -> list[str]:
    """The parts of data built by :func:`callback_data`, as strings."""
    return data.split(sep)
