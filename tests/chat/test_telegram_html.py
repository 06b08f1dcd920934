"""Telegram HTML helpers, checked against the fake Telegram server's own validator."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.telegram_html import (
    CALLBACK_DATA_LIMIT,
    callback_data,
    escape,
    parse_callback_data,
    split_html,
    truncate_caption,
    utf16_len,
    visible_text,
)
from tests.fakes.telegram_validate import ApiError, parse_html, parse_text


def accepted(chunk: str, limit: int) -> str:
    """The visible text of ``chunk`` if the fake Telegram would send it, else fail."""
    try:
        return parse_text(chunk, "HTML", limit=limit).text
    except ApiError as err:
        pytest.fail(f"{err.description}: {chunk!r}")


def test_escape_leaves_quotes_alone() -> None:
    assert escape('a < b & "c" > d') == 'a &lt; b &amp; "c" &gt; d'
    assert escape(0.5) == "0.5"


def test_utf16_len_counts_astral_characters_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("é𝔘") == 3


def test_visible_text_strips_tags_and_decodes_entities() -> None:
    html = '<b>BTC</b> &lt;liq&gt; &amp; <a href="https://x.io/?a=1&amp;b=2">link</a> &#128512;'
    assert visible_text(html) == "BTC <liq> & link 😀"
    assert visible_text(html) == parse_html(html).text


def test_short_text_is_one_chunk() -> None:
    html = "<b>short</b> &amp; sweet"
    assert split_html(html) == [html]


def test_split_prefers_line_ends() -> None:
    html = "<b>" + "".join(f"line {n}\n" for n in range(10)) + "</b>"
    chunks = split_html(html, limit=21)  # three lines of 7
    assert chunks[0] == "<b>line 0\nline 1\nline 2\n</b>"
    assert all(c.startswith("<b>") and c.endswith("</b>") for c in chunks)
    assert "".join(accepted(c, 21) for c in chunks) == visible_text(html)


def test_split_falls_back_to_words_then_hard_cuts() -> None:
    words = split_html("alpha beta gamma delta", limit=12)
    assert words == ["alpha beta ", "gamma delta"]
    hard = split_html("<i>" + "x" * 25 + "</i>", limit=10)
    assert hard == ["<i>" + "x" * 10 + "</i>"] * 2 + ["<i>xxxxx</i>"]


def test_split_reopens_nested_tags_with_attributes() -> None:
    html = ('<blockquote><a href="https://x.io">' + "word " * 10 + "</a></blockquote>"
            '<pre><code class="language-python">' + "x = 1\n" * 5 + "</code></pre>")
    chunks = split_html(html, limit=16)
    for chunk in chunks:
        accepted(chunk, 16)
    assert chunks[1].startswith('<blockquote><a href="https://x.io">')
    assert chunks[-1].startswith('<pre><code class="language-python">')
    assert parse_html(chunks[-1]).entities[0]["language"] == "python"


def test_split_never_cuts_an_astral_character() -> None:
    chunks = split_html("😀" * 5, limit=3)
    assert chunks == ["😀"] * 5


def test_split_escapes_bare_characters_and_drops_blank_input() -> None:
    assert split_html("a < b & c") == ["a &lt; b &amp; c"]
    assert split_html(" \n <b> </b>\n") == []


def test_split_refuses_unbalanced_html() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        split_html("<b>x</i>")


def test_truncate_caption() -> None:
    html = "<b>" + "word " * 300 + "</b>"
    short = truncate_caption(html, limit=100)
    text = accepted(short, 100)
    assert text.endswith("…") and utf16_len(text) <= 100
    assert truncate_caption("<i>fits</i>") == "<i>fits</i>"


def test_callback_data_is_compact_and_bounded() -> None:
    data = callback_data("hedge", "BTC-USDT-SWAP", 0.5, 10, True)
    assert data == "hedge:BTC-USDT-SWAP:0.5:10:1"
    assert parse_callback_data(data) == ["hedge", "BTC-USDT-SWAP", "0.5", "10", "1"]
    assert len(callback_data("x" * CALLBACK_DATA_LIMIT).encode()) == CALLBACK_DATA_LIMIT
    with pytest.raises(ValueError, match="1-64 bytes"):
        callback_data("é" * 33)  # 66 bytes in UTF-8
    with pytest.raises(ValueError, match="1-64 bytes"):
        callback_data("")
    with pytest.raises(ValueError, match="separator"):
        callback_data("a:b")


# ---------------------------------------------------------------- property: split_html
_CHARS = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    st.sampled_from([*"\n\n  &<>\"'", "😀", "𝔘", "🇺", "🇸", "👍", "🏽", "\u200d", "\u00a0"]),
)
_TEXT = st.text(_CHARS, max_size=30).map(escape)
_FORMAT = ["b", "i", "u", "s", "tg-spoiler", 'span class="tg-spoiler"', "em", "strong"]


def _wrap(tag: str, inner: str) -> str:
    return f"<{tag}>{inner}</{tag.split()[0]}>"


_FORMATTED = st.recursive(
    _TEXT,
    lambda inner: st.tuples(st.sampled_from(_FORMAT), st.lists(inner, max_size=3)).map(
        lambda t: _wrap(t[0], "".join(t[1]))),
    max_leaves=12,
)
_BLOCK = st.one_of(
    _FORMATTED,
    _TEXT.map(lambda t: _wrap("code", t)),
    _TEXT.map(lambda t: '<pre><code class="language-python">' + t + "</code></pre>"),
    _FORMATTED.map(lambda t: _wrap('a href="https://example.com/?a=1&amp;b=2"', t)),
    _FORMATTED.map(lambda t: _wrap("blockquote expandable", t)),
    st.just('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'),
)
_HTML = st.lists(_BLOCK, min_size=1, max_size=8).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=_HTML, limit=st.integers(min_value=2, max_value=80))
def test_split_chunks_are_accepted_and_keep_the_text(html: str, limit: int) -> None:
    original = parse_html(html).text  # the generator only makes valid Telegram HTML
    assert visible_text(html) == original
    chunks = split_html(html, limit=limit)
    shown = [accepted(chunk, limit) for chunk in chunks]
    joined = "".join(shown)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", original)
    longest_blank = max((len(m) for m in re.findall(r"\s+", original)), default=0)
    if longest_blank < limit - 1 and original == original.rstrip():
        assert joined == original  # only whitespace too long for a chunk of its own may go


@settings(max_examples=100, deadline=None)
@given(html=_HTML, limit=st.integers(min_value=5, max_value=60))
def test_truncate_caption_fits(html: str, limit: int) -> None:
    out = truncate_caption(html, limit=limit)
    text = parse_html(out).text
    assert utf16_len(text) <= limit
    if utf16_len(parse_html(html).text) <= limit:
        assert text == parse_html(html).text


def test_plain_text_never_raises_on_markup_telegram_refused() -> None:
    from chat.telegram_html import plain_text

    assert plain_text("<b>ok</b> &amp; fine") == "ok & fine"
    assert plain_text("<b>unclosed & <i>") == "unclosed & "
    assert plain_text("</b> stray &lt;") == " stray <"
