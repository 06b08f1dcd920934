"""The trade log: /open, /close, /positions, /log (its views, /pnl and the rest, are in
``chat.commands.pnl`` and ``chat.commands.trade_views``). Private chats only, per user.

A user only ever sees and closes their own trades: another user's id answers exactly like an id
that does not exist ("no open trade #N of yours").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext
from chat.grammar import PositionArgs, parse_count, parse_position, parse_price, parse_trade_id
from storage import trades as store
from storage.trades import Trade


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+,.2f}"


def trade_line(t: Trade, mark: float | None = None) -> str:
    head = f"#{t.id} {t.symbol} {t.side} {t.size:g} @ {t.entry:g} {t.leverage:g}x"
    if not t.is_open:
        return f"{head} → closed @ {t.exit_price:g}, realised {_money(t.realised_pnl)} USDT"
    tail = "" if mark is None else f", mark {mark:g}, unrealised {_money(t.unrealised_pnl(mark))}"
    return head + " (open" + tail + ")" + (f" — {t.note}" if t.note else "")


class _TradeCommand(Command):
    private_only = True

    async def marks(self, ctx: CommandContext, trades: list[Trade]) -> dict[str, float]:
        """Current marks of the trades' symbols (missing when the market has none)."""
        symbols = sorted({t.symbol for t in trades if t.is_open})
        if not symbols:
            return {}
        snap = await ctx.services.snapshot(symbols)
        out = {}
        for s in symbols:
            if s in snap.symbols:
                px = snap.last_price(s)
                if math.isfinite(px):
                    out[s] = px
        return out


class Open(_TradeCommand):
    name = "open"
    summary = "log a trade you opened (the bot never places orders)"
    usage = "/open <symbol> <long|short> <size> @<entry> [10x] [note]"
    examples = ("/open btc long 0.5 @60000 10x", "/open eth short 5ct @3000 20x swing trade")

    def parse(self, args: list[str]) -> PositionArgs:
        a = parse_position(args, self.example, keep_rest=True)
        if a.hedges:
            raise ArgumentError(f"/open logs one position; no 'with', e.g. {self.example}")
        if a.size is None or a.entry is None:
            missing = "a size" if a.size is None else "an entry price (@60000)"
            raise ArgumentError(f"/open needs {missing}, e.g. {self.example}")
        return a

    async def answer(self, request: PositionArgs, ctx: CommandContext) -> Reply:
        s = ctx.services
        symbol = await s.resolve(request.symbol, self.example)
        inst = (await s.instruments())[symbol]
        entry = float(request.entry)  # type: ignore[arg-type]
        size = request.size.base_units(inst.contract_value, entry)  # type: ignore[union-attr]
        if not (math.isfinite(size) and size > 0):
            raise ArgumentError(f"That size is too small to log, e.g. {self.example}")
        lev = request.leverage or s.config.risk.leverage
        note = " ".join(request.rest)[:200] or None
        t = store.open_trade(s.db, user_id=ctx.user_id, chat_id=ctx.chat_id, symbol=symbol,
                             side=request.side, size=size, entry=entry, leverage=lev,
                             opened_at=s.now_ms(), fee_rate=s.config.risk.taker_fee,
                             exchange=s.config.exchange.name, note=note,
                             chat_type=ctx.chat_type)
        return Reply(data={"trade": t.to_dict()},
                     text=[f"Logged {trade_line(t)}.", f"Check it with /risk or close it with "
                           f"/close {t.id} @<price>."])


@dataclass(frozen=True)
class CloseRequest:
    trade_id: int
    exit_price: float


class Close(_TradeCommand):
    name = "close"
    summary = "close one of your logged trades at a price"
    usage = "/close <id> @<exit>"
    examples = ("/close 3 @61000",)

    def parse(self, args: list[str]) -> CloseRequest:
        if len(args) != 2:
            raise ArgumentError(f"/close needs a trade id and an exit price, e.g. {self.example}")
        return CloseRequest(parse_trade_id(args[0], self.example),
                            parse_price(args[1], self.example))

    async def answer(self, request: CloseRequest, ctx: CommandContext) -> Reply:
        s = ctx.services
        t = store.close_trade(s.db, ctx.user_id, request.trade_id, request.exit_price,
                              s.now_ms(), s.config.risk.taker_fee)
        if t is None:
            raise ArgumentError(f"There is no open trade #{request.trade_id} of yours — "
                                "see /positions.")
        return Reply(data={"trade": t.to_dict()},
                     text=[f"Closed {trade_line(t)} (fees {t.fees:,.2f})."])


class Positions(_TradeCommand):
    name = "positions"
    summary = "your open logged trades with the current mark"
    usage = "/positions"
    examples = ("/positions",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        trades = store.list_trades(ctx.services.db, ctx.user_id, open_only=True)
        if not trades:
            return Reply(data={"positions": []}, text=[
                "No open trades. Log one with /open btc long 0.5 @60000 10x."])
        marks = await self.marks(ctx, trades)
        data = [{**t.to_dict(), "mark": marks.get(t.symbol),
                 "unrealised_pnl": t.unrealised_pnl(marks[t.symbol]) if t.symbol in marks
                 else None} for t in trades]
        return Reply(data={"positions": data},
                     text=[trade_line(t, marks.get(t.symbol)) for t in trades])


class Log(_TradeCommand):
    name = "log"
    summary = "your latest trades, open and closed"
    usage = "/log [n]"
    examples = ("/log", "/log 20")

    def parse(self, args: list[str]) -> int:
        if len(args) > 1:
            raise ArgumentError(f"/log takes one number at most, e.g. {self.examples[1]}")
        return parse_count(args[0], self.examples[1]) if args else 10

    async def answer(self, request: int, ctx: CommandContext) -> Reply:
        trades = store.list_trades(ctx.services.db, ctx.user_id, limit=request)
        if not trades:
            return Reply(data={"trades": []}, text=["Your trade log is empty."])
        return Reply(data={"trades": [t.to_dict() for t in trades]},
                     text=[trade_line(t) for t in trades])

