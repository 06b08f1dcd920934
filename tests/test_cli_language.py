"""``bot.py``'s help, argparse's own words and the config errors in the reader's language;
English stays exactly as it was."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

import bot
import i18n
from runtime import cli_words
from settings import ConfigError, load_config


def errors_of(argv: list[str]) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit):
        bot.build_parser().parse_args(argv)
    return err.getvalue()


def test_help_and_argparse_errors_in_chinese():
    with i18n.use("zh_Hans"):
        text = bot.build_parser().format_help()
        assert text.startswith("用法：bot.py") and "hedgewatch 只给建议，从不下单。" in text
        assert "显示此帮助信息并退出" in text and "--config PATH" in text
        assert "无效的选项：'nope'" in errors_of(["nope"])


def test_help_in_english_is_unchanged():
    with i18n.use("en"):
        text = bot.build_parser().format_help()
        assert text.startswith("usage: bot.py") and "show this help message and exit" in text
        assert "invalid choice: 'nope'" in errors_of(["nope"])


def test_a_translation_that_breaks_argparses_placeholders_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(cli_words, "gettext", lambda m: "坏的翻译 %(nope)s")
    assert cli_words._gettext("invalid %(type)s value: %(value)r") == \
        "invalid %(type)s value: %(value)r"


def test_config_problems_in_chinese(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[engine]\nlow_corr = 0.9\n[exchange]\nmax_retries = "3"\n')
    with i18n.use("zh_Hans"):
        with pytest.raises(ConfigError) as e:
            load_config(path, {})
        report = e.value.report()
    assert report.startswith(f"{path} 有 2 个问题：")
    assert "exchange.max_retries = '3'：应为整数" in report
    assert "low_corr 必须小于 high_corr" in report
    with i18n.use("en"):
        with pytest.raises(ConfigError) as e:
            load_config(path, {})
        assert e.value.report().startswith(f"{path} has 2 problems:")
