"""What hedgewatch reads from an exchange account, the same for OKX, Binance and Bybit.

Each exchange's reader (``account_okx``, ``account_binance``, ``account_bybit``) turns that
exchange's own answers into these values, so the sync (``plugins.accounts.sync``) and the answers
(``/balance``, ``/account``) never see an exchange's format. Money is USDT, sizes base units,
times Unix ms; fees are what was paid (positive), funding what was received (negative: paid).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from i18n import N_, _

TRADE, LIQUIDATION, ADL = "trade", "liquidation", "adl"
EXCHANGES = ("okx", "binance", "bybit")  # where an account can be read (``account_access``)
# account modes whose maintenance margin comes from the exchange's risk scenarios: our
# liquidation price there extrapolates it linearly (by the modes' names in ``AccountBalance``);
# English, marked: translated (``_``) where shown
APPROXIMATED = {
    "portfolio margin": N_(
        "OKX portfolio margin sets the maintenance margin from stress scenarios; our "
        "liquidation price extrapolates it linearly from the account's mmr: an approximation"),
    "unified portfolio margin": N_(
        "Bybit portfolio margin sets the maintenance margin from its risk scenarios; our "
        "liquidation price extrapolates totalMaintenanceMargin linearly: an approximation"),
}


@dataclass(frozen=True)
class KeyRights:
    """What an API key may do, as the exchange says. hedgewatch needs ``read`` only; a key
    that may trade or withdraw is refused for ``/connect`` (``refusal``)."""

    read: bool
    trade: bool
    withdraw: bool
    detail: str  # what the exchange answered, in its words (no key material)

    def refusal(self) -> str | None:
        """Why this key is not accepted, or None when it only reads."""
        if self.trade and self.withdraw:
            can = _("this key can trade and withdraw ({detail}).")
        elif self.trade:
            can = _("this key can trade ({detail}).")
        elif self.withdraw:
            can = _("this key can withdraw ({detail}).")
        else:
            return _("this key cannot read the account ({detail})").format(detail=self.detail) \
                if not self.read else None
        return _("{refused} hedgewatch only reads: create a read-only key (no trading, no "
                 "withdrawals) and send that one").format(refused=can.format(
                     detail=self.detail))
        return None


@dataclass(frozen=True)
class ExchangePosition:
    """One open position as the exchange reports it."""

    symbol: str  # the instrument's id on its exchange (BTC-USDT-SWAP, BTCUSDT)
    unified: str  # ccxt's unified symbol (BTC/USDT:USDT): the same on every exchange
    side: str  # long | short
    size: float
    entry: float
    leverage: float
    margin_mode: str  # isolated | cross
    margin: float | None  # isolated: its margin; cross: the initial margin it takes
    mark: float
    liquidation_price: float | None  # the exchange's
    position_id: str | None = None
    opened_at: int | None = None
    fees: float | None = None  # paid over its life, when the exchange says (OKX)
    funding: float | None = None  # received over its life, when the exchange says (OKX)
    maintenance: float | None = None  # its maintenance margin (USDT), when given

    @property
    def sign(self) -> int:
        return 1 if self.side == "long" else -1

    @property
    def key(self) -> str:
        """What identifies it while open: its instrument and side (one-way mode)."""
        return f"{self.symbol}:{self.side}"

    @property
    def unrealised(self) -> float:
        return self.sign * self.size * (self.mark - self.entry)


@dataclass(frozen=True)
class Fill:
    """One execution: ``side`` buy or sell; ``kind`` trade, liquidation or adl."""

    id: str
    symbol: str
    side: str
    size: float
    price: float
    fee: float
    time: int
    kind: str = TRADE


@dataclass(frozen=True)
class FundingPaid:
    """One funding payment of a position (``amount`` received, negative when paid)."""

    id: str
    symbol: str
    time: int
    amount: float
    rate: float | None = None
    price: float | None = None


@dataclass(frozen=True)
class Penalty:
    """A liquidation penalty the exchange charged (OKX ``liqPenalty``, Binance
    ``INSURANCE_CLEAR``): a fee of the liquidated position."""

    id: str
    symbol: str
    time: int
    amount: float  # paid (positive)


@dataclass(frozen=True)
class AccountBalance:
    """The account's money. ``cross_equity`` backs the cross positions and ``maintenance`` is
    the account's maintenance margin where the exchange gives one (OKX multi-currency and
    portfolio margin ``mmr``, Bybit ``totalMaintenanceMargin``; None: summed per position).
    ``approximate`` says why our cross-margin maths is only an estimate in this mode."""

    mode: str
    equity: float | None = None
    cross_equity: float | None = None
    maintenance: float | None = None
    initial: float | None = None  # margin in use
    available: float | None = None  # free to open or withdraw
    wallet: float | None = None  # cross wallet balance (Binance's crossWalletBalance)
    approximate: str | None = None


@dataclass(frozen=True)
class AccountState:
    """One read of an account: now (balance, positions) and what happened since the last
    read (fills, funding, penalties)."""

    exchange: str
    server_time: int
    balance: AccountBalance
    positions: tuple[ExchangePosition, ...]
    fills: tuple[Fill, ...] = ()
    funding: tuple[FundingPaid, ...] = ()
    penalties: tuple[Penalty, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
