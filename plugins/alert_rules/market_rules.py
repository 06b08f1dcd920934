"""Market-wide rules: ``regime``, ``cascade``, ``funding`` and ``data``. Their alerts go to
subscribed chats and the signal channel. Memory (last spike state, last level, last data
status) lives in ``rule_state`` through ``ctx.memory``, never in this module."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.cascade import FACTORS, LEVEL_ORDER
from core.evaluate import EngineResult
from plugins.alert_rules.base import Alert, AlertRule, RuleContext, finite

LEVEL_SEVERITY = {"elevated": "info", "high": "warning", "cascade": "critical"}


def heatmap_spec(result: EngineResult, title: str) -> dict[str, Any]:
    """The numbers behind a fast-vs-slow correlation heatmap (rendered only when sent)."""
    labels = [s.split("-")[0] for s in result.symbols]

    def clean(m: np.ndarray) -> list[list[float | None]]:
        return [[finite(round(float(x), 3)) for x in row] for row in m]

    return {"type": "heatmap", "title": title, "labels": labels,
            "fast": clean(result.view.fast_corr), "slow": clean(result.view.slow_corr)}


class RegimeRule(AlertRule):
    """The market correlation index spikes against its 30-day baseline and stays there (the
    engine's debounced ``market_spike`` turning on), or falls back."""

    name = "regime"
    kind = "regime"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        spike = bool(r.market_spike)
        was = ctx.memory.get(self.name, "spike")
        ctx.memory.set(self.name, "spike", spike, now_ms=ctx.now_ms)
        if (was is None and not spike) or was == spike:
            return []
        v = r.view
        numbers = {"market_index": finite(v.market_index),
                   "market_index_30d": finite(v.market_index_slow),
                   "corr_z": finite(r.cascade.factors.get("corr_z", np.nan)),
                   "vol_ratio_median": finite(np.nanmedian(v.vol_ratio))}
        body = [f"Market correlation index {v.market_index:.2f} "
                f"(30-day {v.market_index_slow:.2f}, z {numbers['corr_z'] or float('nan'):.1f})",
                f"Volatility vs 30 days: ×{numbers['vol_ratio_median'] or float('nan'):.2f}"]
        if spike:
            return [self.alert(
                ctx, f"on:{ctx.time_ms}", "warning", "Correlation spike: everything moves "
                "together", body, "Diversifying hedges stop working now: prefer an offsetting "
                "short hedge and check your liquidation distance.", payload=numbers,
                chart=heatmap_spec(r, "Correlation now (fast) vs 30 days"))]
        return [self.alert(
            ctx, f"off:{ctx.time_ms}", "info", "Correlations back to baseline", body,
            "The spike is over: hedges sized in the spike may now be too large.",
            payload=numbers)]


class CascadeRule(AlertRule):
    """The cascade level rises to elevated, high or cascade (with what drives it), or falls
    back to calm after one of those."""

    name = "cascade"
    kind = "cascade"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        c = r.cascade
        was = ctx.memory.get(self.name, "level", "calm")
        ctx.memory.set(self.name, "level", c.level, now_ms=ctx.now_ms)
        rank, was_rank = LEVEL_ORDER.index(c.level), LEVEL_ORDER.index(was)
        if rank == was_rank or (rank < was_rank and c.level != "calm"):
            return []
        top = sorted(c.contributions.items(), key=lambda kv: -kv[1])[:4]
        body = [f"Cascade score {c.score:.0f}/100 ({c.level}, was {was}), confidence "
                f"{c.confidence:.0%}"]
        body += [f"• {FACTORS[k].label}: {c.factors[k]:.3g} (+{pts:.0f})"
                 for k, pts in top if pts >= 0.5]
        numbers = {"score": round(c.score, 2), "level": c.level, "previous": was,
                   "confidence": round(c.confidence, 3),
                   "factors": {k: finite(v) for k, v in c.factors.items()},
                   "contributions": {k: round(float(v), 2) for k, v in c.contributions.items()},
                   "missing": list(c.missing)}
        if c.level == "calm":
            return [self.alert(ctx, f"calm:{ctx.time_ms}", "info", "Cascade risk has eased",
                               body, "Back to calm: review hedges and take-profits set for "
                               "the stress.", payload=numbers)]
        action = {"elevated": "Check your liquidation distance and that every position has "
                              "a hedge.",
                  "high": "Reduce leverage or add margin; keep an offsetting hedge on.",
                  "cascade": "Liquidation cascade under way: cut leverage now, take profit "
                             "on hedges that are up."}[c.level]
        chart = heatmap_spec(r, f"Cascade {c.level}: correlation now vs 30 days") \
            if rank >= 2 else None
        return [self.alert(ctx, f"{c.level}:{ctx.time_ms}", LEVEL_SEVERITY[c.level],
                           f"Cascade level {c.level.upper()} ({c.score:.0f}/100)", body,
                           action, payload=numbers, chart=chart)]


class CascadeWatchRule(CascadeRule):
    """The one-minute cascade watch's view of the main symbols: it raises escalations only
    (the full cycle says when it has eased), keeps its own last level, and shares cooldowns
    with ``cascade`` (same kind, same cooldown key) so a level is announced once."""

    name = "cascade_watch"
    watch_only = True

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        return [a for a in super().evaluate(ctx) if a.payload.get("level") != "calm"]


class FundingRule(AlertRule):
    """A funding rate at an extreme: |rate| at or above ``threshold`` per 8h period."""

    name = "funding"
    kind = "funding"
    threshold = 0.001  # 0.1 % per 8h

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        """One alert per funding time, listing every symbol at an extreme, most extreme
        first: funding settles every 8 hours, so repeating it every cycle would be noise."""
        hot = sorted(((s, t, rate) for s, (t, rate) in ctx.funding.items()
                      if math.isfinite(rate) and abs(rate) >= self.threshold),
                     key=lambda x: -abs(x[2]))
        if not hot:
            return []
        latest = max(t for _, t, _ in hot)
        top = hot[0][2]
        sev = "critical" if abs(top) >= 3 * self.threshold else "warning"
        body = [f"{s.split('-')[0]} {rate:+.4%} per 8h ({rate * 3 * 365:+.0%} a year): "
                f"{'longs pay shorts' if rate > 0 else 'shorts pay longs'}"
                for s, _, rate in hot[:8]]
        if len(hot) > 8:
            body.append(f"and {len(hot) - 8} more")
        body.append(f"Threshold {self.threshold:.2%} per 8h.")
        names = ", ".join(s.split("-")[0] for s, _, _ in hot[:3])
        return [self.alert(
            ctx, f"{latest}", sev, f"Extreme funding: {names} ({top:+.3%} per 8h)", body,
            "Crowded side: expect a squeeze; a hedge on the paying side costs carry.",
            symbol=hot[0][0], cooldown_key="funding",
            payload={"extremes": [{"symbol": s, "rate": rate, "funding_time_ms": t}
                                  for s, t, rate in hot], "threshold": self.threshold})]


class DataRule(AlertRule):
    """The data is stale, the exchange cannot be reached, or it has recovered."""

    name = "data"
    kind = "data"
    on_stale_data = True

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        was = ctx.memory.get(self.name, "status", "ok")
        if ctx.result is None or ctx.exchange_error is not None:
            status = "down"
        else:
            status = "stale" if ctx.stale else "ok"
        ctx.memory.set(self.name, "status", status, now_ms=ctx.now_ms)
        numbers = {"status": status, "previous": was, "data_age_ms": ctx.data_age_ms,
                   "stale_after_ms": ctx.stale_after_ms, "error": ctx.exchange_error}
        age = f"{ctx.data_age_ms / 60_000:.0f} min" if ctx.data_age_ms >= 0 else "no data"
        if status == "down":
            return [self.alert(
                ctx, f"down:{ctx.server_time_ms}", "critical", "Exchange unreachable",
                [f"Could not fetch market data: {ctx.exchange_error or 'no result'}",
                 f"Latest data: {age} old."],
                "No alerts can be computed: watch your positions on the exchange yourself.",
                payload=numbers)]
        if status == "stale":
            return [self.alert(
                ctx, f"stale:{ctx.time_ms}", "warning", "Market data is stale",
                [f"The latest closed bar is {age} old (limit "
                 f"{ctx.stale_after_ms / 60_000:.0f} min on the exchange's clock)."],
                "Other alerts are paused until fresh data arrives.", payload=numbers)]
        if was != "ok":
            return [self.alert(
                ctx, f"recovered:{ctx.time_ms}", "info", "Market data recovered",
                [f"Fresh data again (age {age}); alerts resume."],
                "Check what happened while data was missing.", payload=numbers)]
        return []
