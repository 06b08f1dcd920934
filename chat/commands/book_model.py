"""A trader's open book (trades and their hedge legs) as the joint model sees it: each
position's own report, the co-movement of their assets in stress, and the cross account.

Shared by ``/risk`` (a cross position's liquidation price when the other assets move with
it) and ``/whatif`` (the whole book under one shock). Co-movement is the stress beta the
counterweight finder uses (``core.shock.stress_betas`` on ``core.counterweights.stress_mask``
bars); where a pair has too few stress bars, its beta over the last day; where that is
missing too, the asset is held still and a warning says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from chat.commands.risk_view import report_for
from chat.context import Services
from core.risk import RiskReport
from core.shock import Book, cross_liquidation_prices
from core.types import FloatArray, MarketSnapshot, Position
from i18n import N_, _
from storage.trades import Trade

JOINT_NOTE = N_("cross margin: the account's liquidation when {base} moves against this "
                "position and your other cross positions move with it by their stress betas")


@dataclass(frozen=True)
class Entry:
    """One priced open trade or leg: its position and its report (isolated numbers, or the
    joint cross-account numbers for a cross trade once ``with_joint_cross`` ran)."""

    trade: Trade
    position: Position
    column: int  # the snapshot column of its symbol
    report: RiskReport


def position_of(t: Trade) -> Position:
    return Position(t.symbol, t.side, t.size, t.entry, t.leverage, t.margin_mode,
                    t.isolated_margin)


def synced_liquidation(t: Trade) -> float | None:
    """A trade synced from a connected account keeps the liquidation price its account gave
    at the last sync (the exchange's rules on the account's real equity), not a model's."""
    return t.liq_price if t.synced and t.account_id is not None else None


def priced(snap: MarketSnapshot, t: Trade) -> bool:
    return t.symbol in snap.symbols and math.isfinite(snap.last_price(t.symbol))


def entries(services: Services, snap: MarketSnapshot, trades: list[Trade], state: Any, *,
            mmr: float | None = None, fee: float | None = None) -> list[Entry]:
    """Every priced trade's entry with its isolated report (``state``: the engine's market
    state of ``snap``, whose tail fits the reports use; None: each symbol fitted alone)."""
    out = []
    for t in trades:
        if not priced(snap, t):
            continue
        j = snap.index(t.symbol)
        pos = position_of(t)
        fit = state.tails.select([j]) if state is not None else None
        rep = report_for(services, snap, pos, mmr=mmr, fee=fee, tails=fit,
                         liquidation_price=synced_liquidation(t))
        out.append(Entry(t, pos, j, rep))
    return out


def co_movement(state: Any, columns: list[int], driver: int) -> tuple[FloatArray, list[str]]:
    """β of each column's asset on the driver column's, stress first (module docstring),
    and the warnings for pairs that fell back."""
    out = np.zeros(len(columns))
    notes = []
    symbols = state.snap.symbols
    for k, j in enumerate(columns):
        if j == driver:
            out[k] = 1.0
            continue
        b = float(state.stress_beta[j, driver])
        if not math.isfinite(b):
            b = float(state.beta_fast[j, driver])
            note = _("too few stress bars for {symbol} against {driver}: its β over the last "
                     "day") if math.isfinite(b) else \
                _("too few stress bars for {symbol} against {driver}: held still")
            notes.append(note.format(symbol=symbols[j], driver=symbols[driver]))
        out[k] = b if math.isfinite(b) else 0.0
    return out, notes


def book_of(items: list[Entry], snap: MarketSnapshot) -> Book:
    """The shock model's arrays of the entries (each at its mark)."""
    return Book.of(
        sign=[e.position.sign for e in items], size=[e.position.size for e in items],
        entry=[e.position.entry for e in items],
        mark=[snap.last_price(e.position.symbol) for e in items],
        margin=[e.position.isolated_margin for e in items],
        mmr=[e.report.mmr for e in items], fee=[e.report.fee for e in items],
        liq=[e.report.liquidation_price or 0.0 for e in items],
        cross=[e.position.margin_mode == "cross" for e in items])


def with_joint_cross(services: Services, snap: MarketSnapshot, items: list[Entry],
                     state: Any, *, mmr: float | None = None, fee: float | None = None
                     ) -> tuple[list[Entry], list[str]]:
    """The entries with each cross trade's report re-made from the cross account's joint
    liquidation price (``core.shock.cross_liquidation_prices``); isolated ones unchanged."""
    cross = [k for k, e in enumerate(items) if e.position.margin_mode == "cross"]
    if not cross:
        return items, []
    members = [items[k] for k in cross]
    cols = [e.column for e in members]
    notes: list[str] = []
    beta = np.empty((len(cols), len(cols)))
    for i, j in enumerate(cols):
        beta[:, i], more = co_movement(state, cols, j)
        notes += [n for n in more if n not in notes]
    liq = cross_liquidation_prices(book_of(members, snap), beta)
    out = list(items)
    for k, e, px in zip(cross, members, liq.tolist(), strict=True):
        if synced_liquidation(e.trade) is not None:  # the account's own figure stands
            continue
        if not math.isfinite(px):  # no move liquidates the account: no liquidation price
            px = 0.0 if e.position.sign > 0 else math.inf
        base = e.position.symbol.split("-")[0]
        rep = report_for(services, snap, e.position, mmr=mmr, fee=fee, liquidation_price=px,
                         cross_note=_(JOINT_NOTE).format(base=base),
                         tails=state.tails.select([e.column]))
        out[k] = Entry(e.trade, e.position, e.column, rep)
    return out, notes
