"""/corr: the "real-time" correlation matrix next to the 30-day one, and what changed most.

The matrices are the engine's ``core.views.correlation_view`` on the warm snapshot's closes,
with the parameters ``settings.engine.engine_params`` derives from ``[engine]``: ``fast``/``slow``
pairwise Pearson over the fast and slow windows, ``ewma`` the RiskMetrics matrix. The words are
``core.views.largest_changes`` (fast against slow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chat.charts import data_time
from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import age_text, freshness_data
from chat.context import CommandContext
from chat.first_screens import corr_short
from core.types import MarketSnapshot
from core.views import CorrelationView, correlation_view, largest_changes
from i18n import N_, _
from settings.config import Config
from settings.engine import engine_params

MODES = ("fast", "slow", "ewma")
MAX_SYMBOLS = 30


@dataclass(frozen=True)
class CorrRequest:
    symbols: tuple[str, ...] = ()
    mode: str = "fast"


def corr_view(snap: MarketSnapshot, symbols: list[str] | tuple[str, ...],
              config: Config) -> CorrelationView:
    """The engine's correlation view of ``symbols`` on ``snap`` (the call the tests repeat)."""
    close = snap.close[:, [snap.index(s) for s in symbols]]
    return correlation_view(close, engine_params(config).corr, with_z=False)


def changes(view: CorrelationView, symbols: list[str], n: int = 3) -> list[dict[str, Any]]:
    return [{"pair": [c.a, c.b], "now": c.fast, "base": c.slow, "change": c.change}
            for c in largest_changes(view, symbols, k=n)]


def _short(symbol: str) -> str:
    return symbol.split("-")[0]


def _describe(c: dict[str, Any], mode: str, slow_label: str) -> str:
    a, b = (_short(s) for s in c["pair"])
    text = _("{a}/{b} rose to {now:+.2f} ({mode}) from {base:+.2f} ({slow}), {change:+.2f}") \
        if c["change"] > 0 else \
        _("{a}/{b} fell to {now:+.2f} ({mode}) from {base:+.2f} ({slow}), {change:+.2f}")
    return text.format(a=a, b=b, now=c["now"], mode=mode, base=c["base"], slow=slow_label,
                       change=c["change"])


def _table(symbols: list[str], m: np.ndarray) -> str:
    names = [_short(s)[:5] for s in symbols]
    head = "      " + " ".join(f"{n:>5}" for n in names)
    na = f"{_('n/a'):>5}"
    rows = [f"{n:<5} " + " ".join(na if not np.isfinite(v) else f"{v:5.2f}" for v in row)
            for n, row in zip(names, m, strict=True)]
    return "\n".join([head, *rows])


class Corr(Command):
    name = "corr"
    summary = N_("correlation now vs the 30-day baseline, as a heatmap, and the biggest "
                 "changes")
    usage = N_("/corr [symbols…] [fast|slow|ewma] [full]")
    expandable = True
    examples = ("/corr", "/corr btc eth sol", "/corr btc eth sol ewma")

    def parse(self, args: list[str]) -> CorrRequest:
        mode = "fast"
        symbols: list[str] = []
        for a in args:
            if a.lower() in MODES:
                mode = a.lower()
            elif a.replace("-", "").replace("/", "").replace(":", "").isalnum():
                symbols.append(a)
            else:
                raise ArgumentError(_("I didn't understand '{word}' — list symbols and "
                                      "optionally fast, slow or ewma, e.g. {example}").format(
                    word=a, example=self.examples[2]))
        if len(symbols) == 1:
            raise ArgumentError(_("A correlation needs two symbols or more (or none for all), "
                                  "e.g. {example}").format(example=self.examples[1]))
        if len(symbols) > MAX_SYMBOLS:
            raise ArgumentError(_("At most {n} symbols, e.g. {example}").format(
                n=MAX_SYMBOLS, example=self.examples[1]))
        return CorrRequest(tuple(symbols), mode)

    async def answer(self, request: CorrRequest, ctx: CommandContext) -> Reply:
        s = ctx.services
        if request.symbols:
            resolved = [await s.resolve(t, self.examples[1]) for t in request.symbols]
            symbols = list(dict.fromkeys(resolved))
            if len(symbols) < 2:
                raise ArgumentError(_("Those name one market; give two or more, e.g. {example}"
                                      ).format(example=self.examples[1]))
            snap = await s.snapshot(symbols)
        else:
            snap = await s.snapshot()
            symbols = list(snap.symbols)
        present = [x for x in symbols if x in snap.symbols]
        warnings = [f"{x}: {snap.missing.get(x, _('no data'))}" for x in symbols
                    if x not in snap.symbols]
        if len(present) < 2:
            return Reply(data={"symbols": present, "warnings": warnings},
                         text=[_("Not enough data for a correlation right now."), *warnings])
        view = corr_view(snap, present, s.config)
        m = {"fast": view.fast_corr, "slow": view.slow_corr, "ewma": view.ewma_corr}
        e = s.config.engine
        labels = {"fast": str(e.fast_window), "slow": str(e.slow_window),
                  "ewma": f"EWMA {e.ewma_halflife}"}
        moved = changes(view, present)
        data = {"symbols": present, "fast": m["fast"], "slow": m["slow"], "ewma": m["ewma"],
                "as_of": snap.last_bar_close_ms, "mode": request.mode,
                "windows": labels, "largest_changes": moved, "warnings": warnings,
                "simulated": snap.simulated, **freshness_data(await s.freshness(snap))}
        title = _("Correlation {window}").format(window=labels["slow"]) \
            if request.mode == "slow" else _("Correlation {window} vs {slow}").format(
                window=labels[request.mode], slow=labels["slow"])
        lines = [_("{title} (SIMULATED)").format(title=title) if snap.simulated else title,
                 _table(present, m[request.mode])]
        lines += [_("Largest changes:") if moved else _("No pair has enough data to compare.")]
        lines += [f"  {_describe(c, labels['fast'], labels['slow'])}" for c in moved]
        lines.append(age_text(data["data_age_ms"], data["data_behind"]))
        lines += [f"⚠ {w}" for w in warnings]

        dated = f"{title} · {data_time(snap.last_bar_close_ms)}"

        def chart() -> bytes:
            from chat.charts import corr_heatmaps

            panels = [(labels["slow"], m["slow"])] if request.mode == "slow" else [
                (labels[request.mode], m[request.mode]), (labels["slow"], m["slow"])]
            return corr_heatmaps([_short(x) for x in present], panels, title=dated)

        short = corr_short(data, lambda c: _describe(c, labels["fast"], labels["slow"]))
        return Reply(data=data, text=lines, chart=chart, caption=dated, short=short)
