"""Walk-forward calibration of the liquidation touch probabilities on every dataset in
``../shared/data``: the calibrated tail model against today's Gaussian, per horizon.

For thousands of (symbol, time, side, leverage) cases it compares the predicted chance of
touching the liquidation price within 1 h, 4 h and 24 h with what the bars did, and writes
``docs/risk-calibration.md`` with the reliability tables, Brier score and log loss, the
realised touch rate at the safe leverage, and one reliability diagram per horizon
(``docs/risk-calibration-<h>h.png``). Method: ``backtest/risk_calibration.py``.

    .venv/bin/python scripts/calibrate_risk.py [--data ../shared/data] [--every-hours 4]
    .venv/bin/python scripts/calibrate_risk.py --tune     # the settings grid, first halves only
    .venv/bin/python scripts/calibrate_risk.py --fit-map  # the recalibration map, first halves
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backtest.risk_calibration import (  # noqa: E402
    FITTED_ON,
    Dataset,
    load_datasets,
    walk_forward,
)
from backtest.risk_checks import SAMPLES, sample_cases  # noqa: E402
from backtest.risk_report import DOCS, TARGET, report  # noqa: E402
from backtest.risk_scores import log_loss, reliability  # noqa: E402
from backtest.touch_map_fit import FormScore, first_halves, real_market_maps  # noqa: E402
from core.tail_calibration import UNCALIBRATED, BinnedMap, TouchMap  # noqa: E402
from core.tail_risk import HORIZONS_H, TailParams  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"


def map_code(h: int, m: TouchMap | BinnedMap) -> str:
    """One entry of ``REAL_MARKETS.maps``, as code."""
    if isinstance(m, BinnedMap):
        knots = ", ".join(f"({x:.6g}, {y:.6g})" for x, y in m.knots)
        return f"        ({h}, BinnedMap(knots=({knots}))),"
    return f"        ({h}, TouchMap(c={m.c:.6g}, a={m.a:.6g}, b={m.b:.6g})),"


def tune(datasets: list[Dataset], every_h: float) -> None:
    """Log loss and calibration of a grid of settings on the first half of each dataset
    (the simulation's own probabilities: the map is fitted after, by ``--fit-map``)."""
    grid = [TailParams(halflife_h=hl, blend_1h=b1, blend_slope=sl, calibration=UNCALIBRATED)
            for hl in (4.0, 5.0, 6.0) for b1, sl in ((0.75, 0.06), (0.8, 0.09), (0.7, 0.04))]
    base, _, extra = walk_forward(first_halves(datasets), every_h=every_h, extra_params=grid)
    c = base.arrays()
    for p, ex in zip(grid, extra, strict=True):
        e = ex.arrays()
        for h in HORIZONS_H:
            bins = reliability(e.fhs[h], c.touched[h], c.time_ms)
            print(f"halflife {p.halflife_h:g} h, blend {p.blend_1h:g} − {p.blend_slope:g}·ln h"
                  f" | {h:>2} h: log loss {log_loss(e.fhs[h], c.touched[h]):.5f}, bins "
                  f"outside {sum(b.tested and not b.inside for b in bins)}"
                  f"/{sum(b.tested for b in bins)}")


def fit_map(datasets: list[Dataset], every_h: float) -> None:
    """The recalibration map from the first half of each dataset (``backtest.touch_map_fit``):
    every form's score inside the first half, and the chosen maps as code for
    ``core/tail_calibration.py``."""
    first = first_halves(datasets)
    cases, _, _ = walk_forward(first, every_h=every_h,
                               params=TailParams(calibration=UNCALIBRATED))
    c = cases.arrays()
    spans = []
    for ds in first:
        m = c.dataset == ds.name
        if m.any():
            spans.append(f"{ds.name}: {_day(int(c.time_ms[m].min()))} – "
                         f"{_day(int(ds.snap.times[-1]))}")
    period = (f"the first half of every dataset ({len(c.time_ms):,} cases, a case every "
              f"{every_h:g} h; bars up to {max(_day(int(d.snap.times[-1])) for d in first)})")
    cal, scores = real_market_maps(c, fitted_on=period)
    print("Cases and bars per dataset:", *spans, sep="\n  ")
    print(*form_lines(scores), sep="\n")
    print("\nREAL_MARKETS = TouchCalibration(\n    maps=(")
    for h, m in cal.maps:
        print(map_code(h, m))
    print(f"    ),\n    fitted_on=\"{period}\",\n)")


def form_lines(scores: Sequence[FormScore]) -> list[str]:
    rows = ["| horizon | form | fitted on the earlier part: c, a, b | log loss, later part | |",
            "|---|---|---|---:|---|"]
    for s in scores:
        rows.append(f"| {s.hours} h | {s.form} | {s.fitted.c:+.4f}, {s.fitted.a:.4f}, "
                    f"{s.fitted.b:.4f} | {s.log_loss:.6f} | {'chosen' if s.chosen else ''} |")
    return rows


def _day(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--every-hours", type=float, default=4.0)
    ap.add_argument("--tune", action="store_true", help="score the settings grid instead")
    ap.add_argument("--fit-map", action="store_true",
                    help="fit the recalibration map on the first halves instead")
    ap.add_argument("--save", type=Path, help="also write the cases to this .npz file")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"real data not found at {args.data}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    if args.tune:
        tune(load_datasets(args.data, FITTED_ON), args.every_hours)
        return 0
    if args.fit_map:
        fit_map(load_datasets(args.data, FITTED_ON), args.every_hours)
        return 0
    cases, safe, _ = walk_forward(load_datasets(args.data), every_h=args.every_hours,
                                  target_prob=TARGET)
    c = cases.arrays()
    if args.save is not None:
        savez: Any = np.savez_compressed  # its stubs take every ** name for allow_pickle
        savez(args.save, dataset=c.dataset, time_ms=c.time_ms, sign=c.sign,
                            leverage=c.leverage,
                            **{f"touched_{h}": c.touched[h] for h in HORIZONS_H},
                            **{f"fhs_{h}": c.fhs[h] for h in HORIZONS_H},
                            **{f"gauss_{h}": c.gauss[h] for h in HORIZONS_H},
                            **{f"raw_{h}": c.raw[h] for h in HORIZONS_H})
    checks = []
    for sample in SAMPLES:
        found = sample_cases(args.data, sample, args.every_hours)
        if found is not None:
            checks.append((sample, *found))
    text = report(c, safe, args.every_hours, time.perf_counter() - t0, checks)
    (DOCS / "risk-calibration.md").write_text("\n".join(text) + "\n")
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
