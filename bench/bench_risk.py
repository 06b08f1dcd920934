"""Liquidation risk for 10,000 positions across 100 symbols: risk_many vs a per-position loop,
and the calibrated tail model (``core.tail_risk``) against the Gaussian alone in the same run:
its lookups per cycle, and its fit (once per symbol and cycle, on 30 days of 15m bars)."""

from __future__ import annotations

import numpy as np

from bench.timing import best_of, row
from core.liquidation import TierTable
from core.risk import risk_report
from core.risk_many import risk_many
from core.tail_risk import fit_tails
from core.types import Instrument, Position, Tier

N_POSITIONS = 10_000
N_SYMBOLS = 100
BARS_PER_HOUR = 4
WINDOW_BARS = 30 * 96 + 1  # the engine's slow window


def _tiers() -> tuple[Tier, ...]:
    """OKX-BTC-like tiers: 1,000 then steps of 20,000 contracts, mmr +0.5 % a step."""
    caps = [1000, 5000, 20000] + [20000 * i for i in range(2, 40)]
    return tuple(Tier(i + 1, 0 if i == 0 else caps[i - 1] + 0.01, c, 0.004 + 0.005 * i,
                      round(1 / (0.01 + 0.005 * i), 2)) for i, c in enumerate(caps))


def main() -> None:
    rng = np.random.default_rng(0)
    tiers = _tiers()
    sym = rng.integers(0, N_SYMBOLS, N_POSITIONS)
    marks = rng.uniform(0.1, 80_000, N_SYMBOLS)
    sigmas = rng.uniform(0.002, 0.012, N_SYMBOLS)
    ct_val = np.full(N_SYMBOLS, 0.01)
    max_lev = np.full(N_SYMBOLS, 100.0)
    fee = np.full(N_SYMBOLS, 0.0005)
    entry = marks[sym] * rng.uniform(0.9, 1.1, N_POSITIONS)
    notional = rng.lognormal(np.log(20_000), 2.0, N_POSITIONS)
    size = np.round(notional / entry / 0.01) * 0.01 + 0.01
    sign = rng.choice([-1.0, 1.0], N_POSITIONS)
    lev = rng.uniform(2, 50, N_POSITIONS)
    margin = entry * size / lev
    table = TierTable.build([tiers] * N_SYMBOLS)

    # 30 days of fat-tailed bars per symbol (Student-t, 3 degrees of freedom) for the fit
    z = rng.standard_t(3, (WINDOW_BARS, N_SYMBOLS)) * sigmas / np.sqrt(3.0)
    close = marks * np.exp(np.cumsum(z, axis=0) - np.cumsum(z, axis=0)[-1])
    wick = np.abs(rng.standard_t(3, (2, WINDOW_BARS, N_SYMBOLS))) * sigmas * 0.3
    high, low = close * np.exp(wick[0]), close * np.exp(-wick[1])
    tails = fit_tails(close, high, low, BARS_PER_HOUR)

    def vectorised(with_tails: bool = True) -> object:
        return risk_many(entry, size, sign, margin, marks, sigmas, BARS_PER_HOUR,
                         symbol_idx=sym, tiers=table, contract_value=ct_val, fee=fee,
                         max_leverage=max_lev, tails=tails if with_tails else None)

    instruments = [Instrument(f"S{i}-USDT-SWAP", f"S{i}", contract_value=0.01, tiers=tiers)
                   for i in range(N_SYMBOLS)]
    positions = [Position(instruments[s].symbol, "long" if g > 0 else "short", float(n),
                          float(e), float(lv))
                 for s, g, n, e, lv in zip(sym, sign, size, entry, lev, strict=True)]

    def loop() -> object:
        return [risk_report(p, instruments[s], float(marks[s]), float(sigmas[s]),
                            BARS_PER_HOUR) for p, s in zip(positions, sym, strict=True)]

    ours = best_of(vectorised, repeat=7)
    gaussian = best_of(lambda: vectorised(False), repeat=7)
    baseline = best_of(loop, repeat=1)
    row(f"risk_many: {N_POSITIONS:,} positions, {N_SYMBOLS} symbols, tiers", ours, baseline,
        target="< 20 ms")
    row("  the same with the Gaussian alone (no tail model)", gaussian)
    print(f"  tail model + Gaussian = {ours / gaussian:.2f}x the Gaussian alone "
          "(target <= 3x)", flush=True)
    fit = best_of(lambda: fit_tails(close, high, low, BARS_PER_HOUR), repeat=3)
    row(f"fit_tails: {N_SYMBOLS} symbols x 30 days of 15m bars (once per cycle)", fit)
    out = vectorised()
    print(f"  median 24h touch prob {np.median(out.touch_prob_24h):.4f} "
          f"(Gaussian {np.median(out.touch_prob_24h_gaussian):.4f}), "
          f"median safe leverage {np.nanmedian(out.safe_leverage):.1f}x "
          f"(Gaussian {np.nanmedian(out.safe_leverage_gaussian):.1f}x)")


if __name__ == "__main__":
    main()
