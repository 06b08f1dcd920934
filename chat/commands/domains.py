"""What numbers a trader may type: a size, price and leverage the exchange could have filled.

The grammar only knows a number is finite and positive; here it is held against the
instrument: at least the smallest order, at most the largest position its tiers allow (or
``MAX_NOTIONAL`` where they are open-ended), a leverage within the tier the size falls in, and
a price within ``PRICE_RATIO`` of the mark (or of the trade's entry). Inside these bounds every
sum the engine and the trade log make stays finite, so no answer reads "short inf" and no
``inf`` fee is stored. One message per refusal, naming the value as typed and an example, in
the reader's language.
"""

from __future__ import annotations

import math

from chat.grammar import ArgumentError
from core.liquidation import choose_tier
from core.types import Instrument
from i18n import _

MAX_NOTIONAL = 1e10  # USDT: larger than any single position on any venue
MIN_NOTIONAL = 0.01  # USDT: the floor where the exchange gives no minimum order
PRICE_RATIO = 1000.0  # a price this far from the reference is a typo, not a trade


def amount(x: float) -> str:
    """A quantity for a message: grouped when large, four significant digits when small."""
    return f"{x:,.0f}" if x >= 1000 else f"{x:,.4g}"


def size_bounds(inst: Instrument, price: float) -> tuple[float, float]:
    """(smallest, largest) position in base units at ``price``."""
    least = inst.min_size or MIN_NOTIONAL / price
    most = MAX_NOTIONAL / price
    caps = [t.max_size for t in inst.tiers if math.isfinite(t.max_size)]
    if caps and len(caps) == len(inst.tiers):  # a closed ladder: its top is the largest
        top = max(caps)
        unit = inst.tiers[0].unit
        most = min(most, top * inst.contract_value if unit == "contracts" else top / price)
    return least, most


def check_size(inst: Instrument, size: float, price: float, text: str, example: str) -> None:
    """Refuse a size (base units at ``price``) the exchange would not take."""
    least, most = size_bounds(inst, price)
    if not (math.isfinite(size) and size <= most):
        raise ArgumentError(_(
            "size {size} is larger than {symbol} allows (at most {most} {base} ≈ {notional} "
            "USDT); example: {example}").format(size=text, symbol=inst.symbol,
                                                most=amount(most), base=inst.base,
                                                notional=amount(most * price), example=example))
    if size < least * (1 - 1e-9):
        raise ArgumentError(_(
            "size {size} is smaller than the smallest {symbol} order ({least} {base}); "
            "example: {example}").format(size=text, symbol=inst.symbol, least=amount(least),
                                         base=inst.base, example=example))


def check_leverage(inst: Instrument, size: float, price: float, leverage: float, text: str,
                   example: str) -> None:
    """Refuse a leverage above what the tier of this size allows."""
    tier = choose_tier(inst, size, price)
    cap = min(inst.max_leverage, tier.max_leverage) if tier else inst.max_leverage
    if leverage > cap * (1 + 1e-9):
        if tier and len(inst.tiers) > 1:
            raise ArgumentError(_(
                "leverage {leverage} is more than {symbol} allows at this size (tier {tier}): "
                "at most {cap:g}x; example: {example}").format(
                leverage=text, symbol=inst.symbol, tier=tier.tier, cap=cap, example=example))
        raise ArgumentError(_("leverage {leverage} is more than {symbol} allows: at most "
                              "{cap:g}x; example: {example}").format(
            leverage=text, symbol=inst.symbol, cap=cap, example=example))


def check_price(price: float, reference: float, label: str, what: str, example: str) -> None:
    """Refuse a price more than ``PRICE_RATIO`` times above or below ``reference``. ``label``
    is the price as typed ("entry @1e200"), ``what`` the reference ("BTC-USDT-SWAP's mark"):
    both already in the reader's language (``_("entry {text}")``)."""
    if not (reference > 0 and math.isfinite(reference)):
        return
    ratio = price / reference
    if not (1 / PRICE_RATIO <= ratio <= PRICE_RATIO):
        text = _("{label} is more than {ratio:g}× above {what} ({reference:,.6g}); example: "
                 "{example}") if ratio > 1 else \
            _("{label} is more than {ratio:g}× below {what} ({reference:,.6g}); example: "
              "{example}")
        raise ArgumentError(text.format(label=label, ratio=PRICE_RATIO, what=what,
                                        reference=reference, example=example))


def check_position(inst: Instrument, *, size: float, size_text: str | None, entry: float,
                   entry_text: str | None, leverage: float, leverage_text: str,
                   mark: float | None, example: str) -> None:
    """All three checks for a position as typed; ``None`` texts are defaults (unchecked)."""
    if entry_text is not None and mark is not None:
        check_price(entry, mark, _("entry {text}").format(text=entry_text),
                    _("{symbol}'s mark").format(symbol=inst.symbol), example)
    if size_text is not None:
        check_size(inst, size, entry, size_text, example)
    check_leverage(inst, size, entry, leverage, leverage_text, example)
