"""The languages hedgewatch speaks and how a code a user or Telegram gives maps onto them."""

from __future__ import annotations

DEFAULT = "en"
LANGUAGES: dict[str, str] = {"en": "English", "zh_Hans": "简体中文"}
PSEUDO = "en_XA"  # tests: every translated string visibly marked (i18n.pseudo)
# the languages an alert is rendered in when recorded: ours, plus the pseudo-locale when a
# test switches it on (``RENDERED.append(PSEUDO)``)
RENDERED: list[str] = list(LANGUAGES)
BABEL_LOCALES = {"en": "en", "zh_Hans": "zh_Hans_CN", PSEUDO: "en"}

_ALIASES = {"en": "en", "english": "en", "zh": "zh_Hans", "cn": "zh_Hans", "chinese": "zh_Hans",
            "中文": "zh_Hans", "简体中文": "zh_Hans", "pseudo": PSEUDO, "en_xa": PSEUDO}


def normalize(code: str | None) -> str | None:
    """Our language for ``code`` — Telegram's ``language_code`` ("zh-hans", "en-US"), a
    POSIX ``LANG`` ("zh_CN.UTF-8"), or what a user types ("zh", "中文") — or None when we
    do not speak it. Every Chinese variant maps to Simplified Chinese, the one we ship:
    closer to a Traditional reader than English is."""
    if not code:
        return None
    word = code.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if word in _ALIASES:
        return _ALIASES[word]
    if word in ("c", "posix"):
        return None
    base = word.split("_")[0]
    return _ALIASES.get(base) if base in ("en", "zh") else None


def from_environment(environ: dict[str, str]) -> str | None:
    """The language gettext would take from the environment: the first of ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG`` that is set decides (None when it names one we don't speak)."""
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(key):
            return normalize(environ[key])
    return None
