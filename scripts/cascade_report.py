"""The cascade calibration's numbers and files: lead times per crash, alerts per 30 calm
days, precision and recall per level, the fitted model, and what each level has meant
(the history line every cascade alert carries). Used by ``calibrate_cascade.py``."""

from __future__ import annotations

import hashlib
import json
import pprint
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.cascade import CascadeModel
from core.cascade_fit import HitRate, bridged_starts, hit_rates, lead_before, per_30_calm_days

LEVEL = {1: "elevated", 2: "high", 3: "cascade"}
LOOKBACK = 96  # a warning counts if it came within 24 h before the worst bar
TF_MIN = 15
DROPS = (0.03, 0.05, 0.10)
VARIANTS = {"new": "this score", "candles": "candles only", "seed": "seed score (main)"}


def when(t: int) -> str:
    return datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def lead_text(bars: int | None) -> str:
    """Bars from the warning's bar to the worst bar, as time from the alert (at the close of
    its bar) to the start of the worst bar."""
    if bars is None:
        return "—"
    m = (bars - 1) * TF_MIN
    return f"{m // 60}h{m % 60:02d}" if m >= 60 else f"{m} min"


def crash_rows(streams: Sequence[Any], crashes: Sequence[tuple[str, str, str, str]],
               levels_of: Callable[..., np.ndarray]) -> list[dict[str, Any]]:
    by = {s.key: s for s in streams}
    rows = []
    for name, key, a, b in crashes:
        s = by[key]
        w_idx = np.flatnonzero(s.span(a, b) & np.isfinite(s.market))
        worst = int(w_idx[np.argmin(s.market[w_idx])])
        row: dict[str, Any] = {"crash": name, "stream": key, "worst": when(int(s.times[worst])),
                               "worst_return": float(s.market[worst]),
                               "scored": bool(np.isfinite(s.oos["new"][worst]))}
        for v in VARIANTS:
            lv = levels_of(s, v)
            before = s.oos[v][max(0, worst - LOOKBACK):worst]
            row[v] = {LEVEL[lvl]: lead_before(lv, worst, lvl, LOOKBACK) for lvl in LEVEL}
            row[v]["peak"] = float(np.nanmax(before)) if np.isfinite(before).any() else None
            early = s.oos[v][max(0, worst - LOOKBACK):max(0, worst - 1)]
            row[v]["peak_15min_before"] = (float(np.nanmax(early)) if np.isfinite(early).any()
                                           else None)
        rows.append(row)
    return rows


def fall_rows(streams: Sequence[Any], levels_of: Callable[..., np.ndarray],
              drop: float = 0.10) -> list[dict[str, Any]]:
    """Every run of bars followed by a ``drop`` fall within 4 h in the scored timeline: the
    crashes nobody picked. Lead is to the run's first bar (the fall is all ahead)."""
    rows = []
    for s in streams:
        keep = s.span(*s.primary) & np.isfinite(s.oos["new"])
        on = keep & (np.nan_to_num(s.drop) >= drop)
        for i in np.flatnonzero(on & ~np.concatenate([[False], on[:-1]])):
            lv = levels_of(s, "new")
            rows.append({"stream": s.key, "start": when(int(s.times[i])),
                         "drop": float(s.drop[i]),
                         **{LEVEL[lvl]: lead_before(lv, int(i), lvl, LOOKBACK)
                            for lvl in LEVEL}})
    return rows


def pooled(streams: Sequence[Any], variant: str, levels_of: Callable[..., np.ndarray],
           starts_of: Callable[..., dict[int, np.ndarray]], primary: bool = True
           ) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Alert starts, levels, drops, calm mask and scores of the scored timeline, joined."""
    st: dict[int, list[np.ndarray]] = {1: [], 2: [], 3: []}
    lv, dr, calm, sc = [], [], [], []
    off = 0
    for s in streams:
        keep = np.isfinite(s.oos[variant])
        if primary:
            keep &= s.span(*s.primary)
        idx = np.flatnonzero(keep)
        if not idx.size:
            continue
        sub = type(s)(s.key, s.title, s.folder, s.primary)
        sub.oos = {k: v[idx] for k, v in s.oos.items()}
        for lvl, v in starts_of(sub, variant).items():
            st[lvl].append(v + off)
        lv.append(levels_of(sub, variant))
        dr.append(s.drop[idx])
        calm.append(s.calm[idx])
        sc.append(s.oos[variant][idx])
        off += idx.size
    return ({k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in st.items()},
            np.concatenate(lv), np.concatenate(dr), np.concatenate(calm), np.concatenate(sc))


def rates_table(rates: list[HitRate]) -> list[str]:
    out = ["| level | fall ≥ | alerts | followed by the fall (precision) | falls | warned "
           "while ahead (recall) |", "|---|---|---|---|---|---|"]
    for r in rates:
        p = f"{r.hits} ({r.precision:.0%})" if r.alerts else "0 (—)"
        c = f"{r.caught} ({r.recall:.0%})" if r.events else "0 (—)"
        out.append(f"| {LEVEL[r.level]} | {r.drop:.0%} | {r.alerts} | {p} | {r.events} | {c} |")
    return out


def model_table(m: CascadeModel) -> list[str]:
    out = ["| factor | kind | ramp lo → hi | weight | cap |", "|---|---|---|---|---|"]
    for k, r in m.factors.items():
        out.append(f"| {r.label} (`{k}`) | {'candle' if r.core else 'evidence'} | "
                   f"{r.lo:.4g} → {r.hi:.4g} | {r.weight:.3f} | "
                   f"{'—' if r.cap is None else f'{r.cap:.2f}'} |")
    return out


def rounded(m: CascadeModel) -> CascadeModel:
    """Four significant figures: what the numbers can bear, and a file one can read."""
    def g(x: float) -> float:
        return float(f"{x:.4g}")

    factors = {k: replace(r, weight=round(r.weight, 4), lo=g(r.lo), hi=g(r.hi))
               for k, r in m.factors.items()}
    knots = tuple(round(k, 4) for k in m.knots)
    return CascadeModel(factors, (knots[0], knots[1], knots[2]), m.fit_id)


def write_model(path: Path, m: CascadeModel) -> None:
    body = pprint.pformat(m.to_dict(), sort_dicts=False, width=96)
    path.write_text(
        '"""The cascade score\'s fitted numbers, written by '
        "``scripts/calibrate_cascade.py --write``:\ndo not edit by hand. Candle factors (no "
        "``cap``) are fitted walk-forward on real 15-minute\nbars; evidence factors (with a "
        '``cap``) are set by hand, see ``docs/cascade-calibration.md``."""\n\n'
        f"FITTED = {body}\n")


def history(rates: list[HitRate], alerts30: dict[int, float], first: int, last: int,
            fit_id: str) -> dict[str, Any]:
    """What each level has meant out of sample: the alert's history line reads this."""
    span = (f"{datetime.fromtimestamp(first / 1000, UTC):%Y-%m}–"
            f"{datetime.fromtimestamp(last / 1000, UTC):%Y-%m}")
    levels = {}
    for lvl, name in LEVEL.items():
        rs = [r for r in rates if r.level == lvl]
        levels[name] = {"alerts": rs[0].alerts if rs else 0,
                        "alerts_per_30_calm_days": round(alerts30[lvl], 2),
                        "falls": {f"{r.drop:.2f}": {"hits": r.hits,
                                                   "precision": round(r.precision, 3)
                                                   if r.alerts else None,
                                                   "recall": round(r.recall, 3)
                                                   if r.events else None} for r in rs}}
    return {"fit_id": fit_id, "period": span, "horizon_hours": 4,
            "data": "OKX 2022 (9 perps), OKX BTC 2023, Binance USDT-M 2024–2026 (3–5 perps), "
                    "15-minute bars, scored out of sample", "levels": levels}


def write_outputs(streams: Sequence[Any], crashes: Sequence[tuple[str, str, str, str]],
                  fits: dict[int, CascadeModel], final: CascadeModel,
                  levels_of: Callable[..., np.ndarray],
                  starts_of: Callable[..., dict[int, np.ndarray]], root: Path, *,
                  write: bool) -> dict[str, Any]:
    from scripts.cascade_doc import render  # the markdown, kept apart to keep this file short

    final = rounded(final)
    fit_id = "wf-" + hashlib.sha1(json.dumps(final.to_dict(), sort_keys=True).encode()
                                  ).hexdigest()[:10]
    final = CascadeModel(final.factors, final.knots, fit_id)
    crash = crash_rows(streams, crashes, levels_of)
    results: dict[str, Any] = {}
    for v in VARIANTS:
        st, lv, dr, calm, _ = pooled(streams, v, levels_of, starts_of)
        results[v] = {"rates": hit_rates(st, lv, dr, DROPS),
                      "per30": {lvl: per_30_calm_days(st[lvl], calm) for lvl in LEVEL},
                      "calm_days": float(calm.sum() / 96)}
    per_stream: dict[str, dict[str, Any]] = {}
    for s in streams:
        row: dict[str, Any] = {}
        for v in VARIANTS:
            st = starts_of(s, v)
            ok = np.isfinite(s.oos[v])
            row[v] = {LEVEL[lvl]: per_30_calm_days(st[lvl], s.calm & ok) for lvl in LEVEL}
        row["calm_days"] = float((s.calm & np.isfinite(s.oos["new"])).sum() / 96)
        per_stream[s.key] = row
    # what a cascade cut low enough to catch each missed crash would cost in calm alerts
    _, _, _, calm, score = pooled(streams, "new", levels_of, starts_of)
    costs: dict[str, dict[str, float]] = {}
    for r in crash:
        p = r["new"]["peak_15min_before"]
        if r["scored"] and p is not None and (r["new"]["cascade"] or 0) < 2:
            starts = bridged_starts(score >= p, 4)
            costs[r["crash"]] = {"score": p, "per30": per_30_calm_days(starts, calm)}
    scored = [s for s in streams if np.isfinite(s.oos["new"]).any()]
    first = min(int(s.times[np.isfinite(s.oos["new"])][0]) for s in scored)
    last = max(int(s.times[np.isfinite(s.oos["new"])][-1]) for s in scored)
    hist = history(results["new"]["rates"], results["new"]["per30"], first, last, fit_id)
    falls = fall_rows(streams, levels_of)
    doc = render(streams, crash, results, per_stream, costs, final, fits, hist,
                 model_table, rates_table, lead_text, falls)
    if write:
        write_model(root / "core" / "cascade_fitted.py", final)
        (root / "plugins" / "alert_rules" / "cascade_history.json").write_text(
            json.dumps(hist, indent=1, ensure_ascii=False) + "\n")
        (root / "docs" / "cascade-calibration.md").write_text(doc)
    else:
        print(doc)
    return {"fit_id": fit_id, "knots": final.knots,
            "crashes": {r["crash"]: {lv: lead_text(r["new"][lv]) for lv in LEVEL.values()}
                        for r in crash},
            "per30": {LEVEL[k]: round(v, 2) for k, v in results["new"]["per30"].items()}}
