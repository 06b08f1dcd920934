"""The strategy interface (``interface_version = 1``).

A strategy decides, at the close of bar t, what hedge a position should carry. The live bot
and the backtester call the *same* ``decide`` with the same ``BarView``, so what is backtested
is what is alerted.

When ``decide`` runs: once per bar per position, after the engine has computed everything up
to and including bar t. What it gets: the ``BarView`` (engine results up to t, never later),
its own ``state`` from bar t−1 (None on the position's first bar) and its parameters (set at
construction from ``[strategies.params.<name>]``). What it returns: a ``Decision`` — target
hedge legs (symbol, side, size in base units), a short reason with the numbers (an
``i18n.L_`` message, so each reader gets it in their language), and the state
to hand back next bar.

What it must not do: I/O, reading the clock, randomness without a seed from its parameters,
or keeping state on ``self`` between calls (state goes in ``Decision.state``) — the
backtester replays thousands of positions through one instance, and the no-look-ahead test
feeds it the same bars twice.

Versioning: a plugin sets ``interface_version = 1``. Later versions add fields to
``BarView`` and keep old ones, so a version-1 strategy keeps working; the loader refuses a
strategy that asks for a version newer than hedgewatch knows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.counterweights import Counterweight
from core.types import Instrument, Position
from i18n import Msg

INTERFACE_VERSION = 1


@dataclass(frozen=True)
class TargetLeg:
    """One hedge leg to hold: ``size`` in base units, always positive."""

    symbol: str
    side: str  # "long" | "short"
    size: float

    def signed(self) -> float:
        return self.size if self.side == "long" else -self.size


@dataclass(frozen=True)
class Decision:
    """``reason`` is text a trader reads (``/hedge``, the rebalance alert): an ``i18n.L_``
    message, rendered in each reader's language (plain text is accepted, shown as is)."""

    legs: tuple[TargetLeg, ...]
    reason: str | Msg
    state: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class BarView:
    """What a strategy sees at the close of bar ``t``; nothing in it comes from after t.

    ``hedge_symbol`` is the engine's minimum-variance hedge instrument for the position (the
    one with the highest ρ² on the fast window) and ``beta_*``/``corr_*`` are measured
    against it. ``counterweights()`` computes the engine's counterweights from data up to t
    on demand (it is not free, so strategies that do not need it do not pay for it).
    """

    t: int
    time_ms: int
    position: Position
    prices: Mapping[str, float]
    instruments: Mapping[str, Instrument]
    hedge_symbol: str | None
    beta_fast: float
    beta_ewma: float
    corr_fast: float
    corr_slow: float
    effectiveness: float
    regime: str  # pair regime with hysteresis: high / normal / low / unknown
    cascade_level: str
    cascade_score: float
    high_corr: float = 0.7
    low_corr: float = 0.3
    _counterweights: Callable[[], tuple[Counterweight, ...]] = field(
        default=lambda: (), repr=False)
    _pair: Callable[[str], tuple[float, float]] = field(
        default=lambda symbol: (float("nan"), float("nan")), repr=False)

    def counterweights(self) -> tuple[Counterweight, ...]:
        return self._counterweights()

    def pair(self, symbol: str) -> tuple[float, float]:
        """Fast-window β and ρ of the position's symbol to ``symbol`` at this bar — for a
        strategy that keeps the hedge instrument it already holds (added in version 1)."""
        if symbol == self.hedge_symbol:
            return self.beta_fast, self.corr_fast
        return self._pair(symbol)

    def notional(self) -> float:
        """The position's notional at this bar's price (entry if the price is missing)."""
        p = self.prices.get(self.position.symbol, float("nan"))
        return self.position.size * (p if p == p and p > 0 else self.position.entry)


class Strategy:
    """Base class: set ``name``, ``description``, ``defaults``; implement ``decide``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    interface_version: ClassVar[int] = INTERFACE_VERSION
    defaults: ClassVar[Mapping[str, float]] = {}
    plugin: str = "unknown plugin"  # set by the loader: who registered it, for the logs

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        params = dict(params or {})
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(f"strategy {self.name}: unknown parameter(s) "
                             f"{', '.join(sorted(unknown))}; known: "
                             f"{', '.join(sorted(self.defaults)) or 'none'}")
        self.params = {**self.defaults, **params}

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        raise NotImplementedError


def sticky_hedge(bar: BarView, state: Mapping[str, Any] | None, margin: float) -> str | None:
    """The hedge instrument to use this bar: the one held (``state["hedge"]``) unless the
    engine's best beats it by more than ``margin`` in ρ² — so a hedge is not moved from ETH to
    XRP and back (with fees both ways) because their correlations trade places by 0.01."""
    best = bar.hedge_symbol
    held: str | None = (state or {}).get("hedge")
    if not held or held == best or best is None:
        return best
    rho_held = bar.pair(held)[1]
    if not math.isfinite(rho_held) or bar.corr_fast ** 2 > rho_held ** 2 + margin:
        return best
    return held


def beta_leg(bar: BarView, scale: float = 1.0, symbol: str | None = None) -> TargetLeg | None:
    """The β hedge in ``symbol`` (default the engine's choice, ``bar.hedge_symbol``) scaled by
    ``scale``; None when not available."""
    hs = symbol or bar.hedge_symbol
    b = bar.pair(hs)[0] if hs else float("nan")
    price = bar.prices.get(hs, float("nan")) if hs else float("nan")
    if hs is None or math.isnan(b) or not (price > 0) or scale <= 0:
        return None
    notional = -bar.position.sign * b * bar.notional() * scale
    if notional == 0:
        return None
    return TargetLeg(hs, "long" if notional > 0 else "short", abs(notional) / price)
