"""The trade log: /open, /close, /positions, /log (its views, /pnl and the rest, are in
``chat.commands.pnl`` and ``chat.commands.trade_views``). Private chats only, per user.

A user only ever sees and closes their own trades: another user's id answers exactly like an id
that does not exist ("no open trade #N of yours"). A trade can have hedge legs:
``/open eth short 2 @3000 10x hedge 5`` logs a leg of trade 5 (or ``/hedged``, the "I put
this on" button); ``/positions`` shows each trade with its legs under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.domains import check_position, check_price
from chat.commands.market_view import finite_marks, side_word
from chat.context import CommandContext
from chat.first_screens import capped
from chat.grammar import PositionArgs, parse_count, parse_position, parse_price, parse_trade_id
from i18n import N_, _
from plugins.exchanges.errors import MarketError
from storage import trades as store
from storage.trades import Trade


def _money(x: float | None) -> str:
    return _("n/a") if x is None else f"{round(x, 2) + 0.0:+,.2f}"  # never "-0.00"


# how a closed row ended, ``{trade}`` the row's head
CLOSED_HOW = {store.LIQUIDATED: N_("{trade} → liquidated @ {exit:g}, realised {pnl} USDT"),
              store.ADL: N_("{trade} → closed by ADL @ {exit:g}, realised {pnl} USDT")}
CLOSED = N_("{trade} → closed @ {exit:g}, realised {pnl} USDT")


def trade_head(t: Trade) -> str:
    """``#3 BTC-USDT-SWAP long 0.5 @ 60000 10x cross [okx, synced] (hedge of #1)``."""
    v = {"id": t.id, "symbol": t.symbol, "side": side_word(t.side), "size": t.size,
         "entry": t.entry, "leverage": t.leverage}
    head = (_("#{id} {symbol} {side} {size:g} @ {entry:g} {leverage:g}x cross").format(**v)
            if t.margin_mode == store.CROSS else
            _("#{id} {symbol} {side} {size:g} @ {entry:g} {leverage:g}x").format(**v))
    if t.synced:
        head = (_("{trade} [{exchange}, synced]") if t.account_id is not None else
                _("{trade} [{exchange}, no longer synced]")).format(trade=head,
                                                                     exchange=t.exchange)
    if t.parent_id is not None:
        head = _("{trade} (hedge of #{parent})").format(trade=head, parent=t.parent_id)
    return head


def trade_line(t: Trade, mark: float | None = None) -> str:
    head = trade_head(t)
    if not t.is_open:
        return _(CLOSED_HOW.get(t.close_reason or "", CLOSED)).format(
            trade=head, exit=t.exit_price, pnl=_money(t.realised_pnl))
    line = (_("{trade} (open)").format(trade=head) if mark is None else
            _("{trade} (open, mark {mark:g}, unrealised {pnl})").format(
                trade=head, mark=mark, pnl=_money(t.unrealised_pnl(mark))))
    return _("{trade} — {note}").format(trade=line, note=t.note) if t.note else line


class _TradeCommand(Command):
    private_only = True

    async def marks(self, ctx: CommandContext, trades: list[Trade]) -> dict[str, float]:
        """Current marks of the trades' symbols (missing when the market has none)."""
        symbols = sorted({t.symbol for t in trades if t.is_open})
        if not symbols:
            return {}
        return finite_marks(await ctx.services.snapshot(symbols), symbols)

    async def mark(self, ctx: CommandContext, symbol: str) -> float | None:
        """The current mark of ``symbol``, None when the market can't say right now (a trade
        can still be logged; its numbers are then checked against the exchange's limits only)."""
        try:
            return (await self.marks(ctx, [_probe(symbol)])).get(symbol)
        except MarketError:
            return None


def _probe(symbol: str) -> Trade:
    """A stand-in open trade, so ``marks`` prices one symbol."""
    return Trade(0, 0, None, None, symbol, "long", 1.0, 1.0, 1.0, 0)


@dataclass(frozen=True)
class OpenRequest:
    position: PositionArgs
    parent_id: int | None = None  # ``hedge 5``: a leg of trade 5
    margin_mode: str = store.ISOLATED


def take_options(args: list[str], example: str) -> tuple[list[str], int | None, str]:
    """``hedge <id>`` and ``cross``/``isolated`` taken out of /open's words (anywhere)."""
    out, parent, mode = [], None, store.ISOLATED
    i = 0
    while i < len(args):
        low = args[i].lower()
        if low == "hedge" and i + 1 < len(args):
            parent = parse_trade_id(args[i + 1], example)
            i += 2
            continue
        if low in (store.CROSS, store.ISOLATED):
            mode = low
        else:
            out.append(args[i])
        i += 1
    return out, parent, mode


class Open(_TradeCommand):
    name = "open"
    summary = N_("log a trade you opened (the bot never places orders)")
    usage = N_("/open <symbol> <long|short> <size> @<entry> [10x] [cross] [hedge <trade id>] "
               "[note]")
    examples = ("/open btc long 0.5 @60000 10x", "/open eth short 5ct @3000 20x swing trade",
                "/open eth short 2 @3000 10x hedge 1")

    def parse(self, args: list[str]) -> OpenRequest:
        words, parent, mode = take_options(args, self.examples[2])
        a = parse_position(words, self.example, keep_rest=True)
        if a.hedges:
            raise ArgumentError(_("/open logs one position; no 'with', e.g. {example}").format(
                example=self.example))
        if a.size is None or a.entry is None:
            raise ArgumentError((_("/open needs a size, e.g. {example}") if a.size is None else
                                 _("/open needs an entry price (@60000), e.g. {example}"))
                                .format(example=self.example))
        return OpenRequest(a, parent, mode)

    async def answer(self, request: OpenRequest, ctx: CommandContext) -> Reply:
        s, a = ctx.services, request.position
        symbol = await s.resolve(a.symbol, self.example)
        inst = (await s.instruments())[symbol]
        entry = float(a.entry)  # type: ignore[arg-type]
        size = a.size.base_units(inst.contract_value, entry)  # type: ignore[union-attr]
        lev = a.leverage or s.config.risk.leverage
        check_position(inst, size=size, size_text=str(a.size), entry=entry,
                       entry_text=a.entry_text, leverage=lev,
                       leverage_text=a.leverage_text or _("{leverage:g}x ([risk] leverage)")
                       .format(leverage=lev),
                       mark=await self.mark(ctx, symbol), example=self.example)
        note = " ".join(a.rest)[:200] or None
        try:
            t = store.open_trade(s.db, user_id=ctx.user_id, chat_id=ctx.chat_id, symbol=symbol,
                                 side=a.side, size=size, entry=entry, leverage=lev,
                                 opened_at=s.now_ms(), fee_rate=inst.taker_fee,
                                 exchange=s.config.exchange.name, note=note,
                                 chat_type=ctx.chat_type, parent_id=request.parent_id,
                                 margin_mode=request.margin_mode)
        except ValueError as e:
            raise ArgumentError(_("{error} — see /positions.").format(
                error=f"{str(e)[:1].upper()}{str(e)[1:]}")) from None
        logged = _("Logged {trade}.").format(trade=trade_line(t))
        if t.is_leg:
            return Reply(data={"trade": t.to_dict()},
                         text=[logged, _("/positions shows it under #{parent}; /risk {parent} "
                                         "and the alerts now count it as held.").format(
                             parent=t.parent_id)])
        assumed = s.market.assumptions([symbol])
        return Reply(data={"trade": t.to_dict(), "warnings": assumed},
                     text=[logged, *(f"⚠ {w}" for w in assumed),
                           _("Check it with /risk, hedge it with /hedge {id}, close it with "
                             "/close {id}.").format(id=t.id)],
                     buttons=[[(_("Hedge it"), f"/hedge {t.id}"),
                               (_("Risk"), f"/risk {t.id}")]])


@dataclass(frozen=True)
class CloseRequest:
    trade_id: int
    exit_price: float | None  # None: at the current price
    text: str = ""  # the price as typed


class Close(_TradeCommand):
    name = "close"
    summary = N_("close one of your logged trades (at a price, or the current one)")
    usage = N_("/close <id> [@<exit>]")
    examples = ("/close 3 @61000", "/close 2")

    def parse(self, args: list[str]) -> CloseRequest:
        if len(args) not in (1, 2):
            raise ArgumentError(_("/close needs a trade id and maybe an exit price, "
                                  "e.g. {example}").format(example=self.example))
        return CloseRequest(parse_trade_id(args[0], self.example),
                            parse_price(args[1], self.example) if len(args) == 2 else None,
                            args[1] if len(args) == 2 else "")

    async def answer(self, request: CloseRequest, ctx: CommandContext) -> Reply:
        s = ctx.services
        mine = store.get_trade(s.db, ctx.user_id, request.trade_id)
        if mine is not None and mine.is_open and request.exit_price is not None:
            check_price(request.exit_price, mine.entry,
                        _("exit {price}").format(price=request.text),
                        _("trade #{id}'s entry").format(id=mine.id), self.example)
        if mine is None or not mine.is_open:
            raise ArgumentError(_("There is no open trade #{id} of yours — see /positions.")
                                .format(id=request.trade_id))
        price = request.exit_price
        if price is None:
            price = (await self.marks(ctx, [mine])).get(mine.symbol)
            if price is None:
                raise ArgumentError(_("No current price for {symbol}; give the exit, "
                                      "e.g. /close {id} @61000").format(symbol=mine.symbol,
                                                                         id=mine.id))
        t = store.close_trade(s.db, ctx.user_id, request.trade_id, price, s.now_ms())
        assert t is not None
        legs = store.legs_of(s.db, ctx.user_id, t.id)
        lines = [_("Closed {trade} (fees {fees:,.2f}, funding {funding:+,.2f}).").format(
            trade=trade_line(t), fees=t.fees, funding=t.funding)]
        if legs:
            lines.append(_("Its hedge legs are still open: {legs}. Close them too if you did.")
                         .format(legs=", ".join(f"#{x.id} {side_word(x.side)} {x.size:g} "
                                                f"{x.symbol.split('-')[0]}" for x in legs)))
        return Reply(data={"trade": t.to_dict(), "open_legs": [x.to_dict() for x in legs]},
                     text=lines,
                     buttons=[[(_("Close #{id} too").format(id=x.id), f"/close {x.id}")
                               for x in legs]]
                     if legs else [])


class Positions(_TradeCommand):
    name = "positions"
    summary = N_("your open logged trades with the current mark")
    usage = N_("/positions [full]")
    examples = ("/positions",)
    expandable = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        trades = store.list_trades(ctx.services.db, ctx.user_id, open_only=True)
        if not trades:
            return Reply(data={"positions": []}, text=[
                _("No open trades. Log one with /open btc long 0.5 @60000 10x.")])
        marks = await self.marks(ctx, trades)
        ids = {t.id for t in trades}
        mains = sorted((t for t in trades if t.parent_id not in ids), key=lambda t: t.id)
        legs: dict[int, list[Trade]] = {}
        for t in sorted(trades, key=lambda t: t.id):
            if t.parent_id in ids:
                legs.setdefault(int(t.parent_id), []).append(t)

        def row(t: Trade) -> dict[str, Any]:
            return {**t.to_dict(), "mark": marks.get(t.symbol),
                    "unrealised_pnl": t.unrealised_pnl(marks[t.symbol]) if t.symbol in marks
                    else None}

        data = [{**row(t), "legs": [row(x) for x in legs.get(t.id, [])]} for t in mains]
        lines = []
        for t in mains:
            lines.append(trade_line(t, marks.get(t.symbol)))
            lines += ["  └ " + trade_line(x, marks.get(x.symbol)) for x in legs.get(t.id, [])]
        return Reply(data={"positions": data}, text=lines,
                     short=capped(lines, 0, _("line(s)")))


class Log(_TradeCommand):
    name = "log"
    summary = N_("your latest trades, open and closed")
    usage = N_("/log [n]")
    examples = ("/log", "/log 20")

    def parse(self, args: list[str]) -> int:
        if len(args) > 1:
            raise ArgumentError(_("/log takes one number at most, e.g. {example}").format(
                example=self.examples[1]))
        return parse_count(args[0], self.examples[1]) if args else 10

    async def answer(self, request: int, ctx: CommandContext) -> Reply:
        trades = store.list_trades(ctx.services.db, ctx.user_id, limit=request)
        if not trades:
            return Reply(data={"trades": []}, text=[_("Your trade log is empty.")])
        return Reply(data={"trades": [t.to_dict() for t in trades]},
                     text=[trade_line(t) for t in trades])

