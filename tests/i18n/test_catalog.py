"""The Chinese catalog is complete and safe: every string marked in the code has a
translation, each translation keeps its placeholders and HTML tags (a lost ``{price}``
would raise at render time; a lost ``</b>`` would make Telegram refuse the message), and the
committed template is what ``make messages`` extracts today."""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot.py", "i18n", "core", "settings", "storage", "plugins", "runtime", "backtest",
           "chat", "jobs")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "L_": None,
            "LN_": (1, 2), "dgettext": (2,)}
TAG = re.compile(r"</?(?:b|i|u|s|a|code|pre|blockquote|tg-spoiler|span)(?:\s[^>]*)?>")


def extracted() -> set[str]:
    """Every msgid the code marks (singular forms), as ``make messages`` finds them."""
    ids: set[str] = set()
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            found = extract_from_file("python", str(path), keywords=KEYWORDS)
            ids |= {m[1][0] if isinstance(m[1], tuple) else m[1] for m in found}
        else:
            found_dir = extract_from_dir(str(path), method_map=[("**.py", "python")],
                                         keywords=KEYWORDS)
            ids |= {m[2][0] if isinstance(m[2], tuple) else m[2] for m in found_dir}
    return {i for i in ids if i}


def fields(text: str) -> Counter[str]:
    return Counter(name for _lit, name, _spec, _conv in string.Formatter().parse(text)
                   if name is not None)


@pytest.fixture(scope="module")
def chinese():
    with (LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "hedgewatch.po").open("rb") as f:
        return read_po(f, locale="zh_Hans")


def test_every_marked_string_has_a_chinese_translation(chinese):
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in chinese if m.id}
    missing = sorted(i for i in extracted()
                     if i not in translated or not translated[i].string
                     or translated[i].fuzzy
                     or (isinstance(translated[i].string, tuple)
                         and not all(translated[i].string)))
    assert not missing, f"{len(missing)} strings without Chinese (run make messages and " \
        f"translate them):\n" + "\n".join(missing[:40])


def test_translations_keep_placeholders_and_tags(chinese):
    bad = []
    for m in chinese:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        for target in strs:
            if fields(target) and set(fields(target)) != set(fields(ids[-1])) | (
                    set(fields(ids[0])) if len(ids) > 1 else set()):
                bad.append(f"{ids[0]!r}: placeholders {sorted(fields(target))}")
            if Counter(TAG.findall(target)) != Counter(TAG.findall(ids[0])):
                bad.append(f"{ids[0]!r}: tags {TAG.findall(target)}")
        try:
            for target in strs:
                target.format(**{k: 1 for k in fields(target)})
        except (ValueError, IndexError, KeyError) as e:
            bad.append(f"{ids[0]!r}: {e}")
    assert not bad, "\n".join(bad[:40])


def test_the_committed_template_is_up_to_date():
    with (LOCALE_DIR / "hedgewatch.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert template == extracted(), "run make messages"
