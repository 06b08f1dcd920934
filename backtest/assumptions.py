"""Every approximation a backtest's numbers rest on, in words: one list for a single window
and for a study, printed in the JSON (``assumptions``) and at the end of every report."""

from __future__ import annotations

from collections.abc import Sequence

from backtest.engine import BacktestParams
from backtest.prepared import Prepared
from settings.durations import format_duration


def reentry_text(params: BacktestParams, timeframe_ms: int) -> str:
    if params.reentry_bars is None:
        return "none"
    hours = params.reentry_bars * timeframe_ms / 3_600_000
    return f"after:{hours / 24:g}d" if hours % 24 == 0 else f"after:{hours:g}h"


def model_assumptions(params: BacktestParams, m: Prepared, extra: Sequence[str] = ()
                      ) -> list[str]:
    """The model's assumptions for ``params`` over the prepared market ``m``."""
    p, c = params, params.costs
    fee = f"{c.taker_fee:.4%}" if c.taker_fee is not None else "each instrument's taker fee"
    hedge_lev = p.hedge_leverage or p.leverage
    book = m.book
    bar = format_duration(m.snap.timeframe_ms / 1000)
    if p.margin == "cross":
        margin = [
            "Margin: cross (one account): the main book and the hedges share the collateral. "
            "The account's maintenance margin is the sum over its positions (netted per "
            "symbol) of the exchange's tier maintenance: OKX |n|·P·(mmr + taker fee) with the "
            "tier chosen by size in contracts (0.4 % when a symbol has no tiers), Binance "
            "|n|·P·mmr − cum with the bracket chosen by notional.",
            "Cross liquidation: checked every bar at three points — every symbol at its close, "
            "all at their lows together, all at their highs together (correlated coins bottom "
            f"in the same minutes; a hedge that spikes while the main falls inside one {bar} "
            "bar is not seen). When equity meets the maintenance margin every position is closed "
            "and the account's remaining equity is lost: OKX's full liquidation for tier 1–2 "
            "positions, at the bankruptcy price, with the rest to the insurance fund. Partial "
            "liquidation (tier 3 and above, and Binance's first reduce-only attempt) is not "
            "modelled: these positions are far below those sizes.",
            f"Collateral: {p.capital:g} USDT deposited at each entry; at each hedge fill the "
            "trader deposits what OKX asks for to place it — enough that equity covers the "
            f"initial margin of everything held (main at {p.leverage:g}x, hedges at "
            f"{hedge_lev:g}x, at the fill prices) plus the fill's fee and slippage. Nothing is "
            "ever withdrawn. Returns, drawdowns and hedge cost are fractions of this total "
            "collateral.",
        ]
    else:
        margin = [
            f"Margin: isolated: every leg has its own margin — the main {p.capital:g} USDT "
            f"(split by weight in a book), each hedge leg notional / {hedge_lev:g}x — and its "
            "liquidation price from core.liquidation (OKX's isolated formula with the tier's "
            "mmr and the taker fee, Binance's bracket formula for notional tiers, the flat "
            "default mmr without tiers), fixed while the leg is unchanged and checked every bar "
            "against the bar's low (longs) / high (shorts).",
            "Isolated liquidation: a leg loses exactly its margin. A hedge leg's liquidation "
            "leaves the rest open and the strategy's next decision may reopen it; a main leg's "
            "liquidation ends the life: the rest of the book and the hedges are closed at that "
            "bar's close with fees and slippage.",
            f"Collateral: {p.capital:g} USDT deposited at each entry (less any cash the account "
            "still holds); at each hedge fill the trader deposits what is needed for the free "
            "cash (cash less the isolated margins held) to cover the new legs' margins plus the "
            "fill's fee and slippage. Nothing is ever withdrawn. Returns, drawdowns and hedge "
            "cost are fractions of this total collateral.",
        ]
    reentry = ("Re-entry: none — after a liquidation the account stays flat to the end."
               if p.reentry_bars is None else
               f"Re-entry: {reentry_text(p, m.snap.timeframe_ms)} after a liquidation the "
               "trader deposits the capital again and reopens the main book at the open; the "
               "strategy starts afresh (no state, no hedge).")
    if book.single:
        main = (f"Main position: {book.side} {book.label()}, notional = capital "
                f"{p.capital:g} USDT × {p.leverage:g} at the open of the entry bar; never "
                "resized.")
    else:
        main = (f"Main book: {book.side} {book.label()}, notional = capital {p.capital:g} USDT "
                f"× {p.leverage:g} split by weight at the open of the entry bar; the legs are "
                "never resized. Strategies see the book as one position in a constant-weight "
                "index of its constituents (column BOOK), so the held book drifts from those "
                "weights by the constituents' relative moves.")
    return [
        main, *margin, reentry,
        "Decisions at a bar's close see data up to that close only; trades fill at the next "
        "bar's open. The first hedge is therefore set one bar after the main is opened.",
        f"Rebalancing: the shared policy (plugins/strategies/rebalance.py) with threshold "
        f"{p.rebalance_threshold:.0%} of the main's notional; a changed leg is closed and "
        "reopened at the fill price.",
        f"Fees: taker {fee} of the traded notional on every change; the main's opening fee "
        "is included; nothing is closed at the end (no exit fee; marked at the last close).",
        f"Slippage: fraction = {c.k_vol:g} × σ of the symbol's log returns over the previous "
        f"{c.window} bars + {c.k_size:g} × order notional / mean bar volume notional over the "
        f"same bars, capped at {c.max_slippage:.0%}; booked as a cost, fills at the bar's open.",
        "Funding: paid (longs, positive rate) or received (shorts) at each funding time on "
        "size × the open of the bar holding that time, by the legs held before that open, "
        "from the account's cash.",
        *m.funding_notes,
        "Stress windows: bars whose cascade score (core.cascade_series, the causal score the "
        "live alerts use) is 50 or more (level high or cascade), padded 4 h before and 24 h "
        "after; the padding is for grading only and feeds no decision.",
        *extra,
    ]
