"""How fast the simulated market generates bars, next to numpy drawing the same normals."""

from __future__ import annotations

import numpy as np

from bench.timing import best_of, row
from plugins.exchanges import sim_model

BARS = 45 * 96 + 30 * 96  # the default history plus the default future: 75 days of 15m bars


def main() -> None:
    for n in (12, 100):
        specs = sim_model.universe(n)
        episodes = (sim_model.Episode(BARS // 2),)

        def generate(specs=specs, episodes=episodes) -> None:
            sim_model.simulate(specs, n_bars=BARS, start_ms=0, bar_ms=900_000, seed=7,
                               episodes=episodes)

        rng = np.random.default_rng(7)
        draws = BARS * (len(specs) + 1) + BARS * len(specs) * 5  # returns, noise, wicks

        def baseline(rng=rng, draws=draws) -> None:
            rng.standard_normal(draws)

        t = best_of(generate, repeat=3)
        b = best_of(baseline, repeat=3)
        row(f"simulate {BARS} bars x {len(specs)} symbols", t, b, target="< 1 s")
        print(f"{'':<58} {BARS / t:10.0f} bars/s   {BARS * len(specs) / t:12.0f} symbol-bars/s",
              flush=True)


if __name__ == "__main__":
    main()
