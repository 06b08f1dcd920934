"""Config: defaults, documentation, unknown keys, types, secrets, env overrides, durations."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import Config, ConfigError, Duration, load_config
from settings.config import Section

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def problems(path: Path | None = None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load_config(path, env=env or {})
    return e.value.problems


def test_shipped_config_toml_equals_the_built_in_defaults():
    assert load_config(ROOT / "config.toml", env={}) == Config()


def test_every_key_is_documented_in_config_toml():
    text = (ROOT / "config.toml").read_text()
    documented: dict[str, set[str]] = {}
    section = None
    for line in text.splitlines():
        if m := re.match(r"^\[(\w+)\]", line):
            section = m.group(1)
            documented.setdefault(section, set())
        elif section and (m := re.match(r"^#?\s?(\w+)\s*=\s*\S", line)):
            documented[section].add(m.group(1))
            assert "#" in line, f"[{section}] {m.group(1)} has no comment"
    for name, field in Config.model_fields.items():
        model = field.annotation
        assert issubclass(model, Section)
        missing = set(model.model_fields) - documented.get(name, set()) - {"params"}
        assert not missing, f"[{name}] keys not documented in config.toml: {missing}"


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path):
    p = problems(write(tmp_path, "[engine]\nhihg_corr = 0.8\n"))
    assert p == ["unknown key engine.hihg_corr (did you mean 'high_corr'?)"]


def test_unknown_section_is_an_error(tmp_path):
    p = problems(write(tmp_path, "[engnie]\nhigh_corr = 0.8\n"))
    assert "unknown key engnie" in p[0] and "'engine'" in p[0]


def test_wrong_type_names_key_value_and_expected_type(tmp_path):
    p = problems(write(tmp_path, '[risk]\nleverage = "ten"\n'))
    assert len(p) == 1
    assert p[0].startswith("risk.leverage = 'ten'") and "number" in p[0]


def test_every_problem_is_listed_at_once(tmp_path):
    p = problems(write(tmp_path, '[risk]\nleverage = "x"\n[engine]\nfast_window = "soon"\n'
                                 "[schedule]\nintervl = \"1m\"\n"))
    assert len(p) == 3


def test_bad_toml_names_the_line(tmp_path):
    p = problems(write(tmp_path, "[engine\n"))
    assert "not valid TOML" in p[0] and "line 1" in p[0]


def test_missing_file_is_reported(tmp_path):
    assert "does not exist" in problems(tmp_path / "nope.toml")[0]


@pytest.mark.parametrize("section,key,var", [
    ("telegram", "token", "TELEGRAM_BOT_TOKEN"),
    ("telegram", "webhook_secret", "TELEGRAM_WEBHOOK_SECRET"),
    ("exchange", "api_key", "OKX_API_KEY"),
    ("exchange", "secret", "OKX_API_SECRET"),
    ("exchange", "passphrase", "OKX_API_PASSPHRASE"),
])
def test_secret_in_file_is_refused_and_never_echoed(tmp_path, section, key, var):
    value = "s3cr3t-VALUE-123456"
    p = problems(write(tmp_path, f'[{section}]\n{key} = "{value}"\n'))
    assert len(p) == 1 and var in p[0]
    assert value not in " ".join(p)


def test_secret_variable_follows_the_exchange(tmp_path):
    p = problems(write(tmp_path, '[exchange]\nname = "binance"\napi_key = "abcdefgh"\n'))
    assert "BINANCE_API_KEY" in p[0]


def test_env_overrides_file_and_parses_types(tmp_path):
    path = write(tmp_path, "[engine]\nhigh_corr = 0.8\n")
    c = load_config(path, env={"HEDGEWATCH_ENGINE_HIGH_CORR": "0.75",
                               "HEDGEWATCH_EXCHANGE_SYMBOLS": '["BTC", "ETH"]',
                               "HEDGEWATCH_SCHEDULE_CASCADE_INTERVAL": "1s",
                               "HEDGEWATCH_EXCHANGE_NAME": "sim"})
    assert c.engine.high_corr == 0.75
    assert c.exchange.symbols == ["BTC", "ETH"]
    assert c.schedule.cascade_interval.seconds == 1
    assert c.exchange.name == "sim"


def test_bad_env_override_names_the_variable():
    p = problems(None, env={"HEDGEWATCH_RISK_LEVERAGE": "lots", "HEDGEWATCH_RISK_LEVRAGE": "1"})
    assert any("HEDGEWATCH_RISK_LEVERAGE" in x and "lots" in x for x in p)
    assert any("did you mean 'leverage'" in x for x in p)


def test_config_path_from_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "[risk]\nleverage = 5.0\n")
    monkeypatch.chdir(tmp_path.parent)
    assert load_config(None, env={"HEDGEWATCH_CONFIG": str(path)}).risk.leverage == 5.0


def test_cross_field_rules(tmp_path):
    p = problems(write(tmp_path, "[engine]\nlow_corr = 0.8\nhigh_corr = 0.7\n"))
    assert "low_corr must be below high_corr" in p[0]


def test_symbols_top_n_form(tmp_path):
    assert load_config(write(tmp_path, '[exchange]\nsymbols = "top:30"\n'), env={})
    assert problems(write(tmp_path, '[exchange]\nsymbols = "most"\n'))


@pytest.mark.parametrize("text,seconds,bars_at_15m", [
    ("15m", 900, 1), ("1d", 86400, 96), ("30d", 30 * 86400, 2880), ("1s", 1, 1),
    ("6h", 21600, 24), ("20m", 1200, 2),
])
def test_durations_convert_to_bars(text, seconds, bars_at_15m):
    d = Duration.parse(text)
    assert d.seconds == seconds
    assert d.bars(Duration.parse("15m")) == bars_at_15m


@pytest.mark.parametrize("bad", ["15", "m", "-1m", "0s", "1 year", ""])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError, match=r"duration|longer than zero"):
        Duration.parse(bad)


def test_config_is_frozen():
    c = Config()
    with pytest.raises(ValidationError):
        c.engine.high_corr = 0.9  # type: ignore[misc]


def test_every_example_in_config_toml_is_valid_toml():
    """Commented-out examples must work when a user uncomments them."""
    text = (ROOT / "config.toml").read_text()
    uncommented = re.sub(r"(?m)^# (\w+ = )", r"\1", text)
    uncommented = re.sub(r"(?m)^# (\[strategies\.params\.\w+\])", r"\1", uncommented)
    data = tomllib.loads(uncommented)
    data["exchange"].pop("api_url")  # example URL, valid anyway
    Config.model_validate(data)
