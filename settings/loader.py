"""Read config.toml, apply HEDGEWATCH_* environment overrides, validate, report every problem.

Order of precedence: built-in defaults < the config file < environment variables. The file is
found from ``--config PATH``, else ``$HEDGEWATCH_CONFIG``, else ``./config.toml`` if present.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from i18n import N_, _, ngettext
from settings.checks import Problem, config_problems
from settings.config import Config
from settings.secrets import Secrets, looks_secret, secret_variable_for

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
        n = len(self.problems)
        lines = [ngettext("{source} has {n} problem:", "{source} has {n} problems:", n).format(
            source=self.source, n=n)]
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
    source = str(file) if file else _("built-in defaults")
    if file is not None:
        if not file.is_file():
            raise ConfigError([_("config file {path} does not exist").format(path=file)],
                              source)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError([_("not valid TOML: {error}").format(error=e)], source) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError([_("cannot read it: {error}").format(error=e)], source) from None
    problems = _refuse_secrets(data)
    origins: dict[tuple[str, str], str] = {}
    problems += _apply_env(data, env, origins)
    known = Secrets.from_env(env).values()
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        seen: set[tuple[int | str, ...]] = set()
        for err in e.errors():
            loc = _clean_loc(err["loc"])
            if loc not in seen:  # a union gives one error per member: say it once
                seen.add(loc)
                problems.append(_describe(err, loc, data, origins, known))
        config = None
    if config is not None:
        problems += [describe(p, data, env, known) for p in config_problems(config)]
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config


def env_origin(dotted: str, env: Mapping[str, str]) -> str | None:
    """The ``HEDGEWATCH_*`` variable that set ``section.key``, if one did."""
    parts = dotted.split(".")
    if len(parts) < 2:
        return None
    var = f"{ENV_PREFIX}{parts[0]}_{parts[1]}".upper()
    return var if var in env else None


def shown_value(value: Any, known: list[str] | tuple[str, ...] = ()) -> str:
    """`` = 'value'`` for a message: never a secret-looking one, never more than a line."""
    if value is None or isinstance(value, dict):
        return ""
    if looks_secret(value, known):
        return _(" (value hidden: it looks like a secret)")
    text = repr(value)
    return f" = {text if len(text) <= 80 else text[:77] + '...'}"


def describe(problem: Problem, data: Mapping[str, Any], env: Mapping[str, str],
             known: list[str] | tuple[str, ...] = ()) -> str:
    """One line for a problem of meaning: key, value (masked), origin, what is wrong."""
    origin = env_origin(problem.key, env)
    where = _(" (from {variable})").format(variable=origin) if origin else ""
    value = _lookup(data, tuple(int(p) if p.isdecimal() else p
                                for p in problem.key.split("."))) if problem.show_value else None
    if problem.show_value and value is None:
        value = _default(problem.key)
    return _problem_line(problem.key, shown_value(value, known), where, problem.message)


def _default(dotted: str) -> Any:
    """The built-in default of ``section.key`` (for a problem about a key the file left out)."""
    data = Config().model_dump(mode="json")
    return _lookup(data, tuple(int(p) if p.isdecimal() else p for p in dotted.split(".")))


_UNION_MEMBERS = {"float", "int", "str", "bool", "list", "dict", "none"}


_TAG = re.compile(r"^[\w-]+\[.*\]$")  # "list[str]", "function-after[_to_duration(), ...]"


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The key path of a pydantic error without its validator and union-member tags."""
    out = [p for p in loc if not (isinstance(p, str) and _TAG.match(p))]
    while len(out) > 1 and isinstance(out[-1], str) and out[-1] in _UNION_MEMBERS:
        out.pop()
    return tuple(out)


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
                problems.append(_(
                    "{key}: secrets are not read from the config file; remove it and set the "
                    "environment variable {variable} instead").format(key=dotted, variable=var))
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
            problems.append(_("{variable}: no config section matches{hint}").format(
                variable=var, hint=hint))
            continue
        key = rest[len(section) + 1:]
        model: type[BaseModel] = sections[section].annotation  # type: ignore[assignment]
        if key not in model.model_fields:
            problems.append(_("{variable}: [{section}] has no key {key!r}{hint}").format(
                variable=var, section=section, key=key,
                hint=_did_you_mean(key, list(model.model_fields))))
            continue
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            continue
        data[section][key] = _parse_env_value(raw)
        origins[(section, key)] = var
    return problems


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return _(" (did you mean {name!r}?)").format(name=close[0]) if close else ""


def _lookup(data: Any, loc: tuple[int | str, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _describe(err: Mapping[str, Any], loc: tuple[int | str, ...], data: dict[str, Any],
              origins: dict[tuple[str, str], str], known: list[str]) -> str:
    dotted = ".".join(str(p) for p in loc) or _("(top level)")
    if not loc:
        return _problem_line(dotted, "", "", err["msg"])
    origin = origins.get((str(loc[0]), str(loc[1]))) if len(loc) >= 2 else None
    where = _(" (from {variable})").format(variable=origin) if origin else ""
    if err["type"] == "extra_forbidden":
        parent = Config
        for part in loc[:-1]:
            field = parent.model_fields.get(str(part)) if isinstance(parent, type) else None
            parent = field.annotation if field else None  # type: ignore[assignment]
        options = list(parent.model_fields) if isinstance(parent, type) and issubclass(
            parent, BaseModel) else []
        return _("unknown key {key}{hint}").format(
            key=dotted, hint=_did_you_mean(str(loc[-1]), options))
    value = _lookup(data, loc)
    words = _PYDANTIC_WORDS.get(err["type"])
    msg = _(words).format(**err.get("ctx") or {}) if words else err["msg"]
    if msg.startswith("Value error, "):  # our validators' words, translated when raised
        msg = msg[len("Value error, "):]
    if value is not None and looks_secret(value, known):  # our validators quote the value
        it = _("it")
        msg = msg.replace(repr(value), it).replace(str(value), it)
    return _problem_line(dotted, shown_value(value, known), where, msg)


def _problem_line(key: str, value: str, origin: str, problem: str) -> str:
    """``key = value (from VARIABLE): what is wrong`` (value and origin may be empty)."""
    return _("{key}{value}{origin}: {problem}").format(key=key, value=value, origin=origin,
                                                       problem=problem)


# pydantic's messages, in our words (bounds) or in its own English (the types): either way
# translated; a type not listed here keeps pydantic's English
_PYDANTIC_WORDS = {
    "finite_number": N_("must be a finite number (not nan or inf)"),
    "greater_than": N_("must be above {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be below {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "int_type": N_("Input should be a valid integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional "
                         "part"),
    "float_type": N_("Input should be a valid number"),
    "string_type": N_("Input should be a valid string"),
    "bool_type": N_("Input should be a valid boolean"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of {class_name}"),
    "literal_error": N_("Input should be {expected}"),
    "missing": N_("Field required"),
}
