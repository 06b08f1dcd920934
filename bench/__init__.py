"""Benchmarks: ``make bench`` runs every ``bench/bench_*.py`` and prints figures with ratios
against a baseline computed in the same process (timed assertions in tests would be flaky)."""
