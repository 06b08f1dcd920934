"""What a backtest is asked to do, and turning it into engine parameters.

One request type for the CLI (``bot.py backtest``) and ``/backtest``: a single window
(``days`` or ``start``/``end``) or, with ``rolling``, a study of many starts over the data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from backtest.costs import CostParams
from backtest.engine import MARGIN_MODES, BacktestParams
from i18n import _, ngettext
from settings.config import Config
from settings.durations import Duration

DEFAULT_STRATEGIES = ("none", "static", "min_variance", "seed_regime", "counterweight")
BASELINES = ("none", "matched")


class BacktestUsageError(ValueError):
    """A request that cannot be run as asked (dates outside the data, unknown strategy)."""


@dataclass(frozen=True)
class BacktestRequest:
    """What to backtest. Times are Unix ms; ``days`` counts back from ``end_ms`` (or from the
    end of the data) unless ``start_ms`` is given. With ``rolling`` it is a study: one start
    every ``rolling`` over the range (all the data by default), each ``horizon`` long."""

    main: str = "BTC"  # one symbol, or a book: "BTC,ETH,SOL"
    side: str = "long"
    days: float | None = 90.0
    start_ms: int | None = None
    end_ms: int | None = None
    leverage: float = 10.0
    capital: float = 2000.0
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    symbols: tuple[str, ...] | None = None
    mark_dir: str | None = None
    rebalance_threshold: float | None = None  # None: [strategies] rebalance_threshold
    extra_assumptions: tuple[str, ...] = field(default=())
    weights: tuple[float, ...] | None = None  # of the book's symbols (equal when None)
    margin: str = "cross"
    reentry: str = "none"  # "none" | "after:<duration>", e.g. "after:1d"
    rolling: str | None = None  # a study: one start every ... ("7d")
    horizon: str = "90d"  # each start's length in a study
    baseline: str = "matched"  # "none": only the unhedged main; "matched": both baselines
    fees: float | None = None  # taker fee rate; None: [risk] taker_fee
    slippage: float = 1.0  # scale of the slippage model; 0: none
    funding: bool = True
    workers: int | None = None  # processes for a study; None: one per core
    hedge_leverage: float | None = None

    def __post_init__(self) -> None:
        if self.margin not in MARGIN_MODES:
            raise BacktestUsageError(_("--margin must be cross or isolated, not {value!r}"
                                       ).format(value=self.margin))
        if self.baseline not in BASELINES:
            raise BacktestUsageError(_("--baseline must be none or matched, not {value!r}"
                                       ).format(value=self.baseline))
        if self.fees is not None and not 0 <= self.fees < 0.1:
            raise BacktestUsageError(_("--fees is a taker fee rate between 0 and 0.1, e.g. "
                                       "0.0005"))
        if not 0 <= self.slippage <= 100:
            raise BacktestUsageError(_("--slippage is a scale of the slippage model: 0 (none), "
                                       "1 (the model), up to 100"))
        reentry_duration(self.reentry)
        if self.rolling is not None:
            duration(self.rolling, "--rolling")
        duration(self.horizon, "--horizon")

    @property
    def main_symbols(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.main.split(",") if x.strip())

    @property
    def study(self) -> bool:
        return self.rolling is not None


def duration(text: str, flag: str) -> Duration:
    try:
        return Duration.parse(text)
    except ValueError as e:
        raise BacktestUsageError(_("{flag}: {error}").format(flag=flag, error=e)) from None


def reentry_duration(text: str) -> Duration | None:
    """``none`` → None; ``after:1d`` → one day."""
    if text == "none":
        return None
    if not text.startswith("after:"):
        raise BacktestUsageError(_("--reentry must be none or after:<duration> (e.g. "
                                   "after:1d), not {value!r}").format(value=text))
    return duration(text.removeprefix("after:"), "--reentry")


def costs_of(request: BacktestRequest, config: Config) -> CostParams:
    base = CostParams()
    return CostParams(
        taker_fee=request.fees if request.fees is not None else config.risk.taker_fee,
        k_vol=base.k_vol * request.slippage, k_size=base.k_size * request.slippage,
        funding=request.funding)


def _resolve(text: str, resolve: Callable[[str], str], symbols: Sequence[str]) -> str:
    """The data's name for ``text``; a symbol the market does not know is a usage error that
    lists what the data hold (the market's own error names only the one asked for)."""
    try:
        return resolve(text)
    except ValueError:  # plugins.exchanges.errors.UnknownSymbol
        raise BacktestUsageError(_("{symbol} is not in the data ({symbols}); choose the main "
                                   "with --main").format(symbol=text, symbols=", ".join(symbols))
                                 ) from None


def params_of(request: BacktestRequest, symbols: Sequence[str], start: int, config: Config,
              resolve: Callable[[str], str]) -> BacktestParams:
    """Engine parameters, with the main book's symbols resolved and checked against
    ``symbols`` (the snapshot's)."""
    mains = [_resolve(s, resolve, symbols) for s in request.main_symbols]
    if not mains:
        raise BacktestUsageError(_("--main needs a symbol, e.g. --main BTC"))
    for text, sym in zip(request.main_symbols, mains, strict=True):
        if sym not in symbols:
            raise BacktestUsageError(_("{symbol} is not in the data ({symbols})").format(
                symbol=text, symbols=", ".join(symbols)))
    if request.weights is not None and len(request.weights) != len(mains):
        raise BacktestUsageError(ngettext(
            "--weights gives {numbers} numbers for {n} main symbol",
            "--weights gives {numbers} numbers for {n} main symbols", len(mains)).format(
                numbers=len(request.weights), n=len(mains)))
    if len(set(mains)) != len(mains):
        raise BacktestUsageError(_("a symbol appears twice in --main"))
    weights: tuple[tuple[str, float], ...] = ()
    if len(mains) > 1 or request.weights is not None:
        w = request.weights or tuple(1.0 for _ in mains)
        if not all(x > 0 for x in w):
            raise BacktestUsageError(_("--weights must be positive numbers"))
        weights = tuple((s, x / sum(w)) for s, x in zip(mains, w, strict=True))
        if len(mains) == 1:
            weights = ()
    thr = (request.rebalance_threshold if request.rebalance_threshold is not None
           else config.strategies.rebalance_threshold)
    tf = config.exchange.timeframe
    again = reentry_duration(request.reentry)
    return BacktestParams(
        main=mains[0], side=request.side, leverage=request.leverage, capital=request.capital,
        start=start, rebalance_threshold=thr, costs=costs_of(request, config),
        hedge_leverage=request.hedge_leverage, margin=request.margin,
        reentry_bars=again.bars(tf) if again is not None else None, weights=weights)
