"""``bot.py check-config``: the effective configuration, secrets shown only as set/unset."""

from __future__ import annotations

import json
from typing import Any

from i18n import _
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
        return '""  # ' + _("unset")
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
    lines.append("# " + _("secrets (from the environment only)"))
    names = [TELEGRAM_TOKEN, WEBHOOK_SECRET] + [
        f"{ex}_{suffix}" for ex in KNOWN_EXCHANGES for suffix in EXCHANGE_KEY_SUFFIXES]
    for name in names:
        state = _("*** (set)") if env.get(name) else _("(not set)")
        lines.append(f"# {name} = {state}")
    if env.get(ACCOUNT_KEY):
        lines.append(f"# {ACCOUNT_KEY} = " + _(
            "*** (set: traders can /connect their own read-only exchange keys, stored "
            "encrypted)"))
    else:
        lines.append(f"# {ACCOUNT_KEY} = " + _(
            "(not set: /connect is off — traders cannot connect their own exchange accounts; "
            "generate a key with {command})").format(command=GENERATE_KEY))
    return "\n".join(lines)
