"""Read config.toml, apply HEDGEWATCH_* environment overrides, validate, report every problem.

Order of precedence: built-in defaults < the config file < environment variables. The file is
found from ``--config PATH``, else ``$HEDGEWATCH_CONFIG``, else ``./config.toml`` if present.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from settings.config import Config
from settings.secrets import secret_variable_for

ENV_PREFIX = "HEDGEWATCH_"
ENV_CONFIG = "HEDGEWATCH_CONFIG"
_NOT_OVERRIDES = {ENV_CONFIG}


class ConfigError(Exception):
    """Every problem found in the configuration, one line each."""

    def __init__(self, problems: list[str], source: str = "config"):
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems))

    def report(self) -> str:
        lines = [f"{self.source} has {len(self.problems)} problem(s):"]
        return "\n".join(lines + [f"  - {p}" for p in self.problems])


def find_config_path(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    if path:
        return Path(path)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    default = Path("config.toml")
    return default if default.exists() else None


def load_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Load and validate the configuration; raises ConfigError listing every problem."""
    env = os.environ if env is None else env
    file = find_config_path(path, env)
    data: dict[str, Any] = {}
    source = str(file) if file else "built-in defaults"
    if file is not None:
        if not file.is_file():
            raise ConfigError([f"config file {file} does not exist"], source)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError([f"not valid TOML: {e}"], source) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError([f"cannot read it: {e}"], source) from None
    problems = _refuse_secrets(data)
    origins: dict[tuple[str, str], str] = {}
    problems += _apply_env(data, env, origins)
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        problems += [_describe(err, data, origins) for err in e.errors()]
        config = None
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config


def _refuse_secrets(data: dict[str, Any]) -> list[str]:
    exchange = str(data.get("exchange", {}).get("name", "okx")) if isinstance(
        data.get("exchange"), dict) else "okx"
    problems = []

    def walk(node: Any, path: list[str]) -> None:
        if not isinstance(node, dict):
            return
        for key, value in list(node.items()):
            var = secret_variable_for(key, exchange) if not isinstance(value, dict) else None
            if var:
                dotted = ".".join([*path, key])
                problems.append(
                    f"{dotted}: secrets are not read from the config file; remove it and set "
                    f"the environment variable {var} instead"
                )
                del node[key]  # never carried further, never echoed
            else:
                walk(value, [*path, key])

    walk(data, [])
    return problems


def _parse_env_value(raw: str) -> Any:
    """TOML literal when it is one (10, 0.7, true, ["BTC"]), else the plain string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], env: Mapping[str, str],
               origins: dict[tuple[str, str], str]) -> list[str]:
    problems = []
    sections = Config.model_fields
    for var, raw in sorted(env.items()):
        if not var.startswith(ENV_PREFIX) or var in _NOT_OVERRIDES:
            continue
        rest = var[len(ENV_PREFIX):].lower()
        section = next((s for s in sorted(sections, key=len, reverse=True)
                        if rest.startswith(s + "_")), None)
        if section is None:
            hint = _did_you_mean(rest.split("_")[0], list(sections))
            problems.append(f"{var}: no config section matches{hint}")
            continue
        key = rest[len(section) + 1:]
        model: type[BaseModel] = sections[section].annotation  # type: ignore[assignment]
        if key not in model.model_fields:
            problems.append(f"{var}: [{section}] has no key {key!r}"
                            f"{_did_you_mean(key, list(model.model_fields))}")
            continue
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            continue
        data[section][key] = _parse_env_value(raw)
        origins[(section, key)] = var
    return problems


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _lookup(data: Any, loc: tuple[int | str, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _describe(err: Mapping[str, Any], data: dict[str, Any],
              origins: dict[tuple[str, str], str]) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    dotted = ".".join(str(p) for p in loc) or "(top level)"
    origin = origins.get(tuple(loc[:2])) if len(loc) >= 2 else None
    where = f" (from {origin})" if origin else ""
    if err["type"] == "extra_forbidden":
        parent = Config
        for part in loc[:-1]:
            field = parent.model_fields.get(str(part)) if isinstance(parent, type) else None
            parent = field.annotation if field else None  # type: ignore[assignment]
        options = list(parent.model_fields) if isinstance(parent, type) and issubclass(
            parent, BaseModel) else []
        return f"unknown key {dotted}{_did_you_mean(str(loc[-1]), options)}"
    value = _lookup(data, loc)
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    shown = f" = {value!r}" if value is not None and not isinstance(value, dict) else ""
    return f"{dotted}{shown}{where}: {msg}"
