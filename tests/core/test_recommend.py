"""Choosing the hedge instrument for many symbols at once, against one at a time."""

from __future__ import annotations

import numpy as np

from core.recommend import best_hedge, best_hedges


def _rho(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (n, n))
    rho = (a + a.T) / 2
    np.fill_diagonal(rho, 1.0)
    rho[rng.random((n, n)) < 0.15] = np.nan
    rho[3, :] = np.nan  # a symbol without enough data
    rho[5, 7] = -rho[5, 8]  # equal ρ²: the earlier candidate wins
    return rho


def test_many_targets_match_one_at_a_time():
    for seed in range(5):
        rho = _rho(12, seed)
        targets = list(range(12))
        for cands in (list(range(12)), [7, 8, 2, 2, 5, 0], [4], [3], []):
            want = [best_hedge(t, rho, cands) for t in targets]
            assert best_hedges(targets, rho, cands) == want


def test_a_target_is_never_its_own_hedge():
    rho = np.ones((3, 3))
    assert best_hedges([0, 1], rho, [0]) == [None, 0]
    assert best_hedges([], rho, [0, 1]) == []
