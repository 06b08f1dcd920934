"""The report ``scripts/calibrate_risk.py`` writes: ``docs/risk-calibration.md`` and its
reliability diagrams, from the cases of ``backtest.risk_calibration`` and the pre-registered
samples of ``backtest.risk_checks`` (markdown tables, one PNG per horizon)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from backtest.risk_calibration import CaseArrays, SafeCases, later_half
from backtest.risk_checks import Sample
from backtest.risk_scores import Bin, brier, log_loss, passes, reliability
from core.tail_calibration import BinnedMap, TouchCalibration
from core.tail_risk import HORIZONS_H, TailParams

DOCS = Path(__file__).resolve().parent.parent / "docs"
TARGET = 0.01  # the safe-leverage target the report checks (1 % in 24 h)


def _pct(x: float, digits: int = 2) -> str:
    return f"{x * 100:.{digits}f} %"


def bin_table(models: Sequence[tuple[str, Sequence[Bin]]]) -> list[str]:
    rows = ["| model | bin | cases | effective | predicted | realised | 95 % interval | |",
            "|---|---|---:|---:|---:|---:|---|---|"]
    for name, bins in models:
        for b in bins:
            verdict = ("ok" if b.inside else "**outside**") if b.tested else "too few"
            rows.append(f"| {name} | {b.lo:g}–{b.hi:g} | {b.n:,} | {b.n_eff:,.0f} | "
                        f"{_pct(b.predicted)} | {_pct(b.realised)} | "
                        f"{_pct(b.ci_lo)} – {_pct(b.ci_hi)} | {verdict} |")
    return rows


def chart(path: Path, hours: int, fhs: Sequence[Bin], gauss: Sequence[Bin],
          raw: Sequence[Bin]) -> None:
    """Reliability diagram of the held-out half: realised against predicted, log-log, with
    the 95 % interval each bin's prediction allows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.0), dpi=110)
    lo = 1e-4
    ax.plot([lo, 1], [lo, 1], color="0.6", lw=1, label="perfect")
    for bins, colour, mark, label in ((fhs, "tab:blue", "o", "tail model, as reported"),
                                      (raw, "tab:green", "x", "tail model before the map"),
                                      (gauss, "tab:orange", "s", "Gaussian (the old model)")):
        x = np.array([max(b.predicted, lo) for b in bins])
        y = np.array([max(b.realised, lo) for b in bins])
        err = np.array([[max(b.predicted - b.ci_lo, 0) for b in bins],
                        [max(b.ci_hi - b.predicted, 0) for b in bins]])
        if bins is not raw:  # the bands of the model before the map would hide the others
            ax.errorbar(x, x, yerr=err, fmt="none", ecolor=colour, alpha=0.35, lw=4)
        ax.plot(x, y, mark, color=colour, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, 1.2)
    ax.set_ylim(lo, 1.2)
    ax.set_xlabel(f"predicted chance to touch within {hours} h")
    ax.set_ylabel("realised touch rate")
    ax.set_title(f"Reliability, {hours} h, held-out half\n(bands: 95 % interval of the "
                 "prediction)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def scores_table(c: CaseArrays, held: np.ndarray) -> list[str]:
    rows = ["| horizon | cases | part | Brier: tail model (before the map) | Brier: Gaussian | "
            "log loss: tail model (before the map) | log loss: Gaussian |",
            "|---|---:|---|---:|---:|---:|---:|"]
    for h in HORIZONS_H:
        y, raw = c.touched[h], c.before_map()[h]
        for part, m in (("all", np.ones_like(held)), ("first half", ~held),
                        ("held-out half", held)):
            rows.append(f"| {h} h | {int(m.sum()):,} | {part} | {brier(c.fhs[h][m], y[m]):.5f} "
                        f"({brier(raw[m], y[m]):.5f}) | {brier(c.gauss[h][m], y[m]):.5f} | "
                        f"{log_loss(c.fhs[h][m], y[m]):.4f} ({log_loss(raw[m], y[m]):.4f}) | "
                        f"{log_loss(c.gauss[h][m], y[m]):.4f} |")
    return rows


def dataset_table(c: CaseArrays, hours: int) -> list[str]:
    rows = ["| dataset | cases | touched | Brier: tail / Gaussian | log loss: tail / Gaussian |",
            "|---|---:|---:|---|---|"]
    y = c.touched[hours]
    for ds in dict.fromkeys(c.dataset.tolist()):
        m = c.dataset == ds
        rows.append(f"| {ds} | {int(m.sum()):,} | {_pct(float(y[m].mean()), 1)} | "
                    f"{brier(c.fhs[hours][m], y[m]):.5f} / {brier(c.gauss[hours][m], y[m]):.5f}"
                    f" | {log_loss(c.fhs[hours][m], y[m]):.4f} / "
                    f"{log_loss(c.gauss[hours][m], y[m]):.4f} |")
    return rows


def safe_table(s: SafeCases, held: np.ndarray) -> list[str]:
    rows = ["| part | positions | tail model: median leverage | tail model: touched | "
            "before the map: touched | Gaussian: median leverage | Gaussian: touched |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    parts = [("all", np.ones_like(held)), ("first half", ~held), ("held-out half", held)]
    parts += [(ds, s.dataset == ds) for ds in dict.fromkeys(s.dataset.tolist())]
    for part, m in parts:
        rows.append(f"| {part} | {int(m.sum()):,} | {np.median(s.fhs_leverage[m]):.1f}× | "
                    f"{_pct(float(s.fhs_touched[m].mean()))} | "
                    f"{_pct(float(s.raw_touched[m].mean()))} | "
                    f"{np.median(s.gauss_leverage[m]):.1f}× | "
                    f"{_pct(float(s.gauss_touched[m].mean()))} |")
    return rows


def map_lines(cal: TouchCalibration) -> list[str]:
    """The recalibration map the report's numbers went through."""
    rows = ["| horizon | form | 1 % becomes | 3 % becomes | 7 % becomes | 15 % becomes | "
            "50 % becomes | 80 % becomes |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for h in HORIZONS_H:
        m = cal.at(h)
        q = m.apply(np.array([0.01, 0.03, 0.07, 0.15, 0.5, 0.8]))
        form = (f"binned, {len(m.knots)} knots" if isinstance(m, BinnedMap) else
                "none" if m.is_identity else f"beta: c = {m.c:+.4f}, a = {m.a:.4f}, "
                                              f"b = {m.b:.4f}")
        rows.append(f"| {h} h | {form} | " + " | ".join(_pct(float(x)) for x in q) + " |")
    return [f"Fitted on {cal.fitted_on} (`scripts/calibrate_risk.py --fit-map`); the held-out "
            "half played no part in it. 1 h: logit q = c + a·ln p − b·ln(1 − p); 4 h and "
            "24 h: linear in logit through the realised rates of the first half's bins "
            "([risk-model.md](risk-model.md)).", "", *rows]


def verdict(bins: Sequence[Bin]) -> str:
    out = [f"{b.lo:g}–{b.hi:g}" for b in bins if b.tested and not b.inside]
    return ("every tested bin inside its interval" if not out else
            f"{len(out)} of {sum(b.tested for b in bins)} tested bins outside "
            f"their intervals ({', '.join(out)})")


def check_lines(sample: Sample, c: CaseArrays, s: SafeCases) -> list[str]:
    """One pre-registered sample (``backtest.risk_checks``): its 24 h verdict and table."""
    y24 = c.touched[24]
    fb = reliability(c.fhs[24], y24, c.time_ms)
    lines = [f"### {sample.title}", "", f"{sample.about[0].upper()}{sample.about[1:]}: "
             f"{c.time_ms.size:,} cases. **24 h: {'met' if passes(fb) else 'not met'}** — "
             f"{verdict(fb)}."]
    for h in (1, 4):
        lines.append(f"{h} h: {verdict(reliability(c.fhs[h], c.touched[h], c.time_ms))}.")
    lines += ["", "| horizon | Brier: tail / Gaussian | log loss: tail / Gaussian |",
              "|---|---|---|"]
    for h in HORIZONS_H:
        y = c.touched[h]
        lines.append(f"| {h} h | {brier(c.fhs[h], y):.5f} / {brier(c.gauss[h], y):.5f} | "
                     f"{log_loss(c.fhs[h], y):.4f} / {log_loss(c.gauss[h], y):.4f} |")
    lines += ["", f"Safe leverage at a {_pct(TARGET, 0)} 24 h target: {s.fhs_touched.size:,} "
              f"positions, touched {_pct(float(s.fhs_touched.mean()))} (Gaussian "
              f"{_pct(float(s.gauss_touched.mean()))}).", "",
              *bin_table([("tail model", fb)]), ""]
    return lines


def report(c: CaseArrays, s: SafeCases, every_h: float, seconds: float,
           checks: Sequence[tuple[Sample, CaseArrays, SafeCases]] = (),
           docs: Path = DOCS) -> list[str]:
    held = c.held_out()
    sheld = later_half(s.dataset, s.time_ms)
    lines = ["# Risk calibration: predicted touch probabilities against what happened", "",
             "Written by `python scripts/calibrate_risk.py` (method in "
             "`backtest/risk_calibration.py`, model in [risk-model.md](risk-model.md)). "
             f"Every {every_h:g} h of every dataset, for each symbol and side, three positions "
             "with leverages drawn log-uniformly from 2× to 100× (OKX isolated liquidation "
             "price, tier-1 mmr 0.4 %, taker fee 0.05 %); each model predicts from the 30 days "
             "of bars the live bot would have held at that moment, nothing later. A position "
             "counts as touched when a later bar's low (long) or high (short) reaches its "
             "liquidation price. The settings and the recalibration maps were chosen on the "
             "first half of each of the five calibration datasets (not the two Binance 1 h "
             "folders, which no choice used); the second half of every dataset is held out. "
             "\"Tail model\" is what "
             "the bot reports (through the map); \"before the map\" is the simulation's own "
             "probability.", "",
             f"{c.time_ms.size:,} cases ({seconds:.0f} s). Intervals use an effective sample "
             "size: the cluster-robust variance of each bin's realised rate with 3-day "
             "calendar clusters over all symbols and datasets (cases overlap in time and "
             "crash together) against the binomial variance; a bin is tested when it expects "
             "at least 5 touches and 5 misses at that size.", "", "## Scores", "",
             *scores_table(c, held), ""]
    lines += ["## The recalibration map", "", *map_lines(TailParams().calibration), ""]
    if checks:
        lines += ["## The pre-registered 24 h checks", "",
                  "Each sample below is judged by the issue's criterion at 24 h (every tested "
                  "bin inside its interval); how each was chosen, and in what order they were "
                  "read, is in [risk-model.md](risk-model.md). With a case every "
                  f"{every_h:g} h; the tests run the same with a case a day.", ""]
        for sample, cc, ss in checks:
            lines += check_lines(sample, cc, ss)
    for h in HORIZONS_H:
        y = c.touched[h]
        fb = reliability(c.fhs[h][held], y[held], c.time_ms[held])
        rb = reliability(c.before_map()[h][held], y[held], c.time_ms[held])
        gb = reliability(c.gauss[h][held], y[held], c.time_ms[held])
        chart(docs / f"risk-calibration-{h}h.png", h, fb, gb, rb)

        lines += [f"## {h} h, held-out half", "",
                  f"Tail model as reported: {verdict(fb)}. Before the map: {verdict(rb)}. "
                  f"Gaussian: {verdict(gb)}.", "",
                  f"![reliability {h} h](risk-calibration-{h}h.png)", "",
                  *bin_table([("tail model", fb), ("before the map", rb), ("Gaussian", gb)]),
                  ""]
    lines += ["## 24 h by dataset (all cases)", "", *dataset_table(c, 24), "",
              f"## Safe leverage at a {_pct(TARGET, 0)} 24 h target", "",
              "The highest leverage each model calls safe for a new position at the close, "
              "and how often a position opened at it was touched within 24 h (the target "
              f"is at most 1.5 × {_pct(TARGET, 0)} = {_pct(1.5 * TARGET, 1)}). The "
              "\"add margin\" advice puts the liquidation price at the same distance from "
              "the price, so the same rate applies to it.", "", *safe_table(s, sheld), ""]
    return lines
