"""Keep the trade log true each cycle: liquidations close trades, funding is paid.

- **Liquidation.** An isolated trade (or hedge leg) whose liquidation price a bar's range
  reached since it was opened is closed as ``liquidated`` at that price — the exchange closes
  it there — and loses exactly its margin plus fees (``storage.trades``). The close and its
  one critical message are written in one transaction, so a crash can neither close a trade
  silently nor tell it twice. Once closed, no rule advises on it again. The check uses the
  exchange's mark-price bars where the market stores them (OKX:
  ``core.liquidation.trigger_range``) — the exchange liquidates on the mark price, whose
  wicks are usually shallower — and the last-price bars elsewhere, where a deep wick may
  close a trade the exchange kept; the message says which.
- **Synced trades** (from a connected exchange account, ``plugins.accounts.sync``) are the
  exchange's: neither closed here nor paid estimated funding while their account is
  connected — the sync closes them with the exchange's exit, close type, fees and funding.
- **Funding.** At every funding time after a trade was opened, it pays or receives
  ``rate × size × price`` (longs pay a positive rate), the rate from the exchange's funding
  history (``MarketSource.fetch_funding_history``: OKX/Binance/Bybit through ccxt, the CSV
  market's funding files), the price the open of the bar starting at that time (paid once
  that bar has closed). Each payment is stored once (``storage.trades.add_funding``), so
  running twice changes nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.alerts import Alert
from core.liquidation import first_crossing, trigger_range
from core.types import MarketSnapshot
from i18n import L_, N_, Msg
from storage import outbox
from storage import trades as store
from storage.rule_state import OpenTrade

log = logging.getLogger(__name__)
SIDE_WORDS = {"long": N_("long"), "short": N_("short")}
MIN_FUNDING_INTERVAL_MS = 3_600_000  # the shortest funding interval an exchange uses (1 h)


@dataclass(frozen=True)
class Liquidated:
    trade: store.Trade
    price: float
    bar_close_ms: int
    open_legs: tuple[store.Trade, ...]
    on_mark: bool = False  # judged on the exchange's mark-price bar (else the last price's)


def crossing_bar(trade: OpenTrade, liq_price: float, snap: MarketSnapshot
                 ) -> tuple[int, bool] | None:
    """The first bar of ``snap`` that opened at or after the trade and whose range — the
    mark price's where stored, else the last price's — reached ``liq_price``, and whether
    that bar was the mark price's; None when none did (or the price cannot be reached)."""
    if trade.symbol not in snap.symbols or not np.isfinite(liq_price) or liq_price <= 0:
        return None
    start = int(np.searchsorted(snap.times, trade.opened_at, side="left"))
    if start >= snap.n_bars:
        return None
    low, high, on_mark = trigger_range(snap, snap.index(trade.symbol))
    sign = 1 if trade.side == "long" else -1
    row = first_crossing(sign, liq_price, low, high, start)
    return None if row is None else (row, bool(on_mark[row]))


def _side(side: str) -> Msg:
    return L_(SIDE_WORDS.get(side, side))


def _listed(items: Sequence[Msg]) -> Msg:
    """``a, b, c`` rendered in the reader's language (each item a whole phrase)."""
    return functools.reduce(lambda a, b: L_("{first}, {second}", first=a, second=b), items)


def liquidation_alert(done: Liquidated, *, data_age_ms: int, simulated: bool) -> Alert:
    """The one critical message for a trade the exchange has closed."""
    t = done.trade
    base = t.symbol.split("-")[0]
    trade = dict(id=t.id, side=_side(t.side), size=t.size, base=base, entry=t.entry,
                 leverage=t.leverage)
    body: list[Msg] = [
        L_("Trade #{id}: {side} {size:g} {base} @ {entry:g}, {leverage:g}×", **trade)
        if t.parent_id is None else
        L_("Trade #{id} (hedge leg of #{parent}): {side} {size:g} {base} @ {entry:g}, "
           "{leverage:g}×", parent=t.parent_id, **trade)]
    if t.capped:
        body += [L_("The price reached its liquidation price {price:g}: the exchange closes "
                    "an isolated position there.", price=done.price),
                 L_("Loss: {margin:,.2f} USDT margin + {fees:,.2f} USDT fees = {loss:,.2f} "
                    "USDT (funding {funding:+,.2f}).", margin=t.isolated_margin, fees=t.fees,
                    loss=-(t.realised_pnl or 0.0), funding=t.funding)]
    else:
        body += [L_("Your cross-margin trades' equity fell to their maintenance margin: the "
                    "exchange closes every cross position then (an estimate from your logged "
                    "margins). Closed at {price:g}, realised {pnl:+,.2f} USDT after "
                    "{fees:,.2f} USDT fees.", price=done.price, pnl=t.realised_pnl or 0.0,
                    fees=t.fees)]
    body.append(L_("Checked on the exchange's mark-price candles, which it liquidates on.")
                if done.on_mark else
                L_("Checked on last-price candles; the exchange uses the mark price."))
    if done.open_legs:
        body.append(L_("Its hedge legs are still open on the exchange: {legs}", legs=_listed([
            L_("#{id} {side} {size:g} {base}", id=leg.id, side=_side(leg.side),
               size=leg.size, base=leg.symbol.split("-")[0]) for leg in done.open_legs])))
    action = (L_("Nothing to add: it is closed in your log. If you had closed it before, "
                 "correct the exit with /log; close its legs with /close <id> @<price>.")
              if done.open_legs else
              L_("Nothing to add: it is closed in your log (check your exchange account)."))
    return Alert(
        kind="liquidation", dedup_key=f"liquidation:{t.id}:closed", severity="critical",
        title=L_("#{id} {base} {side} closed by liquidation at {price:g}", id=t.id, base=base,
                 side=_side(t.side), price=done.price),
        body=tuple(body), action=action, time_ms=done.bar_close_ms, data_age_ms=data_age_ms,
        cooldown_ms=0, cooldown_key=f"liquidation:{t.id}:closed",
        payload={"trade_id": t.id, "symbol": t.symbol, "liquidation_price": done.price,
                 "margin": t.isolated_margin, "fees": t.fees, "funding": t.funding,
                 "realised_pnl": t.realised_pnl, "closed": True,
                 "judged_on": "mark" if done.on_mark else "last",
                 "parent_id": t.parent_id},
        symbol=t.symbol, trade_id=t.id, owner_chat_id=t.user_id, simulated=simulated)


@dataclass(frozen=True)
class Crossing:
    """An open isolated trade whose liquidation price a bar reached."""

    trade: OpenTrade
    price: float
    bar_close_ms: int
    on_mark: bool = False  # the crossing bar was the exchange's mark-price bar


def find_liquidations(trades: Sequence[OpenTrade], liq_prices: Sequence[float],
                      snap: MarketSnapshot) -> list[Crossing]:
    """Every isolated trade whose liquidation price a bar since its open reached.
    ``liq_prices[k]`` belongs to ``trades[k]``; cross trades share the account's margin and
    are judged at account level, not here."""
    out = []
    for trade, liq in zip(trades, liq_prices, strict=True):
        if trade.margin_mode != store.ISOLATED or trade.synced:
            continue
        found = crossing_bar(trade, float(liq), snap)
        if found is not None:
            row, on_mark = found
            out.append(Crossing(trade, float(liq), int(snap.times[row]) + snap.timeframe_ms,
                                on_mark))
    return out


def find_cross_liquidations(trades: Sequence[OpenTrade], mmr: Sequence[float],
                            fees: Sequence[float], snap: MarketSnapshot) -> list[Crossing]:
    """Each trader's cross-margin trades share one collateral: the margins they logged. The
    account is liquidated at the first bar where its equity (collateral + every position's
    P&L) is at or below the maintenance margin (Σ size × price × (mmr + fee), OKX's ratio);
    then every cross trade of it is closed. One position alone is judged on its bar's low
    (long) or high (short) like an isolated one (the mark price's where stored); several are
    judged on the bars' last-price closes — their extremes do not happen at the same
    moment. ``mmr[k]``, ``fees[k]`` belong to
    ``trades[k]``."""
    accounts: dict[int, list[int]] = {}
    for k, t in enumerate(trades):
        if t.margin_mode == store.CROSS and t.symbol in snap.symbols and not t.synced:
            accounts.setdefault(t.owner_chat_id, []).append(k)
    out: list[Crossing] = []
    for members in accounts.values():
        ts = [trades[k] for k in members]
        start = int(np.searchsorted(snap.times, max(t.opened_at for t in ts), side="left"))
        if start >= snap.n_bars:
            continue
        rows = slice(start, snap.n_bars)
        collateral = sum(t.margin if t.margin is not None else t.size * t.entry / t.leverage
                         for t in ts)
        equity = np.full(snap.n_bars - start, collateral)
        maintenance = np.zeros(snap.n_bars - start)
        on_mark = np.zeros(snap.n_bars - start, dtype=bool)
        for k, t in zip(members, ts, strict=True):
            j = snap.index(t.symbol)
            sign = 1 if t.side == "long" else -1
            if len(ts) == 1:
                low, high, marked = trigger_range(snap, j)
                path = low[rows] if sign > 0 else high[rows]
                on_mark = marked[rows]
            else:
                path = snap.close[rows, j]
            equity += sign * t.size * (path - t.entry)
            maintenance += t.size * path * (mmr[k] + fees[k])
        with np.errstate(invalid="ignore"):
            hit = np.flatnonzero(equity <= maintenance)
        if not hit.size:
            continue
        row = start + int(hit[0])
        close_ms = int(snap.times[row]) + snap.timeframe_ms
        for k, t in zip(members, ts, strict=True):
            j = snap.index(t.symbol)
            exit_price = float(snap.close[row, j])
            if len(ts) == 1:  # where equity met maintenance within the bar
                sign = 1 if t.side == "long" else -1
                k_ = mmr[k] + fees[k]
                exit_price = (t.entry - sign * collateral / t.size) / (1 - sign * k_)
            out.append(Crossing(t, exit_price, close_ms, bool(on_mark[hit[0]])))
    return out


def close_liquidated(db: Any, found: Sequence[Crossing], snap: MarketSnapshot, *,
                     now_ms: int, min_severity: str = "info") -> list[Liquidated]:
    """Close each trade as ``liquidated`` at its liquidation price, with its one critical
    message, the two in one transaction."""
    out = []
    for c in found:
        t = c.trade
        with outbox.immediate(db):
            closed = store.close_trade(db, t.owner_chat_id, t.trade_id, c.price,
                                       c.bar_close_ms, reason=store.LIQUIDATED)
            if closed is None:
                continue
            legs = tuple(store.legs_of(db, t.owner_chat_id, t.trade_id))
            done = Liquidated(closed, c.price, c.bar_close_ms, legs, c.on_mark)
            alert = liquidation_alert(done, data_age_ms=snap.data_age_ms,
                                      simulated=snap.simulated)
            outbox.record_alerts(db, [alert], now_ms=now_ms, min_severity=min_severity)
        log.warning("trade #%s %s %s liquidated at %s (bar closing %s)", t.trade_id,
                    t.symbol, t.side, c.price, c.bar_close_ms)
        out.append(done)
    return out


def bar_price(snap: MarketSnapshot, symbol: str, time_ms: int) -> float | None:
    """The open of the bar starting at ``time_ms`` (else the last close before it)."""
    if symbol not in snap.symbols or not snap.n_bars:
        return None
    j = snap.index(symbol)
    row = int(np.searchsorted(snap.times, time_ms, side="left"))
    if row < snap.n_bars and int(snap.times[row]) == time_ms and np.isfinite(snap.open[row, j]):
        return float(snap.open[row, j])
    before = snap.close[:row, j]
    ok = np.flatnonzero(np.isfinite(before))
    return float(before[ok[-1]]) if ok.size else None


async def accrue_funding(db: Any, market: Any, trades: Sequence[OpenTrade],
                         snap: MarketSnapshot, until_ms: int,
                         ends: dict[int, int] | None = None) -> int:
    """Pay every open trade's funding due since it opened (or since its last payment) up to
    ``until_ms`` (for a trade in ``ends``, up to its own end: a liquidated trade pays
    nothing after it); returns how many payments were recorded. A symbol whose history
    cannot be read now is tried again next cycle (nothing is skipped for good)."""
    ends = ends or {}
    by_symbol: dict[str, list[OpenTrade]] = {}
    for t in trades:
        if not t.synced:  # a synced trade is paid what the exchange paid, by the sync
            by_symbol.setdefault(t.symbol, []).append(t)
    recorded = 0
    for symbol, group in sorted(by_symbol.items()):
        since = {t.trade_id: store.last_funding_time(db, t.trade_id) for t in group}
        start = min((s + 1 if s is not None else t.opened_at + 1)
                    for t, s in zip(group, since.values(), strict=True))
        if until_ms - start < MIN_FUNDING_INTERVAL_MS and all(
                t.trade_id not in ends for t in group):
            continue  # no exchange settles funding more often: nothing can be due yet
        try:
            history = await market.fetch_funding_history(symbol, start)
        except Exception as e:  # no funding data (e.g. a CSV market without files): next time
            log.info("funding of %s not accrued now: %s", symbol, e)
            continue
        newest_bar = int(snap.times[-1]) if snap.n_bars else -1
        for time_ms, rate in zip(history.times.tolist(), history.values.tolist(), strict=True):
            if time_ms > min(until_ms, newest_bar) or not np.isfinite(rate):
                continue  # its bar has not closed yet: paid next cycle, at that bar's open
            price = bar_price(snap, symbol, int(time_ms))
            if price is None:
                continue
            for t in group:
                last = since[t.trade_id]
                if time_ms <= t.opened_at or (last is not None and time_ms <= last) or \
                        time_ms > ends.get(t.trade_id, until_ms):
                    continue
                amount = store.funding_amount(t.side, t.size, price, float(rate))
                recorded += store.add_funding(db, t.trade_id, int(time_ms), float(rate),
                                              price, amount)
    return recorded
