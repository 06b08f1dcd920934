"""Secrets live in the environment only: never in config.toml, logs, the database or git."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TELEGRAM_TOKEN = "TELEGRAM_BOT_TOKEN"
WEBHOOK_SECRET = "TELEGRAM_WEBHOOK_SECRET"
ACCOUNT_KEY = "ACCOUNT_ENCRYPTION_KEY"  # encrypts users' exchange keys at rest (/connect)
EXCHANGE_KEY_SUFFIXES = ("API_KEY", "API_SECRET", "API_PASSPHRASE")
KNOWN_EXCHANGES = ("OKX", "BINANCE", "BYBIT")

# Config keys that look like secrets, and the variable to use instead ("{EX}" = exchange name).
SECRET_KEYS: dict[str, str] = {
    "token": TELEGRAM_TOKEN,
    "bot_token": TELEGRAM_TOKEN,
    "webhook_secret": WEBHOOK_SECRET,
    "secret_token": WEBHOOK_SECRET,
    "api_key": "{EX}_API_KEY",
    "apikey": "{EX}_API_KEY",
    "key": "{EX}_API_KEY",
    "api_secret": "{EX}_API_SECRET",
    "secret": "{EX}_API_SECRET",
    "passphrase": "{EX}_API_PASSPHRASE",
    "api_passphrase": "{EX}_API_PASSPHRASE",
    "password": "{EX}_API_PASSPHRASE",
    "encryption_key": ACCOUNT_KEY,
    "account_key": ACCOUNT_KEY,
    "fernet_key": ACCOUNT_KEY,
}


@dataclass(frozen=True, repr=False)
class ExchangeKeys:
    """Read-only API keys for one exchange (used only to read positions)."""

    api_key: str
    secret: str
    passphrase: str | None = None

    def __repr__(self) -> str:  # never print a key, even by accident
        return "ExchangeKeys(***)"


@dataclass(frozen=True, repr=False)
class Secrets:
    telegram_token: str | None = None
    webhook_secret: str | None = None
    exchanges: Mapping[str, ExchangeKeys] = field(default_factory=dict)
    account_key: str | None = None  # Fernet key(s) for users' exchange keys; None: /connect off

    def __repr__(self) -> str:
        return "Secrets(***)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Secrets:
        env = os.environ if env is None else env
        keys = {}
        for ex in KNOWN_EXCHANGES:
            api_key, secret = env.get(f"{ex}_API_KEY"), env.get(f"{ex}_API_SECRET")
            if api_key and secret:
                keys[ex.lower()] = ExchangeKeys(api_key, secret, env.get(f"{ex}_API_PASSPHRASE"))
        return cls(
            telegram_token=env.get(TELEGRAM_TOKEN) or None,
            webhook_secret=env.get(WEBHOOK_SECRET) or None,
            exchanges=keys,
            account_key=env.get(ACCOUNT_KEY) or None,
        )

    def values(self) -> list[str]:
        """Every secret value, for the log filter that masks them."""
        out = [self.telegram_token, self.webhook_secret,
               *(self.account_key or "").split(",")]
        for k in self.exchanges.values():
            out += [k.api_key, k.secret, k.passphrase]
        return [v for v in out if v]


def key_variables(exchange: str) -> list[str]:
    """The environment variables that hold an exchange's API keys (OKX also needs the
    passphrase), e.g. ``["OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"]``."""
    ex = exchange.upper()
    suffixes = EXCHANGE_KEY_SUFFIXES if ex == "OKX" else EXCHANGE_KEY_SUFFIXES[:2]
    return [f"{ex}_{s}" for s in suffixes]


def secret_variable_for(key: str, exchange: str = "okx") -> str | None:
    """The environment variable a secret-looking config key should be set in, else None."""
    var = SECRET_KEYS.get(key.lower())
    return var.replace("{EX}", exchange.upper()) if var else None


_SECRET_SHAPES = (
    re.compile(r"\d{6,12}:[A-Za-z0-9_-]{30,}"),  # a Telegram bot token
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    re.compile(r"[0-9a-fA-F]{32,}"),  # a hex key
)
_WORD = re.compile(r"[A-Za-z0-9_+=-]{24,}")


def looks_secret(value: object, known: Iterable[str] = ()) -> bool:
    """Whether a value must not be echoed in a message: it holds a secret we know of, or it
    has the shape of one (a bot token, a UUID or hex key, a long mixed-case alphanumeric run
    such as an exchange key). Errs on the side of hiding."""
    text = str(value)
    if any(k and len(k) >= 6 and k in text for k in known):
        return True
    if any(p.search(text) for p in _SECRET_SHAPES):
        return True
    return any(re.search(r"[a-z]", w) and re.search(r"[A-Z]", w) and re.search(r"\d", w)
               for w in _WORD.findall(text))


def mask(value: str) -> str:
    """Show that a secret is set without showing it."""
    return "***" if value else ""
