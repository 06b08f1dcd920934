"""From parsed position arguments to the ``Position`` the engine computes on: shared by
/hedge and /risk so both read "btc 0.5 10x" the same way."""

from __future__ import annotations

import math

from chat.commands.base import ArgumentError, Reply
from chat.commands.domains import check_position
from chat.context import Services
from chat.grammar import PositionArgs
from core.types import MarketSnapshot, Position
from i18n import _


def build_position(s: Services, snap: MarketSnapshot, symbol: str, a: PositionArgs,
                   example: str) -> Position | Reply:
    """The position at the snapshot's mark: entry defaults to the mark, size to one contract
    (tier 1), leverage to ``[risk] leverage``. With no usable price there is nothing to
    compute on: the Reply says so, with the exchange's reason when it gave one. Values the
    exchange would not take are refused (``chat.commands.domains``)."""
    mark = snap.last_price(symbol)
    if not (mark > 0 and math.isfinite(mark)):
        why = snap.missing.get(symbol)
        return Reply(data={"symbol": symbol, "warnings": [f"no price: {why or 'no recent price'}"]},
                     text=[_("No price for {symbol} right now ({why}).").format(
                         symbol=symbol, why=why or _("no recent price"))])
    inst = s.instrument(snap, symbol)  # with the tiers load_tiers fetched, when it did
    entry = a.entry or mark
    size = a.size.base_units(inst.contract_value, entry) if a.size else inst.contract_value
    leverage = a.leverage or s.config.risk.leverage
    check_position(inst, size=size, size_text=str(a.size) if a.size else None, entry=entry,
                   entry_text=a.entry_text, leverage=leverage,
                   leverage_text=a.leverage_text or _("{leverage:g}x ([risk] leverage)").format(
                       leverage=leverage),
                   mark=mark, example=example)
    try:
        return Position(symbol, a.side, size, entry, leverage)
    except ValueError as e:
        raise ArgumentError(_("That position doesn't work ({error}), e.g. {example}").format(
            error=e, example=example)) from None
