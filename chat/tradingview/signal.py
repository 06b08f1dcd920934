"""A TradingView alert body → a ``Signal``. Pure: no I/O.

TradingView posts the alert's message box as it is after filling its placeholders
(``{{ticker}}``, ``{{close}}``, ``{{strategy.order.action}}`` …): JSON when the box holds a
JSON object (it is then sent as ``application/json``), plain text otherwise. Both are read
here. A body we cannot read raises ``SignalError`` — the intake answers 400 with its message —
and so does a placeholder TradingView left unfilled (``"{{close}}"``): a number we would
otherwise have to guess.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from i18n import L_, Msg

MESSAGE_MAX = 300  # characters of the free message relayed
SIDES = {"long": "long", "buy": "long", "short": "short", "sell": "short",
         "flat": "flat", "close": "flat", "exit": "flat"}
# accepted keys (lower case) → the field they fill
KEYS = {"ticker": "ticker", "symbol": "ticker", "exchange": "exchange", "close": "close",
        "price": "close", "interval": "interval", "timeframe": "interval",
        "action": "action", "order_action": "action", "contracts": "contracts",
        "order_contracts": "contracts", "position_size": "position_size",
        "message": "message", "comment": "message", "text": "message", "side": "side",
        "size": "size", "qty": "size", "leverage": "leverage", "lev": "leverage",
        "entry": "entry", "sl": "sl", "stop": "sl", "stop_loss": "sl", "tp": "tp",
        "take_profit": "tp", "passphrase": "passphrase", "secret": "passphrase"}
POSITIVE = ("close", "contracts", "size", "leverage", "entry", "sl", "tp")
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")
_PAIR = re.compile(r"^([A-Za-z_]+)[=:](.+)$")
_TV_TICKER = re.compile(r"^([A-Z][A-Z0-9_]*):([A-Z0-9][A-Z0-9._-]*)$")
_PASS_TEXT = re.compile(r"(?i)\b(?:passphrase|secret)[=:]\S+")


class SignalError(ValueError):
    """A body the intake cannot read: ``str(e)`` says why, for the 400 answer and the log."""


class _Unfilled(Exception):
    """A placeholder TradingView left as it was (a strategy field in an indicator alert):
    a note on the relayed signal, in each reader's language."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"{name} was left {value[:40]!r} by TradingView: ignored")
        self.note = L_("{name} was left {value} by TradingView: ignored", name=name,
                       value=repr(value[:40]))


@dataclass(frozen=True)
class Signal:
    """One TradingView alert as read; ``None`` where the body did not say."""

    ticker: str = ""
    exchange: str = ""
    close: float | None = None
    interval: str = ""
    action: str = ""
    contracts: float | None = None
    position_size: float | None = None
    message: str = ""
    side: str = ""
    size: float | None = None
    leverage: float | None = None
    entry: float | None = None
    sl: float | None = None
    tp: float | None = None
    passphrase: str | None = field(default=None, repr=False)
    notes: tuple[Msg, ...] = ()  # fields left out, and why (unfilled placeholders)
    digest: str = ""  # SHA-256 of the body without its passphrase: a retry has the same
    kind: str = "text"  # "json" or "text"

    @property
    def implied_side(self) -> str | None:
        """long / short / flat as the alert implies it: the strategy's position after the
        order, else ``side``, else the order's action; None when it says nothing."""
        if self.position_size is not None:
            return "long" if self.position_size > 0 else "short" \
                if self.position_size < 0 else "flat"
        if self.side:
            return self.side
        return SIDES.get(self.action) if self.action else None

    @property
    def implied_size(self) -> float | None:
        """The position's size: ``size``, else the strategy's position, else the order's."""
        if self.size is not None:
            return self.size
        if self.position_size:
            return abs(self.position_size)
        return self.contracts

    @property
    def implied_entry(self) -> float | None:
        return self.entry if self.entry is not None else self.close


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise SignalError(f"{name} must be a number, not {value!r}")
    if isinstance(value, str):
        text = value.strip().lower().removesuffix("x") if name == "leverage" else value.strip()
        if _PLACEHOLDER.search(text):
            raise _Unfilled(name, value)
        try:
            if "_" in text:  # float() takes "1_000"; TradingView never sends it
                raise ValueError(text)
            value = float(text)
        except ValueError:
            raise SignalError(f"{name} must be a number, not {value[:40]!r}") from None
    if not isinstance(value, (int, float)):
        raise SignalError(f"{name} must be a number, not {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise SignalError(f"{name} must be a finite number, not {value!r}")
    if name in POSITIVE and x <= 0:
        raise SignalError(f"{name} must be above 0, not {value!r}")
    return x


def _text(name: str, value: Any, limit: int = 64) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value:g}"
    if not isinstance(value, str):
        raise SignalError(f"{name} must be text, not {type(value).__name__}")
    if name != "message" and _PLACEHOLDER.search(value):
        raise _Unfilled(name, value)
    return " ".join(value.split())[:limit] if name != "message" else value.strip()[:limit]


def _fields(pairs: dict[str, Any]) -> dict[str, Any]:
    """Known keys → typed fields; unknown keys are ignored (TradingView templates vary)."""
    out: dict[str, Any] = {}
    notes: list[Msg] = []
    for key, value in pairs.items():
        name = KEYS.get(str(key).strip().lower())
        if name is None or value is None or value == "":
            continue
        try:
            _field(out, name, value)
        except _Unfilled as e:
            notes.append(e.note)
    if "ticker" in out and ":" in out["ticker"] and not out.get("exchange"):
        out["exchange"], out["ticker"] = out["ticker"].split(":", 1)
    out["notes"] = tuple(notes)
    return out


def _field(out: dict[str, Any], name: str, value: Any) -> None:
    if name in ("close", "contracts", "position_size", "size", "leverage", "entry",
                "sl", "tp"):
        out[name] = _number(name, value)
    elif name in ("side", "action"):
        word = _text(name, value).lower()
        if word not in SIDES:
            raise SignalError(f"{name} must be buy, sell, long, short or flat, "
                              f"not {word!r}")
        out[name] = SIDES[word] if name == "side" else word
    elif name == "passphrase":
        out[name] = str(value)
    else:
        out[name] = _text(name, value, MESSAGE_MAX if name == "message" else 64)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_json(obj: Any) -> Signal:
    if not isinstance(obj, dict):
        raise SignalError("the JSON body must be an object, e.g. "
                          '{"ticker": "{{ticker}}", "action": "{{strategy.order.action}}"}')
    fields = _fields(obj)
    canonical = json.dumps({k: v for k, v in obj.items()
                            if KEYS.get(str(k).strip().lower()) != "passphrase"},
                           sort_keys=True, default=str)
    return Signal(**fields, digest=_digest(canonical), kind="json")


def parse_text(text: str) -> Signal:
    """``BINANCE:BTCUSDT.P buy size=0.5 @60000 10x sl=58000 RSI oversold passphrase=…``:
    ``key=value`` (or ``key:value``) pairs, an ``EXCHANGE:TICKER``, a side word, ``@entry``
    and ``10x`` are read; the text without its passphrase is the message."""
    pairs: dict[str, Any] = {}
    for word in text.split():
        token = word.strip(",;")
        pair = _PAIR.match(token)
        tv = _TV_TICKER.match(token)
        if pair and pair.group(1).lower() in KEYS:
            pairs.setdefault(pair.group(1).lower(), pair.group(2))
        elif tv and "ticker" not in pairs:
            pairs["exchange"], pairs["ticker"] = tv.group(1), tv.group(2)
        elif token.lower() in SIDES and "side" not in pairs:
            pairs["side"] = token.lower()
        elif token.startswith("@") and "entry" not in pairs and len(token) > 1:
            pairs["entry"] = token[1:]
        elif re.fullmatch(r"\d+(?:\.\d+)?x", token.lower()) and "leverage" not in pairs:
            pairs["leverage"] = token
    fields = _fields(pairs)
    clean = " ".join(_PASS_TEXT.sub("", text).split())
    fields["message"] = clean[:MESSAGE_MAX]
    return Signal(**fields, digest=_digest(clean), kind="text")


def parse_body(body: bytes, content_type: str = "") -> Signal:
    """Read a body as TradingView sends it; ``SignalError`` when it cannot be read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignalError("the body is not UTF-8 text") from None
    if not text.strip():
        raise SignalError("the body is empty: put the alert message (JSON or text) in it")
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or text.lstrip().startswith(("{", "[")):
        try:
            obj = json.loads(text)
        except ValueError as e:
            left = _PLACEHOLDER.search(text)
            hint = (f"TradingView left {left.group(0)} unfilled — quote placeholders, e.g. "
                    '"close": "{{close}}"') if left else \
                "check the alert message's quotes and commas"
            raise SignalError(f"the body looks like JSON but is not ({e}); {hint}") from None
        return parse_json(obj)
    return parse_text(text)
