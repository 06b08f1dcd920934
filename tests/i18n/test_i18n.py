"""The i18n layer itself: which language a code means, lazy messages, the pseudo-locale,
numbers and dates per locale, and the CLI's --lang / LANG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from i18n import L_, LN_, _, fmt_datetime, fmt_decimal, fmt_percent, ngettext, normalize, use
from i18n.languages import from_environment
from i18n.pseudo import pseudo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("code", "lang"), [
    ("en", "en"), ("en-US", "en"), ("en_GB.UTF-8", "en"), ("zh", "zh_Hans"),
    ("zh-hans", "zh_Hans"), ("zh-CN", "zh_Hans"), ("zh_CN.UTF-8", "zh_Hans"),
    ("zh-hant", "zh_Hans"), ("中文", "zh_Hans"), ("ZH", "zh_Hans"), ("fr", None),
    ("C.UTF-8", None), ("POSIX", None), ("", None), (None, None)])
def test_codes_map_to_the_languages_we_speak(code, lang):
    assert normalize(code) == lang


def test_the_environment_decides_like_gettext():
    assert from_environment({"LANG": "zh_CN.UTF-8"}) == "zh_Hans"
    assert from_environment({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert from_environment({"LC_MESSAGES": "zh_SG", "LANG": "en_US"}) == "zh_Hans"
    assert from_environment({"LANG": "C.UTF-8"}) is None
    assert from_environment({}) is None


def test_a_lazy_message_renders_in_the_language_of_the_moment():
    msg = L_("Alert")
    assert str(msg) == "Alert"
    with use("zh_Hans"):
        assert str(msg) == "警报"
    with use("en_XA"):  # a parameter that is itself a message is rendered too
        assert str(L_("What to do: {action}", action=L_("Details"))) == \
            pseudo("What to do: ") + pseudo("Details")
    assert str(LN_("{n} alert", "{n} alerts", 3)) == "3 alerts"
    assert ngettext("{n} alert", "{n} alerts", 1).format(n=1) == "1 alert"


def test_untranslated_strings_fall_back_to_english():
    with use("zh_Hans"):
        assert _("a sentence nobody translated") == "a sentence nobody translated"
    with use("xx"):  # not a language we speak: English
        assert _("Alert") == "Alert"


def test_the_pseudo_locale_keeps_what_must_not_change():
    out = pseudo("Send /risk <b>{symbol:>8}</b> &amp; %(n)s now")
    assert "/risk" in out and "<b>" in out and "{symbol:>8}" in out and "&amp;" in out
    assert "%(n)s" in out and "Send" not in out and "now" not in out


def test_numbers_and_dates_follow_the_locale():
    assert fmt_decimal(1234567.891, 2) == "1,234,567.89"
    assert fmt_percent(0.1234) == "12.3%"
    assert fmt_datetime(1_772_323_200_000, "Asia/Shanghai") == "2026-03-01 08:00 CST"
    assert fmt_datetime(1_772_323_200_000, "Not/AZone") == "2026-03-01 00:00 UTC"
    with use("zh_Hans"):
        assert fmt_decimal(1234567.891, 2) == "1,234,567.89"
        assert fmt_percent(-0.05, 0) == "-5%"


def run_bot(tmp_path: Path, *args: str, lang: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HEDGEWATCH_", "TELEGRAM_", "OKX_", "LC_", "LANG"))}
    env.update(LANG=lang, HEDGEWATCH_EXCHANGE_NAME="sim",
               HEDGEWATCH_STORAGE_PATH=str(tmp_path / "hw.db"))
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_cli_speaks_lang_else_the_environments_language(tmp_path):
    assert run_bot(tmp_path, "lang", lang="C.UTF-8").stdout.startswith("Language: English")
    assert run_bot(tmp_path, "lang", lang="zh_CN.UTF-8").stdout.startswith("语言：简体中文")
    flag = run_bot(tmp_path, "--lang", "zh", "lang", lang="en_US.UTF-8")
    assert flag.stdout.startswith("语言：简体中文"), flag.stderr
    bad = run_bot(tmp_path, "--lang", "fr", "lang", lang="C.UTF-8")
    assert bad.returncode == 2 and "--lang 'fr'" in bad.stderr and not bad.stdout
