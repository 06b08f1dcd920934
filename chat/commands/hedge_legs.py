"""/hedged: "I put this hedge on" — the legs a trade now holds, logged under it.

``/hedged 5 eth short 0.42`` (or ``/hedged 5 none``) says the trader's hedge for trade 5 is
now exactly these legs: legs not named are closed, a smaller leg is partly closed, a
bigger one gets a new leg for the difference, each at the current price. It is what the
"I put this on" buttons under ``/hedge 5`` and under rebalance alerts run, so pressing one
twice logs once: each leg carries a key made from the command, and a key already logged is
not logged again.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext
from chat.grammar import SIDE_WORDS, is_symbol, number, parse_trade_id, side_word
from i18n import N_, _
from storage import trades as store

Leg = tuple[str, str, float]


@dataclass(frozen=True)
class HedgedRequest:
    trade_id: int
    legs: tuple[Leg, ...]  # (symbol as written, side, size in base units)
    key: str  # the same command → the same key: logs once


def command_key(trade_id: int, legs: tuple[Leg, ...]) -> str:
    text = f"{trade_id}|" + "|".join(f"{s.lower()}:{side}:{size:.10g}" for s, side, size in legs)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class Hedged(Command):
    name = "hedged"
    summary = N_("log the hedge you put on for a trade (what the \"I put this on\" button "
                 "does)")
    usage = N_("/hedged <trade id> <symbol> <long|short> <size> [<symbol> <side> <size> …] | "
               "none")
    examples = ("/hedged 1 eth short 0.42", "/hedged 1 eth short 0.4 sol short 12",
                "/hedged 1 none")
    private_only = True

    def parse(self, args: list[str]) -> HedgedRequest:
        if len(args) < 2:
            raise ArgumentError(_("/hedged needs a trade id and its legs, e.g. {example}"
                                  ).format(example=self.example))
        trade_id = parse_trade_id(args[0], self.example)
        words = args[1:]
        if [w.lower() for w in words] == ["none"]:
            return HedgedRequest(trade_id, (), command_key(trade_id, ()))
        if len(words) % 3:
            raise ArgumentError(_("Each leg is a symbol, a side and a size, e.g. {example}"
                                  ).format(example=self.example))
        legs = []
        for i in range(0, len(words), 3):
            sym, side, size = words[i:i + 3]
            if not is_symbol(sym):
                raise ArgumentError(_("'{symbol}' is not a symbol, e.g. {example}").format(
                    symbol=sym[:32], example=self.example))
            if side.lower() not in SIDE_WORDS:
                raise ArgumentError(_("'{side}' is not long or short, e.g. {example}").format(
                    side=side[:32], example=self.example))
            legs.append((sym, SIDE_WORDS[side.lower()],
                         number(size, N_("a size"), self.example)))
        if len({leg[0].lower() for leg in legs}) < len(legs):
            raise ArgumentError(_("Name each symbol once, e.g. {example}").format(
                example=self.examples[1]))
        return HedgedRequest(trade_id, tuple(legs), command_key(trade_id, tuple(legs)))

    async def answer(self, request: HedgedRequest, ctx: CommandContext) -> Reply:
        s = ctx.services
        main = store.get_trade(s.db, ctx.user_id, request.trade_id)
        if main is None or not main.is_open or main.is_leg:
            raise ArgumentError(_("There is no open trade #{id} of yours — see /positions."
                                  ).format(id=request.trade_id))
        wanted = [(await s.resolve(sym, self.example), side, size)
                  for sym, side, size in request.legs]
        held = store.legs_of(s.db, ctx.user_id, main.id)
        if _same(held, wanted):
            return Reply(data={"trade_id": main.id, "changed": [], "legs": [
                t.to_dict() for t in held]}, text=[_("Already logged: #{id} holds {legs}."
                                                      ).format(id=main.id,
                                                               legs=_legs_text(held))])
        symbols = sorted({leg[0] for leg in wanted} | {t.symbol for t in held})
        snap = await s.snapshot(symbols)
        prices = {sym: snap.last_price(sym) for sym in symbols if sym in snap.symbols}
        missing = [sym for sym in symbols if not math.isfinite(prices.get(sym, math.nan))]
        if missing:
            raise ArgumentError(_("No current price for {symbols}; try again soon.").format(
                symbols=", ".join(missing)))
        now, changed = s.now_ms(), []
        rate = s.config.risk.taker_fee
        for sym, side, size in wanted:
            mine = [t for t in held if t.symbol == sym]
            have = sum(t.size for t in mine if t.side == side)
            for t in mine:
                if t.side != side:
                    store.close_trade(s.db, ctx.user_id, t.id, prices[sym], now)
                    changed.append(_closed(t, sym))
            if _close(size, have):
                continue
            if size > have:
                leg = store.open_trade(
                    s.db, user_id=ctx.user_id, chat_id=ctx.chat_id, symbol=sym, side=side,
                    size=size - have, entry=prices[sym], leverage=main.leverage,
                    opened_at=now, fee_rate=rate, exchange=main.exchange, parent_id=main.id,
                    client_key=f"{request.key}:{sym}")
                changed.append(_("opened #{id} {side} {size:.6g} {symbol}").format(
                    id=leg.id, side=side_word(side), size=leg.size, symbol=sym))
            else:
                cut = have - size
                for t in sorted((t for t in mine if t.side == side), key=lambda t: -t.id):
                    if cut <= 0:
                        break
                    if t.size <= cut:
                        store.close_trade(s.db, ctx.user_id, t.id, prices[sym], now)
                        changed.append(_("closed #{id} {size:g} {symbol}").format(
                            id=t.id, size=t.size, symbol=sym))
                        cut -= t.size
                    else:
                        store.reduce_trade(s.db, ctx.user_id, t.id, t.size - cut, prices[sym],
                                           now)
                        changed.append(_("cut #{id} to {size:.6g} {symbol}").format(
                            id=t.id, size=t.size - cut, symbol=sym))
                        cut = 0
        for t in held:
            if t.symbol not in {leg[0] for leg in wanted}:
                store.close_trade(s.db, ctx.user_id, t.id, prices[t.symbol], now)
                changed.append(_closed(t, t.symbol))
        after = store.legs_of(s.db, ctx.user_id, main.id)
        return Reply(data={"trade_id": main.id, "changed": changed,
                           "legs": [t.to_dict() for t in after]},
                     text=[_("Logged the hedge of #{id}: {legs}.").format(
                               id=main.id, legs=_legs_text(after)),
                           *(f"  {c}" for c in changed),
                           _("Fees at the taker rate; prices are the current ones.")])


def _closed(t: store.Trade, symbol: str) -> str:
    return _("closed #{id} {side} {size:g} {symbol}").format(
        id=t.id, side=side_word(t.side), size=t.size, symbol=symbol)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _same(held: list[store.Trade], wanted: list[Leg]) -> bool:
    """Whether the legs held are already exactly the ones wanted (per symbol and side)."""
    def totals(legs: list[Leg]) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for sym, side, size in legs:
            out[(sym, side)] = out.get((sym, side), 0.0) + size
        return out

    h, w = totals([(t.symbol, t.side, t.size) for t in held]), totals(wanted)
    return h.keys() == w.keys() and all(_close(h[k], w[k]) for k in h)


def _legs_text(legs: list[store.Trade]) -> str:
    return ", ".join(f"#{t.id} {side_word(t.side)} {t.size:.6g} {t.symbol.split('-')[0]}"
                     for t in legs) or _("no hedge")
