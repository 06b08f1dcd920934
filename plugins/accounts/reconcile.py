"""Bring the trade log in line with one read of an exchange account.

What happened since the last read is replayed in time order onto the account's synced trades:

- fills: consecutive fills of one symbol, side and kind are one change at their average price;
  a fill on the side held grows the trade (entry the size-weighted average), against it
  reduces or closes it — ``closed``, ``liquidated`` (liquidation fills) or ``adl`` — at that
  price with the fills' real fees; what is left of a fill past zero opens the other side;
- funding payments are booked on the trade open at that time, as the exchange paid them;
- a liquidation penalty (OKX ``liqPenalty``, Binance ``INSURANCE_CLEAR``) is a fee of the
  trade it liquidated.

Then the positions the exchange holds now are the truth: a position without a trade (open
before the account was connected) becomes one with the exchange's entry and, where the exchange
says (OKX), its fees and funding so far; a size the fills did not explain is corrected to the
exchange's and said; every trade gets the exchange's entry, margin and leverage, our
liquidation price and the exchange's. A synced trade the exchange no longer holds and no fill
closed is closed at its entry with a warning (its fills are older than the exchange keeps).

Hand-logged trades are never read or written here. Each event is applied once
(``storage.synced_trades.seen``), so reading the same fills twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from i18n import N_, _
from plugins.exchanges.account_liquidation import LiquidationCheck
from plugins.exchanges.account_types import (
    ADL,
    LIQUIDATION,
    TRADE,
    AccountState,
    ExchangePosition,
    Fill,
    FundingPaid,
    Penalty,
)
from storage import synced_trades as synced
from storage.accounts import Account
from storage.funding import add_funding
from storage.trades import ADL as ADL_REASON
from storage.trades import CLOSED, LIQUIDATED, Trade, get_trade

EPS = 1e-9
REASONS = {TRADE: CLOSED, LIQUIDATION: LIQUIDATED, ADL: ADL_REASON}

# the fills that close a position without the trader (the warnings read them to the trader)
FILL_KINDS = {LIQUIDATION: N_("liquidation"), ADL: N_("adl")}


@dataclass
class Run:
    """Consecutive fills of one symbol, side and kind: one change of the position."""

    symbol: str
    side: str
    kind: str
    ids: list[str]
    size: float
    value: float
    fee: float
    time: int

    @property
    def price(self) -> float:
        return self.value / self.size


@dataclass
class Changes:
    """What one reconciliation did to the log."""

    opened: list[Trade] = field(default_factory=list)
    changed: list[Trade] = field(default_factory=list)
    closed: list[Trade] = field(default_factory=list)
    funding: int = 0
    warnings: list[str] = field(default_factory=list)


def events(fills: Sequence[Fill], funding: Sequence[FundingPaid],
           penalties: Sequence[Penalty]) -> list[Run | FundingPaid | Penalty]:
    """Fills (as runs), funding and penalties in time order; at one time funding comes first
    (it was owed by the position held before), penalties last (after their liquidation)."""
    order = {FundingPaid: 0, Fill: 1, Penalty: 2}
    raw: list[Fill | FundingPaid | Penalty] = sorted(
        [*fills, *funding, *penalties], key=lambda e: (e.time, order[type(e)], e.id))
    out: list[Run | FundingPaid | Penalty] = []
    for e in raw:
        last = out[-1] if out else None
        if isinstance(e, Fill):
            if isinstance(last, Run) and (last.symbol, last.side, last.kind) == (
                    e.symbol, e.side, e.kind):
                last.ids.append(e.id)
                last.size += e.size
                last.value += e.size * e.price
                last.fee += e.fee
                last.time = e.time
            else:
                out.append(Run(e.symbol, e.side, e.kind, [e.id], e.size, e.size * e.price,
                               e.fee, e.time))
        else:
            out.append(e)
    return out


class Reconciler:
    """Applies one ``AccountState`` to ``account``'s synced trades (inside the caller's
    transaction). ``local`` maps an exchange's symbol to the trade log's (the bot's market's
    id of the same instrument, so the cycle can price it); ``fee_rate`` gives a symbol's
    taker fee."""

    def __init__(self, db: Any, account: Account, *, local: Callable[[str], str],
                 fee_rate: Callable[[str], float], now_ms: int) -> None:
        self.db, self.account, self.local, self.fee_rate = db, account, local, fee_rate
        self.now_ms = now_ms
        self.out = Changes()
        self.trades: dict[str, Trade] = {t.symbol: t for t in
                                         synced.open_synced_trades(db, account.id)}

    def apply(self, state: AccountState, checks: Sequence[LiquidationCheck]) -> Changes:
        hints = {p.symbol: p for p in state.positions}
        new = events([f for f in state.fills if not self._seen(f"fill:{f.id}")],
                     [f for f in state.funding if not self._seen(f"funding:{f.id}")],
                     [p for p in state.penalties if not self._seen(f"penalty:{p.id}")])
        for e in new:
            if isinstance(e, Run):
                self._run(e, hints.get(e.symbol))
            elif isinstance(e, FundingPaid):
                self._funding(e)
            else:
                self._penalty(e)
        first = self.account.cursor is None
        for p, check in zip(state.positions, checks, strict=True):
            self._position(p, check, first)
        held = {self.local(p.symbol) for p in state.positions}
        for symbol, t in list(self.trades.items()):
            if symbol not in held:
                self.out.warnings.append(_(
                    "#{trade_id} {symbol}: {exchange} no longer holds it and no fill closed it "
                    "(older than the exchange keeps): closed at its entry").format(
                    trade_id=t.id, symbol=t.symbol, exchange=self.account.exchange))
                self._close(t, t.entry, 0.0, self.now_ms, CLOSED)
        return self.out

    # --- events ---------------------------------------------------------------------------

    def _seen(self, event_id: str) -> bool:
        return synced.seen(self.db, self.account.id, event_id)

    def _mark(self, event_id: str, trade: Trade | int | None, time_ms: int) -> None:
        trade_id = trade.id if isinstance(trade, Trade) else trade
        synced.mark_seen(self.db, self.account.id, event_id, trade_id, time_ms)

    def _run(self, run: Run, hint: ExchangePosition | None) -> None:
        ids = run.ids
        symbol = self.local(run.symbol)
        t = self.trades.get(symbol)
        buy = run.side == "buy"
        touched: Trade | None = None
        if t is None:
            touched = self._open(symbol, "long" if buy else "short", run, hint, run.kind)
        elif (t.side == "long") == buy:
            touched = synced.add_to(self.db, t, run.size, run.price, run.fee, run.time)
            self.trades[symbol] = touched
            self.out.changed.append(touched)
        else:
            q = min(run.size, t.size)
            fee = run.fee * q / run.size
            reason = REASONS.get(run.kind, CLOSED)
            if t.size - q > EPS * t.size:
                touched, closed = synced.reduce_synced(self.db, t, q, run.price, fee, run.time,
                                                       reason)
                self.trades[symbol] = touched
                self.out.closed.append(closed)
            else:
                touched = self._close(t, run.price, fee, run.time, reason)
            rest = run.size - q
            if rest > EPS * run.size:
                part = Run(run.symbol, run.side, run.kind, ids, rest, rest * run.price,
                           run.fee - fee, run.time)
                touched = self._open(symbol, "long" if buy else "short", part, hint, run.kind)
        for i in ids:
            self._mark(f"fill:{i}", touched, run.time)

    def _open(self, symbol: str, side: str, run: Run, hint: ExchangePosition | None,
              kind: str) -> Trade | None:
        if kind != TRADE:
            self.out.warnings.append(_("a {kind} fill in {symbol} found no position in the "
                                       "log").format(kind=_(FILL_KINDS.get(kind, kind)),
                                                     symbol=symbol))
            return None
        same = hint is not None and hint.side == side
        t = synced.open_synced(
            self.db, user_id=self.account.user_id, account_id=self.account.id,
            exchange=self.account.exchange, symbol=symbol, side=side, size=run.size,
            entry=run.price, leverage=hint.leverage if same and hint else 1.0,
            margin_mode=hint.margin_mode if same and hint else "cross",
            margin=None, opened_at=run.time, fees=run.fee, fee_rate=self.fee_rate(run.symbol),
            position_id=hint.position_id if same and hint else None)
        self.trades[symbol] = t
        self.out.opened.append(t)
        return t

    def _close(self, t: Trade, price: float, fee: float, at_ms: int, reason: str) -> Trade:
        closed = synced.close_synced(self.db, t, price, fee, at_ms, reason)
        self.trades.pop(t.symbol, None)
        self.out.closed.append(closed)
        return closed

    def _funding(self, f: FundingPaid) -> None:
        t = self.trades.get(self.local(f.symbol))
        if t is not None:
            price = f.price if f.price else t.entry
            rate = f.rate if f.rate is not None else -f.amount / (t.sign * t.size * price)
            self.out.funding += add_funding(self.db, t.id, f.time, rate, price, f.amount)
        self._mark(f"funding:{f.id}", t, f.time)

    def _penalty(self, p: Penalty) -> None:
        trade_id = synced.last_liquidated(self.db, self.account.id, self.local(p.symbol))
        if trade_id is not None:
            synced.add_fee(self.db, trade_id, p.amount)
            self.out.closed = [get_trade(self.db, t.user_id, t.id) or t
                               for t in self.out.closed]
        self._mark(f"penalty:{p.id}", trade_id, p.time)

    # --- positions now --------------------------------------------------------------------

    def _position(self, p: ExchangePosition, check: LiquidationCheck, first: bool) -> None:
        symbol = self.local(p.symbol)
        t = self.trades.get(symbol)
        if t is not None and t.side != p.side:
            self.out.warnings.append(_("#{trade_id} {symbol}: the exchange holds a {side} now; "
                                       "closed at its entry (no fill explained the flip)"
                                       ).format(trade_id=t.id, symbol=symbol, side=_(p.side)))
            self._close(t, t.entry, 0.0, self.now_ms, CLOSED)
            t = None
        if t is None:
            t = synced.open_synced(
                self.db, user_id=self.account.user_id, account_id=self.account.id,
                exchange=self.account.exchange, symbol=symbol, side=p.side, size=p.size,
                entry=p.entry, leverage=p.leverage, margin_mode=p.margin_mode, margin=p.margin,
                opened_at=p.opened_at or self.now_ms, fees=max(p.fees or 0.0, 0.0),
                fee_rate=self.fee_rate(p.symbol), position_id=p.position_id)
            if p.funding:
                rate = -p.funding / (p.sign * p.size * p.mark)
                self.out.funding += add_funding(self.db, t.id, self.now_ms, rate, p.mark,
                                                p.funding)
            if not first:
                self.out.warnings.append(_("#{trade_id} {symbol}: a position no fill "
                                           "explained (fills older than the exchange keeps)"
                                           ).format(trade_id=t.id, symbol=symbol))
            self.out.opened.append(t)
            self.trades[symbol] = t
        elif abs(t.size - p.size) > 1e-6 * p.size:
            self.out.warnings.append(_("#{trade_id} {symbol}: size {size:g} corrected to the "
                                       "exchange's {exchange_size:g}").format(
                trade_id=t.id, symbol=symbol, size=t.size, exchange_size=p.size))
        synced.set_synced(
            self.db, t.id, entry=p.entry, size=p.size, leverage=p.leverage,
            margin_mode=p.margin_mode,
            margin=p.margin if p.margin is not None else p.size * p.entry / p.leverage,
            liq_price=check.ours, exchange_liq_price=p.liquidation_price,
            position_id=p.position_id, synced_at=self.now_ms)
        self.trades[symbol] = get_trade(self.db, t.user_id, t.id) or t
