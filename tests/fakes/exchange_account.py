"""A fake exchange account: the ledger behind the fake OKX, Binance and Bybit private endpoints.

It keeps what an exchange keeps for one account — cash, open positions, every fill, every
funding payment, and each position's life from open to close — and each exchange's fake renders
it in that exchange's shapes. A position's liquidation price comes from ``liquidation``, the
exchange's own documented formula, which the exchange's fake supplies (``okx_private``,
``binance_private``, ``bybit_private``), so a test can hold our figure against it.

Money is USDT, sizes base units, times Unix ms. Simplifications (the same on every exchange):
fees and funding are paid from the account's cash, an isolated position keeps the margin it was
opened with (plus margin added), one-way mode (one position per symbol and side), and the mark
follows the last trade (``marks`` may be set to move it).

A liquidation closes the position at its liquidation price. An isolated one loses exactly its
margin: what the fill's P&L and fee leave of it is taken as a penalty (OKX ``liqPenalty``,
Binance ``INSURANCE_CLEAR``), or (``at_bankruptcy``, Bybit) it fills at the bankruptcy price,
where the loss with the fee is the margin; a cross one pays ``cross_penalty_rate`` of its
notional.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Pos:
    """An open position and its life so far."""

    pid: str
    symbol: str  # base, e.g. "BTC"
    side: str  # long | short
    mode: str  # isolated | cross
    size: float
    entry: float
    leverage: float
    margin: float  # isolated: posted margin; cross: initial margin (size × entry / leverage)
    opened_at: int
    updated_at: int
    fees: float = 0.0  # paid over its life (positive), penalties included
    funding: float = 0.0  # received (+) / paid (−)
    pnl: float = 0.0  # gross P&L of the parts closed
    closed: float = 0.0  # size closed so far
    close_value: float = 0.0  # Σ size × price of the closes
    max_size: float = 0.0
    penalty: float = 0.0
    last_kind: str = "trade"

    @property
    def sign(self) -> int:
        return 1 if self.side == "long" else -1

    def upl(self, mark: float) -> float:
        return self.sign * self.size * (mark - self.entry)

    @property
    def close_avg(self) -> float:
        return self.close_value / self.closed if self.closed else 0.0


@dataclass
class Fill:
    id: str
    order_id: str
    time: int
    symbol: str
    side: str  # buy | sell
    pos_side: str  # the position it opened or reduced: long | short
    size: float
    price: float
    fee: float  # paid (positive)
    kind: str  # trade | liquidation | adl
    opening: bool
    pnl: float  # gross P&L this fill realised (0 when opening)


@dataclass
class Funding:
    id: str
    time: int
    symbol: str
    pos_side: str
    amount: float  # received (+) / paid (−)
    rate: float
    price: float


@dataclass
class Closed:
    """A position's whole life once it is closed (``kind`` of its last close)."""

    pos: Pos
    closed_at: int
    kind: str  # trade | liquidation | adl


LiqFormula = Callable[["FakeAccount", Pos], "float | None"]


@dataclass
class FakeAccount:
    """One exchange account. ``mode`` is the exchange's account mode (OKX ``acctLv``, Bybit
    ``marginMode``, Binance ``"classic"``); ``liquidation`` the exchange's formula."""

    wallet: float = 10_000.0  # total cash, isolated margins included
    taker: float = 0.0005
    mode: str = ""
    liquidation: LiqFormula = lambda account, pos: None
    cross_penalty_rate: float = 0.005
    forced_mode: str | None = None  # every position's margin mode (Bybit: the account's)
    at_bankruptcy: bool = False  # isolated liquidations fill at the bankruptcy price (Bybit)
    collateral: dict[str, tuple[float, float]] = field(default_factory=dict)  # ccy → (qty, USD)
    positions: dict[tuple[str, str], Pos] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)
    closes: list[Closed] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    def _id(self) -> str:
        return str(next(self._ids))

    # --- what the exchange reports --------------------------------------------------------

    def mark(self, symbol: str) -> float:
        return self.marks[symbol]

    def isolated(self) -> list[Pos]:
        return [p for p in self.positions.values() if p.mode == "isolated"]

    def cross(self) -> list[Pos]:
        return [p for p in self.positions.values() if p.mode == "cross"]

    @property
    def cross_wallet(self) -> float:
        """Cash not posted as isolated margin."""
        return self.wallet - sum(p.margin for p in self.isolated())

    @property
    def cross_equity(self) -> float:
        """What backs the cross positions: cross cash plus their unrealised P&L."""
        return self.cross_wallet + sum(p.upl(self.mark(p.symbol)) for p in self.cross())

    @property
    def iso_equity(self) -> float:
        return sum(p.margin + p.upl(self.mark(p.symbol)) for p in self.isolated())

    @property
    def equity(self) -> float:
        return self.cross_equity + self.iso_equity

    @property
    def adjusted_equity(self) -> float:
        """Cross equity plus other collateral at its discounted USD value (OKX ``adjEq``)."""
        return self.cross_equity + sum(usd for _qty, usd in self.collateral.values())

    def liq_price(self, pos: Pos) -> float | None:
        return self.liquidation(self, pos)

    # --- what the trader (or the exchange) does -------------------------------------------

    def open(self, symbol: str, side: str, size: float, price: float, t: int, *,
             leverage: float = 10.0, mode: str = "isolated", margin: float | None = None
             ) -> Fill:
        """Open a position, or add to the one held (its entry becomes the size-weighted
        average, its isolated margin grows by the new part's)."""
        self.marks[symbol] = price  # the fake's mark follows the last trade
        mode = self.forced_mode or mode
        fee = self.taker * size * price
        pos = self.positions.get((symbol, side))
        if pos is None:
            pos = Pos(self._id(), symbol, side, mode, size, price, leverage,
                      margin if margin is not None else size * price / leverage, t, t)
            self.positions[(symbol, side)] = pos
        else:
            pos.entry = (pos.size * pos.entry + size * price) / (pos.size + size)
            pos.size += size
            pos.margin += margin if margin is not None else size * price / pos.leverage
            pos.updated_at = t
        pos.max_size = max(pos.max_size, pos.size)
        pos.fees += fee
        self.wallet -= fee
        return self._fill(t, pos, size, price, fee, "trade", opening=True, pnl=0.0)

    def add_margin(self, symbol: str, side: str, amount: float) -> None:
        self.positions[(symbol, side)].margin += amount

    def reduce(self, symbol: str, side: str, size: float, price: float, t: int, *,
               kind: str = "trade", penalty: float = 0.0) -> Fill:
        """Close ``size`` of the position at ``price`` (all of it closes the position)."""
        pos = self.positions[(symbol, side)]
        self.marks[symbol] = price
        q = min(size, pos.size)
        pnl = pos.sign * q * (price - pos.entry)
        fee = self.taker * q * price
        part = q / pos.size
        pos.pnl += pnl
        pos.fees += fee + penalty
        pos.penalty += penalty
        pos.closed += q
        pos.close_value += q * price
        pos.margin -= pos.margin * part
        pos.size -= q
        pos.updated_at = t
        pos.last_kind = kind
        self.wallet += pnl - fee - penalty
        fill = self._fill(t, pos, q, price, fee, kind, opening=False, pnl=pnl)
        if pos.size <= 1e-12:
            pos.size = 0.0
            del self.positions[(symbol, side)]
            self.closes.append(Closed(pos, t, kind))
        return fill

    def close(self, symbol: str, side: str, price: float, t: int) -> Fill:
        return self.reduce(symbol, side, self.positions[(symbol, side)].size, price, t)

    def liquidate(self, symbol: str, side: str, t: int) -> Fill:
        """The exchange liquidates the position at its liquidation price: an isolated one
        loses its whole margin, a cross one pays the cross penalty."""
        pos = self.positions[(symbol, side)]
        price = self.liq_price(pos)
        assert price is not None and price > 0, "this position cannot be liquidated"
        self.marks[symbol] = price
        if self.at_bankruptcy and pos.mode == "isolated":  # the loss, fee included, = margin
            s, n = pos.sign, pos.size
            price = (s * n * pos.entry - pos.margin) / (n * (s - self.taker))
            return self.reduce(symbol, side, n, price, t, kind="liquidation")
        pnl = pos.sign * pos.size * (price - pos.entry)
        fee = self.taker * pos.size * price
        if pos.mode == "isolated":
            penalty = max(0.0, pos.margin + pnl - fee)
        else:
            penalty = self.cross_penalty_rate * pos.size * price
        return self.reduce(symbol, side, pos.size, price, t, kind="liquidation", penalty=penalty)

    def adl(self, symbol: str, side: str, price: float, t: int) -> Fill:
        """Auto-deleveraging: the exchange closes the position against a liquidated one."""
        pos = self.positions[(symbol, side)]
        return self.reduce(symbol, side, pos.size, price, t, kind="adl")

    def fund(self, symbol: str, rate: float, t: int, price: float | None = None) -> list[Funding]:
        """A funding settlement: every position in ``symbol`` pays (longs, rate > 0) or
        receives ``rate × size × price``."""
        px = price if price is not None else self.mark(symbol)
        out = []
        for pos in [p for p in self.positions.values() if p.symbol == symbol]:
            amount = -pos.sign * pos.size * px * rate
            pos.funding += amount
            self.wallet += amount
            f = Funding(self._id(), t, symbol, pos.side, amount, rate, px)
            self.funding.append(f)
            out.append(f)
        return out

    def _fill(self, t: int, pos: Pos, size: float, price: float, fee: float, kind: str, *,
              opening: bool, pnl: float) -> Fill:
        buy = (pos.side == "long") == opening
        f = Fill(self._id(), self._id(), t, pos.symbol, "buy" if buy else "sell", pos.side,
                 size, price, fee, kind, opening, pnl)
        self.fills.append(f)
        return f

    # --- look-ups for tests ----------------------------------------------------------------

    def life(self, symbol: str, side: str) -> Pos:
        """The position, open or (the latest) closed."""
        pos = self.positions.get((symbol, side))
        if pos is not None:
            return pos
        return next(c.pos for c in reversed(self.closes)
                    if c.pos.symbol == symbol and c.pos.side == side)
