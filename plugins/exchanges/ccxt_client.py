"""The settings a ccxt exchange object is built with for a ``CcxtMarket``.

ccxt's own throttle is off (``enableRateLimit``): requests are paced per endpoint by
``ratelimits`` instead. ``api_url`` moves every REST base URL to one host, paths kept, so tests
and proxies can stand in for the exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from settings.config import ExchangeConfig
from settings.secrets import ExchangeKeys


def ccxt_config(config: ExchangeConfig, keys: ExchangeKeys | None, ccxt_class: type,
                options: Mapping[str, Any]) -> dict[str, Any]:
    """The ccxt constructor dict: timeout, options, read-only keys and a moved API URL."""
    cfg: dict[str, Any] = {"enableRateLimit": False, "timeout": config.timeout.ms,
                           "options": dict(options)}
    if keys:
        cfg.update(apiKey=keys.api_key, secret=keys.secret, password=keys.passphrase)
    if config.api_url:
        cfg["urls"] = {"api": moved_api_urls(ccxt_class, config.api_url.rstrip("/"))}
    return cfg


def moved_api_urls(ccxt_class: type, base: str) -> dict[str, Any]:
    """Every REST base URL of the exchange, moved to ``base`` (paths kept)."""
    def move(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: move(x) for k, x in v.items()}
        if isinstance(v, str) and v.startswith("http"):
            return base + urlsplit(v).path.rstrip("/")
        return v
    urls: dict[str, Any] = move(ccxt_class().describe()["urls"]["api"])
    return urls
