"""The samples the pre-registered checks of the tail model are judged on
(``docs/risk-model.md``): the held-out halves of the datasets the map was fitted on, the
Binance 1 h bars before any of those began, and the Binance coins no fit has seen.

The verdict is the issue's: at 24 h, every tested bin's realised rate inside its interval
(``backtest.risk_scores.passes``), in each sample, with a case every 4 h
(``scripts/calibrate_risk.py``) and a case a day
(``tests/backtest/test_risk_calibration_realdata.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backtest.risk_calibration import (
    FITTED_ON,
    FRESH,
    FRESH_BEFORE_MS,
    NEW_COIN_SYMBOLS,
    NEW_COINS,
    CaseArrays,
    Dataset,
    SafeCases,
    load_datasets,
    walk_forward,
)


@dataclass(frozen=True)
class Sample:
    key: str
    title: str
    about: str


HELD_OUT = Sample("held_out", "the held-out halves",
                  "the second half of each of the five datasets the settings and the map "
                  "were fitted on (read before: the model, the map and the checks below "
                  "were all looked at on it)")
BEFORE_2022 = Sample("before_2022", "Binance 1 h before 2022-05",
                     "Binance perps (BTC, ETH, BCH, XRP, LTC, ADA) and spot (DOGE, LINK, SOL, "
                     "AVAX, DOT) from 2019/2020 to 2022-05-01, before any bar a setting or "
                     "the map was fitted on (read once, by the first check)")
NEW_COIN_SAMPLE = Sample("new_coins", "new coins from 2022-05",
                         "the 26 Binance coins (24 perps, 2 spot) that are in no dataset a "
                         "fit has seen, from 2022-05-01 (read once, by the second check); "
                         "they share the market's days with data that was read")
SAMPLES = (HELD_OUT, BEFORE_2022, NEW_COIN_SAMPLE)


def sample_datasets(root: Path, sample: Sample) -> list[Dataset]:
    """The datasets of ``sample`` (whole: the held-out cases are chosen by time after)."""
    if sample is BEFORE_2022:
        return load_datasets(root, FRESH, before_ms=FRESH_BEFORE_MS)
    if sample is NEW_COIN_SAMPLE:
        return load_datasets(root, NEW_COINS, after_ms=FRESH_BEFORE_MS,
                             symbols=NEW_COIN_SYMBOLS)
    return load_datasets(root, FITTED_ON)


def sample_cases(root: Path, sample: Sample, every_h: float
                 ) -> tuple[CaseArrays, SafeCases] | None:
    """The cases of ``sample`` with a case every ``every_h`` hours, and the safe-leverage
    cases; ``None`` when its data is absent. For the held-out halves, only the cases after
    each dataset's middle bar."""
    datasets = sample_datasets(root, sample)
    if not datasets:
        return None
    parts = []
    for ds in datasets:
        t = ds.snap.times
        mid = int(t[0] + (t[-1] - t[0]) // 2) if sample is HELD_OUT else None
        found, safe, _ = walk_forward([ds], every_h=every_h, start_after_ms=mid)
        parts.append((found.arrays(), safe))
    return concat_cases([c for c, _ in parts]), concat_safe([s for _, s in parts])


def concat_cases(parts: list[CaseArrays]) -> CaseArrays:
    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(x, name) for x in parts])

    def per_h(name: str) -> dict[int, np.ndarray]:
        return {h: np.concatenate([getattr(x, name)[h] for x in parts])
                for h in getattr(parts[0], name)}

    return CaseArrays(cat("dataset"), cat("symbol"), cat("time_ms"), cat("sign"),
                      cat("leverage"), per_h("touched"), per_h("fhs"), per_h("gauss"),
                      per_h("raw"))


def concat_safe(parts: list[SafeCases]) -> SafeCases:
    return SafeCases(*(np.concatenate([getattr(x, f) for x in parts])
                       for f in ("dataset", "time_ms", "fhs_leverage", "fhs_touched",
                                 "gauss_leverage", "gauss_touched", "raw_leverage",
                                 "raw_touched")))
