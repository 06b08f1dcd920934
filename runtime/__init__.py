"""The composition of a running hedgewatch: config + plugins + storage + market, built in one
place (``build_runtime``) for ``run``, ``demo``, the CLI, the console and the benchmarks."""

from runtime.compose import Runtime, UsageError, build_runtime

__all__ = ["Runtime", "UsageError", "build_runtime"]
