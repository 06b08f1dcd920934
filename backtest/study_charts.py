"""The study's charts: survival with its interval and the distribution of returns per
account (one PNG), and one start's curves per strategy with stress windows shaded (another)."""

from __future__ import annotations

from typing import Any

import numpy as np

from backtest.charts import captioned_png, chart_fonts, draw_equity, equity_caption
from backtest.engine import BacktestResult
from backtest.study import Study
from backtest.study_report import NONE


def _labels(study: Study, leverage: float) -> list[tuple[str, str]]:
    """(outcome key, label) of every account, strategies first, then the baselines."""
    keys = [k for k in study.outcomes if k != NONE and not k.startswith("matched:")]
    out = [(k, k) for k in keys]
    if NONE in study.outcomes:
        out.append((NONE, f"none {leverage:g}x"))
    for k in keys:
        m = f"matched:{k}"
        if k != "none" and m in study.outcomes:
            lev = float(np.median(study.outcomes[m]["leverage"]))
            out.append((m, f"matched {k}\n({lev:.1f}x)"))
    return out


@chart_fonts
def study_chart(study: Study, data: dict[str, Any], title: str) -> bytes:
    """PNG bytes: survival bars with 95 % intervals (left), returns per start (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = _labels(study, float(data["leverage"]))
    fig, (ax_s, ax_r) = plt.subplots(1, 2, figsize=(13, 5.5),
                                     gridspec_kw={"width_ratios": [1, 1.4]})
    x = np.arange(len(labels))
    surv = [float(np.mean(study.outcomes[k]["survived"])) * 100 for k, _ in labels]
    colors = ["C0" if not k.startswith(("matched:", NONE)) else "0.6" for k, _ in labels]
    ax_s.bar(x, surv, color=colors)
    dist = {**data["strategies"], **({NONE: data["baselines"]["none"]}
                                     if data["baselines"]["none"] else {}),
            **{f"matched:{k}": v for k, v in data["baselines"]["matched"].items()}}
    for i, (k, _) in enumerate(labels):
        ci = (dist.get(k) or {}).get("survival_ci")
        if ci:
            ax_s.errorbar(i, surv[i], yerr=[[surv[i] - ci[0] * 100], [ci[1] * 100 - surv[i]]],
                          color="black", capsize=4, lw=1)
    ax_s.set_xticks(x, [lbl for _, lbl in labels], rotation=60, ha="right", fontsize=8)
    ax_s.set_ylim(0, 105)
    ax_s.set_ylabel(f"survival over {data['horizon']}, % of starts")
    ax_s.set_title("survival (95 % block-bootstrap interval)", fontsize=9)
    returns = [study.outcomes[k]["return"] * 100 for k, _ in labels]
    ax_r.boxplot(returns, whis=(5, 95), showfliers=True, flierprops={"markersize": 3})
    for i, r in enumerate(returns, start=1):
        ax_r.plot(np.full(r.size, i) + np.linspace(-0.15, 0.15, r.size), r, ".", ms=2,
                  color=colors[i - 1], alpha=0.5)
    ax_r.axhline(0, color="0.5", lw=0.6)
    claim = data["seed_claim"]["strategies"]
    for i, (k, _) in enumerate(labels, start=1):
        if k in claim:
            ax_r.plot(i, claim[k]["claimed"] * 100, marker="*", ms=12, color="red")
    ax_r.set_xticks(np.arange(1, len(labels) + 1), [lbl for _, lbl in labels], rotation=60,
                    ha="right", fontsize=8)
    ax_r.set_ylabel("return on total collateral, %")
    ax_r.set_title("returns per start (box 25–75 %, whiskers 5–95 %; red star: the seed's "
                   "claim)", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return captioned_png(fig, "grey: unhedged baselines" +
                         ("  — SIMULATED market" if data["simulated"] else ""), dpi=90, top=0.96)


@chart_fonts
def example_chart(result: BacktestResult, title: str) -> bytes:
    """PNG bytes: one start's P&L, drawdown and main price per strategy (see
    ``backtest.charts.draw_equity``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.4, 1.1]})
    draw_equity(result, axes, title)
    return captioned_png(fig, equity_caption(result), dpi=90)
