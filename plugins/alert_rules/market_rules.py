"""Market-wide rules: ``regime``, ``funding`` and ``data`` (``cascade`` is in
``cascade_rules``). Their alerts go to subscribed chats and the signal channel. Regime and
data alerts follow episodes with hysteresis (``episodes``): one raise per state entered, one
"over" per episode. Their memory lives in ``rule_state`` through ``ctx.memory``, never in
this module."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.evaluate import EngineResult
from i18n import L_, LN_, Msg
from plugins.alert_rules import episodes
from plugins.alert_rules.base import Alert, AlertRule, RuleContext, finite
from plugins.alert_rules.words import listing


def heatmap_spec(result: EngineResult, title: str | Msg) -> dict[str, Any]:
    """The numbers behind a fast-vs-slow correlation heatmap (rendered only when sent)."""
    labels = [s.split("-")[0] for s in result.symbols]

    def clean(m: np.ndarray) -> list[list[float | None]]:
        return [[finite(round(float(x), 3)) for x in row] for row in m]

    return {"type": "heatmap", "title": title, "labels": labels,
            "fast": clean(result.view.fast_corr), "slow": clean(result.view.slow_corr)}


class RegimeRule(AlertRule):
    """The market correlation index spikes against its 30-day baseline and stays there (the
    engine's debounced ``market_spike`` turning on), or is back to baseline.

    With hysteresis (``episodes``): the spike is raised once when the flag turns on; it is
    over only when the flag is off and the z-score is ``[alerts] regime_margin`` under
    ``[engine] regime_z`` for ``clear_after``, and that is told once.
    """

    name = "regime"
    kind = "regime"
    ORDER = ("normal", "spike")

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        cfg = ctx.config.alerts
        z = float(r.cascade.factors.get("corr_z", np.nan))
        spike = bool(r.market_spike)
        near = math.isfinite(z) and z >= ctx.config.engine.regime_z - cfg.regime_margin
        ep = episodes.load(ctx.memory, self.name, "normal",
                           "spike" if ctx.memory.get(self.name, "spike") else None)
        s = episodes.step(ep, self.ORDER, "spike" if spike else "normal",
                          "spike" if spike or near else "normal", stamp=ctx.time_ms,
                          now_ms=ctx.now_ms, min_ms=cfg.clear_after.ms)
        episodes.save(ctx.memory, self.name, s, ctx.now_ms)
        if s.event not in (episodes.ENTER, episodes.CLEAR):
            return []
        v = r.view
        numbers = {"market_index": finite(v.market_index),
                   "market_index_30d": finite(v.market_index_slow),
                   "corr_z": finite(z), "vol_ratio_median": finite(np.nanmedian(v.vol_ratio))}
        body: list[str | Msg] = [
            L_("Market correlation index {index:.2f} (30-day {index_30d:.2f}, z {z:.1f})",
               index=v.market_index, index_30d=v.market_index_slow, z=z),
            L_("Volatility vs 30 days: ×{ratio:.2f}",
               ratio=numbers["vol_ratio_median"] or float("nan"))]
        if s.event == episodes.ENTER:
            return [self.alert(
                ctx, f"on:{s.episode.entered_ms}", "warning",
                L_("Correlation spike: everything moves together"), body,
                L_("Diversifying hedges stop working now: prefer an offsetting short hedge "
                   "and check your liquidation distance."),
                payload=numbers, cooldown_ms=0,
                chart=heatmap_spec(r, L_("Correlation now (fast) vs 30 days")))]
        started = s.previous.started_ms or 0
        limit = ctx.config.engine.regime_z - cfg.regime_margin
        under = episodes.span(ctx.now_ms - (s.previous.leaving_ms or ctx.now_ms))
        body.append(L_("z under {limit:.1f} for {span}; the spike began {began} ago.",
                       limit=limit, span=under, began=episodes.span(ctx.time_ms - started))
                    if started else
                    L_("z under {limit:.1f} for {span}.", limit=limit, span=under))
        return [self.alert(
            ctx, f"off:{started}", "info", L_("Correlations back to baseline"), body,
            L_("The spike is over: hedges sized in the spike may now be too large."),
            payload={**numbers, "episode_started_ms": started}, cooldown_ms=0)]


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
        body: list[str | Msg] = [
            L_("{base} {rate:+.4%} per 8h ({annual:+.0%} a year): longs pay shorts", base=base,
               rate=rate, annual=rate * 3 * 365) if rate > 0 else
            L_("{base} {rate:+.4%} per 8h ({annual:+.0%} a year): shorts pay longs", base=base,
               rate=rate, annual=rate * 3 * 365)
            for base, rate in ((s.split("-")[0], rate) for s, _, rate in hot[:8])]
        if len(hot) > 8:
            body.append(LN_("and {n} more", "and {n} more", len(hot) - 8))
        body.append(L_("Threshold {threshold:.2%} per 8h.", threshold=self.threshold))
        names = listing(s.split("-")[0] for s, _, _ in hot[:3])
        return [self.alert(
            ctx, f"{latest}", sev, L_("Extreme funding: {names} ({top:+.3%} per 8h)",
                                      names=names, top=top), body,
            L_("Crowded side: expect a squeeze; a hedge on the paying side costs carry."),
            symbol=hot[0][0], cooldown_key="funding",
            payload={"extremes": [{"symbol": s, "rate": rate, "funding_time_ms": t}
                                  for s, t, rate in hot], "threshold": self.threshold})]


class DataRule(AlertRule):
    """The data is stale, the exchange cannot be reached, or — once per outage — it has
    recovered.

    With hysteresis (``episodes``): "ok" < "stale" < "down". Stale is entered when the latest
    bar is older than ``[alerts] stale_after`` intervals, down when the exchange cannot be
    reached, each raised once per outage; the outage is over when the data has been younger
    than ``(1 - data_margin)`` × that limit for ``data_clear_after``, told once.
    """

    name = "data"
    kind = "data"
    on_stale_data = True
    ORDER = ("ok", "stale", "down")

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        cfg = ctx.config.alerts
        limit, age = ctx.stale_after_ms, ctx.data_age_ms
        if ctx.result is None or ctx.exchange_error is not None:
            raw = kept = "down"
        else:
            raw = "stale" if ctx.stale else "ok"
            kept = "stale" if age < 0 or age > limit * (1 - cfg.data_margin) else raw
        ep = episodes.load(ctx.memory, self.name, "ok", ctx.memory.get(self.name, "status"))
        # stamped on our clock: while the data is stale or missing its bar does not move
        s = episodes.step(ep, self.ORDER, raw, kept, stamp=ctx.now_ms, now_ms=ctx.now_ms,
                          min_ms=cfg.data_clear_after.ms)
        episodes.save(ctx.memory, self.name, s, ctx.now_ms)
        numbers = {"status": raw, "held": s.episode.state, "previous": ep.state,
                   "data_age_ms": age, "stale_after_ms": limit, "error": ctx.exchange_error}
        age_text = L_("{minutes:.0f} min", minutes=age / 60_000) if age >= 0 else None
        limit_min = limit / 60_000
        if s.event == episodes.ENTER and s.episode.state == "down":
            return [self.alert(
                ctx, f"down:{s.episode.entered_ms}", "critical", L_("Exchange unreachable"),
                [L_("Could not fetch market data: {error}",
                    error=ctx.exchange_error or L_("no result")),
                 L_("Latest data: {age} old.", age=age_text) if age_text is not None else
                 L_("Latest data: none.")],
                L_("No alerts can be computed: watch your positions on the exchange yourself."),
                payload=numbers, cooldown_ms=0)]
        if s.event == episodes.ENTER:
            return [self.alert(
                ctx, f"stale:{s.episode.entered_ms}", "warning", L_("Market data is stale"),
                [L_("The latest closed bar is {age} old (limit {limit:.0f} min on the "
                    "exchange's clock).", age=age_text, limit=limit_min)
                 if age_text is not None else
                 L_("No closed bar has arrived (limit {limit:.0f} min on the exchange's "
                    "clock).", limit=limit_min)],
                L_("Other alerts are paused until fresh data arrives."), payload=numbers,
                cooldown_ms=0)]
        if s.event == episodes.CLEAR:
            started = s.previous.started_ms or 0
            fresh = episodes.span(ctx.now_ms - (s.previous.leaving_ms or ctx.now_ms))
            began = episodes.span(ctx.now_ms - started)
            down = s.previous.peak == "down"
            return [self.alert(
                ctx, f"recovered:{started}", "info", L_("Market data recovered"),
                [L_("Fresh data for {span} (latest bar {age} old); other alerts run again.",
                    span=fresh, age=age_text) if age_text is not None else
                 L_("Fresh data for {span}; other alerts run again.", span=fresh),
                 (L_("The exchange was unreachable; the outage began {began} ago.",
                     began=began) if started else L_("The exchange was unreachable."))
                 if down else
                 (L_("The data was stale; the outage began {began} ago.", began=began)
                  if started else L_("The data was stale."))],
                L_("Check what happened while data was missing."),
                payload={**numbers, "episode_started_ms": started, "peak": s.previous.peak},
                cooldown_ms=0)]
        return []
