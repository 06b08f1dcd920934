"""Generated config files and environment overrides: the loader and every check either accept
the config or refuse it with problems that each name a key (or the variable), no exception
escapes, and a secret-looking value is never echoed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from plugins.config_checks import plugin_problems
from settings import Config, ConfigError, load_config
from settings.checks import config_problems
from tests.fuzzing import fuzz_settings, plugin_manager

pytestmark = pytest.mark.fuzz
SECTIONS = {name: list(field.annotation.model_fields)  # type: ignore[union-attr]
            for name, field in Config.model_fields.items()}
SECRETS = ["123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "c8a6e5b4-1234-4cde-8f00-0123456789ab",
           "9F2A4C6E8B0D1F3A5C7E9B1D3F5A7C9E"]
PM = plugin_manager()

NAMES = st.one_of(st.sampled_from([k for keys in SECTIONS.values() for k in keys]),
                  st.text(min_size=1, max_size=12))
STRINGS = st.one_of(
    st.sampled_from(["15m", "1ms", "7m", "0s", "1s", "30d", "99999999999999999999d", "1d",
                     "okx", "sim", "csv", "webhook", "polling", "BTC", "BTCC", "top:30",
                     "top:0", "min_variance", "https://bot.example.com:8443/x", "http://",
                     "@chan", "nan", "", "info", "DEBUG", *SECRETS]),
    st.text(max_size=40))
SCALARS = st.one_of(STRINGS, st.booleans(), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, -1, 70000]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, max_size=3)), max_leaves=8)


def known_key(section: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(SECTIONS.get(section) or ["x"]), NAMES)


DOCS = st.dictionaries(st.one_of(st.sampled_from(list(SECTIONS)), NAMES),
                       st.one_of(st.dictionaries(NAMES, VALUES, max_size=5), SCALARS),
                       max_size=5)
ENV = st.dictionaries(
    st.one_of(st.sampled_from([f"HEDGEWATCH_{s}_{k}".upper() for s, ks in SECTIONS.items()
                               for k in ks]),
              st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=12).map(
                  lambda t: "HEDGEWATCH_" + t)),
    STRINGS.filter(lambda s: "\x00" not in s), max_size=4)


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes, plus DEL, which TOML wants escaped too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")) \
            if not math.isfinite(v) else repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_document(doc: dict[str, Any]) -> str:
    lines = []
    for section, body in doc.items():
        if isinstance(body, dict):
            lines.append(f"[{toml_string(section)}]")
            lines += [f"{toml_string(k)} = {toml_value(v)}" for k, v in body.items()]
        else:
            lines.insert(0, f"{toml_string(section)} = {toml_value(body)}")
    return "\n".join(lines) + "\n"


def names_a_key(problem: str, doc: dict[str, Any], env: dict[str, str]) -> bool:
    head = problem.removeprefix("unknown key ")
    if head.startswith(("not valid TOML", "cannot read it")):
        return True
    names = [*doc, *SECTIONS, *env]
    return any(head.startswith(n) for n in names)


def test_the_toml_writer_round_trips() -> None:
    import tomllib

    doc = {"engine": {"high_corr": float("nan"), "x y": ["a\x7f", 1, {"k": True}]}}
    back = tomllib.loads(toml_document(doc))
    assert math.isnan(back["engine"]["high_corr"]) and back["engine"]["x y"][0] == "a\x7f"


@fuzz_settings(300)
@given(doc=DOCS, env=ENV)
@example(doc={"exchange": {"timeframe": "1ms"}}, env={})
@example(doc={"telegram": {"webhook_port": 70000, "mode": "webhook"}}, env={})
@example(doc={}, env={"HEDGEWATCH_TELEGRAM_ADMINS": SECRETS[0]})
@example(doc={"exchange": {"symbols": [SECRETS[1]]}}, env={})
def test_any_config_is_accepted_or_refused_naming_each_key(tmp_path_factory, doc, env) -> None:
    path: Path = tmp_path_factory.mktemp("cfg") / "c.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    try:
        config = load_config(path, env=env)
    except ConfigError as e:
        report = e.report()
        assert e.problems and all(names_a_key(p, doc, env) for p in e.problems), e.problems
        assert not any(s in report for s in SECRETS), report
        return
    assert config_problems(config) == []
    for p in plugin_problems(config, PM):  # never raises; each names its key
        assert p.key.split(".")[0] in SECTIONS and p.message
