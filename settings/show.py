"""``bot.py check-config``: the effective configuration, secrets shown only as set/unset."""

from __future__ import annotations

import json
from typing import Any

from settings.config import Config
from settings.secrets import EXCHANGE_KEY_SUFFIXES, KNOWN_EXCHANGES, TELEGRAM_TOKEN, WEBHOOK_SECRET


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return '""  # unset'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def render_effective(config: Config, env: dict[str, str]) -> str:
    """The effective config as TOML, then which secrets the environment provides (masked)."""
    lines = []
    for section, values in config.model_dump(mode="json").items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    lines.append("# secrets (from the environment only)")
    names = [TELEGRAM_TOKEN, WEBHOOK_SECRET] + [
        f"{ex}_{suffix}" for ex in KNOWN_EXCHANGES for suffix in EXCHANGE_KEY_SUFFIXES]
    for name in names:
        lines.append(f"# {name} = {'*** (set)' if env.get(name) else '(not set)'}")
    return "\n".join(lines)
