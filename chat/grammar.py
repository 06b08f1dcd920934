"""The argument grammar every front end shares (chat, console, CLI). Pure: no I/O.

Position arguments are recognised by their form, in any order after the symbol:

=========  ======================================  ==============================
what       forms                                    default
=========  ======================================  ==============================
side       ``long`` / ``short`` (``buy``/``sell``)  long
size       ``0.5`` base units, ``5ct`` contracts,   required where the command says
           ``5000usdt`` or ``$5000`` notional
entry      ``@60000``                               the current mark
leverage   ``10x``                                  ``[risk] leverage``
hedges     ``with ETH SOL``                         none
=========  ======================================  ==============================

A wrong argument raises ``ArgumentError`` with one short message naming what was wrong and a
correct example, in the reader's language (``i18n._`` at the time of the error); never a
traceback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from i18n import N_, _

MAX_LEVERAGE = 200.0
SIDE_WORDS = {"long": "long", "short": "short", "buy": "long", "sell": "short"}
SIDE_LABELS = {"long": N_("long"), "short": N_("short")}  # a side as a reader reads it
_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
_SIZE = re.compile(rf"^(\$)?({_NUM})(ct|c|contracts?|usdt|usd|\$)?$", re.IGNORECASE)
_ENTRY = re.compile(rf"^@({_NUM})$", re.IGNORECASE)
_LEVERAGE = re.compile(rf"^({_NUM})x$", re.IGNORECASE)
_SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-/:_][A-Za-z0-9]+)*$")


class ArgumentError(ValueError):
    """A bad argument: ``str(e)`` is the one short message shown to the user."""


@dataclass(frozen=True)
class Size:
    """A position size as written: ``unit`` is ``base``, ``contracts`` or ``usdt``."""

    value: float
    unit: str = "base"
    text: str = field(default="", compare=False)  # as typed, for messages

    def base_units(self, contract_value: float, price: float) -> float:
        """The size in base units, given the contract value and the price for notionals."""
        if self.unit == "contracts":
            return self.value * contract_value
        if self.unit == "usdt":
            return self.value / price
        return self.value

    def __str__(self) -> str:
        if self.text:
            return self.text
        suffix = {"base": "", "contracts": "ct", "usdt": " USDT"}[self.unit]
        return f"{self.value:g}{suffix}"


@dataclass(frozen=True)
class PositionArgs:
    """A position as the user wrote it; ``None`` where a default applies."""

    symbol: str
    side: str = "long"
    size: Size | None = None
    entry: float | None = None
    leverage: float | None = None
    hedges: tuple[str, ...] = ()
    rest: tuple[str, ...] = ()
    entry_text: str | None = field(default=None, compare=False)  # as typed: "@60000"
    leverage_text: str | None = field(default=None, compare=False)  # "10x"


def number(text: str, what: str, example: str) -> float:
    """A finite, positive number or ``ArgumentError``. ``what`` names the value, marked
    with ``N_`` by the caller ("a size"): it is translated here."""
    try:
        value = float(text)
    except ValueError:
        raise ArgumentError(_("I didn't understand '{text}' — {what} is a number, "
                              "e.g. {example}").format(text=text, what=_(what),
                                                       example=example)) from None
    if not math.isfinite(value) or value <= 0:
        raise ArgumentError(_("'{text}' is not a positive number — {what} must be above "
                              "zero, e.g. {example}").format(text=text, what=_(what),
                                                             example=example))
    return value


def parse_size(token: str, example: str) -> Size | None:
    """A size token (``0.5``, ``5ct``, ``5000usdt``, ``$5000``) or None if it is not one."""
    m = _SIZE.match(token)
    if not m:
        return None
    dollar, value, unit = m.group(1), m.group(2), (m.group(3) or "").lower()
    kind = "usdt" if dollar or unit in ("usdt", "usd", "$") else (
        "contracts" if unit else "base")
    if dollar and unit and unit not in ("usdt", "usd"):
        return None
    return Size(number(value, N_("a size"), example), kind, token)


def parse_leverage(token: str, example: str) -> float | None:
    m = _LEVERAGE.match(token)
    if not m:
        return None
    lev = number(m.group(1), N_("leverage"), example)
    if lev > MAX_LEVERAGE:
        raise ArgumentError(_("leverage {token} is too high — at most {most:g}x, "
                              "e.g. {example}").format(token=token, most=MAX_LEVERAGE,
                                                       example=example))
    return lev


def _hint(token: str, example: str) -> str:
    """The one-line explanation for a token that matches no form."""
    low = token.lower()
    if low.startswith("@"):
        hint = _("I didn't understand '{token}' — an entry price is @ followed by a number, "
                 "e.g. {example}")
    elif re.match(r"^[\d.]+x", low):
        hint = _("I didn't understand '{token}' — leverage is a number followed by x, "
                 "e.g. {example}")
    elif low[:1].isdigit() or low.startswith(("$", ".")):
        hint = _("I didn't understand '{token}' — a size is a number, optionally with ct "
                 "(contracts) or usdt, e.g. {example}")
    else:
        hint = _("I didn't understand '{token}' — I expected long/short, a size (0.5, 5ct, "
                 "5000usdt), an entry (@60000) or a leverage (10x), e.g. {example}")
    return hint.format(token=token, example=example)


def side_word(side: str) -> str:
    """``long``/``short`` in the reader's language (another value as it is)."""
    return _(SIDE_LABELS[side]) if side in SIDE_LABELS else side


def is_symbol(token: str) -> bool:
    """Whether ``token`` could be a symbol spelling (resolution is the market's job)."""
    return bool(_SYMBOL.match(token)) and token.lower() not in SIDE_WORDS \
        and token.lower() != "with" and not _LEVERAGE.match(token)


def parse_position(args: Sequence[str], example: str, *, keep_rest: bool = False) -> PositionArgs:
    """Parse ``<symbol> [side] [size] [@entry] [lev] [with <symbols>]`` (any order after it).

    With ``keep_rest``, once a size and an entry have been read, a word that matches no form
    starts ``rest`` (a trade note) instead of being an error.
    """
    if not args:
        raise ArgumentError(_("Which market? Give a symbol first, e.g. {example}"
                              ).format(example=example))
    symbol = args[0]
    if not is_symbol(symbol):
        raise ArgumentError(_("'{symbol}' is not a symbol — start with one, e.g. {example}"
                              ).format(symbol=symbol, example=example))
    found: dict[str, object] = {}
    hedges: list[str] = []
    rest: list[str] = []
    tokens = list(args[1:])
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.lower()
        if low == "with":
            hedges = list(tokens[i + 1:])
            if not hedges:
                raise ArgumentError(_("'with' needs hedge symbols after it, e.g. {example} "
                                      "with ETH SOL").format(example=example))
            for h in hedges:
                if not is_symbol(h):
                    raise ArgumentError(_("'{symbol}' is not a symbol — after 'with' list "
                                          "hedge symbols, e.g. {example} with ETH SOL"
                                          ).format(symbol=h, example=example))
            break
        kind, value = _classify(tok, example)
        if kind is None:
            if keep_rest and "size" in found and "entry" in found and tok[:1].isalpha():
                rest = tokens[i:]
                break
            raise ArgumentError(_hint(tok, example))
        if kind in found:
            raise ArgumentError(_(_TWO[kind]).format(first=found[kind + "_text"], second=tok,
                                                     example=example))
        found[kind] = value
        found[kind + "_text"] = tok
        i += 1
    return PositionArgs(
        symbol=symbol,
        side=str(found.get("side", "long")),
        size=found.get("size"),  # type: ignore[arg-type]
        entry=found.get("entry"),  # type: ignore[arg-type]
        leverage=found.get("leverage"),  # type: ignore[arg-type]
        hedges=tuple(hedges),
        rest=tuple(rest),
        entry_text=found.get("entry_text"),  # type: ignore[arg-type]
        leverage_text=found.get("leverage_text"),  # type: ignore[arg-type]
    )


_TWO = {  # whole sentences: "Two sizes" is not "two" + "size" + "s" in every language
    "side": N_("Two sides ('{first}' and '{second}') — give one, e.g. {example}"),
    "size": N_("Two sizes ('{first}' and '{second}') — give one, e.g. {example}"),
    "entry": N_("Two entry prices ('{first}' and '{second}') — give one, e.g. {example}"),
    "leverage": N_("Two leverages ('{first}' and '{second}') — give one, e.g. {example}"),
}


def _classify(tok: str, example: str) -> tuple[str | None, object]:
    low = tok.lower()
    if low in SIDE_WORDS:
        return "side", SIDE_WORDS[low]
    m = _ENTRY.match(tok)
    if m:
        return "entry", number(m.group(1), N_("an entry price"), example)
    lev = parse_leverage(tok, example)
    if lev is not None:
        return "leverage", lev
    size = parse_size(tok, example)
    if size is not None:
        return "size", size
    return None, None


def parse_price(token: str, example: str) -> float:
    """``@60000`` or ``60000`` as a positive price."""
    m = _ENTRY.match(token)
    if m:
        return number(m.group(1), N_("a price"), example)
    if token.startswith("@"):
        raise ArgumentError(_("I didn't understand '{token}' — a price is @ followed by a "
                              "number, e.g. {example}").format(token=token, example=example))
    return number(token, N_("a price"), example)


def parse_count(token: str, example: str, *, maximum: int = 1000) -> int:
    """A whole number from 1 to ``maximum``."""
    if not token.isdecimal() or not 1 <= int(token) <= maximum:
        raise ArgumentError(_("I didn't understand '{token}' — give a whole number from 1 "
                              "to {maximum}, e.g. {example}").format(token=token,
                                                                    maximum=maximum,
                                                                    example=example))
    return int(token)


def parse_trade_id(token: str, example: str) -> int:
    """``12`` or ``#12``."""
    t = token.removeprefix("#")
    if not t.isdecimal() or len(t) > 12 or int(t) < 1:
        raise ArgumentError(_("I didn't understand '{token}' — a trade id is a number like "
                              "#12, e.g. {example}").format(token=token, example=example))
    return int(t)
