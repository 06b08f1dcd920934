"""Retries with exponential backoff and jitter, for transient exchange failures only."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import ccxt.async_support as ccxt

from plugins.exchanges.errors import MarketError, SourceUnavailable

T = TypeVar("T")


class BadPayload(MarketError):
    """The exchange answered, but with data that cannot be used (empty, null, malformed)."""


# Errors worth another try: ccxt's NetworkError covers RateLimitExceeded, DDoSProtection,
# ExchangeNotAvailable, OnMaintenance and RequestTimeout. A malformed body is often a proxy
# hiccup, so it is retried too. BadSymbol, BadRequest and AuthenticationError are not.
RETRYABLE: tuple[type[BaseException], ...] = (ccxt.NetworkError, BadPayload, asyncio.TimeoutError)
FATAL: tuple[type[BaseException], ...] = (ccxt.BadSymbol, ccxt.BadRequest,
                                          ccxt.AuthenticationError, ccxt.PermissionDenied)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base_s: float = 0.5
    cap_s: float = 10.0
    jitter: float = 0.5  # delay × uniform(1 − jitter, 1 + jitter)

    def delay(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number ``retry`` (0-based)."""
        d: float = min(self.cap_s, self.base_s * (2 ** retry))
        return d * rng.uniform(1 - self.jitter, 1 + self.jitter)


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RETRYABLE) and not isinstance(exc, FATAL)


async def with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy, *,
                       on_retry: Callable[[BaseException], None] | None = None,
                       rng: random.Random | None = None, what: str = "request") -> T:
    """Await ``call()`` until it succeeds, retrying transient errors per ``policy``.

    Exhausted retries raise ``SourceUnavailable`` (chained to the last error); errors that are
    not transient propagate at once.
    """
    rng = rng or random.Random()
    for retry in range(policy.attempts):
        try:
            return await call()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            if retry + 1 >= policy.attempts:
                raise SourceUnavailable(f"{what}: {describe(exc)}") from exc
            if on_retry:
                on_retry(exc)
            await asyncio.sleep(policy.delay(retry, rng))
    raise AssertionError("unreachable")  # pragma: no cover


def describe(exc: BaseException) -> str:
    """Short reason for ``MarketSnapshot.missing`` and ``/status``: class and first words."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__
