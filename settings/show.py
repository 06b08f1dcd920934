"""``bot.py check-config``: the effective configuration, secrets shown only as set/unset."""

from __future__ import annotations

import json
from typing import Any

from settings.config import Config
from settings.secrets import (
    ACCOUNT_KEY,
    EXCHANGE_KEY_SUFFIXES,
    KNOWN_EXCHANGES,
    TELEGRAM_TOKEN,
    WEBHOOK_SECRET,
)

GENERATE_KEY = ('python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"')


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
    if env.get(ACCOUNT_KEY):
        lines.append(f"# {ACCOUNT_KEY} = *** (set: traders can /connect their own read-only "
                     "exchange keys, stored encrypted)")
    else:
        lines.append(f"# {ACCOUNT_KEY} = (not set: /connect is off — traders cannot connect "
                     f"their own exchange accounts; generate a key with {GENERATE_KEY})")
    return "\n".join(lines)
