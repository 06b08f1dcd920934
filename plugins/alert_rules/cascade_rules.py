"""The ``cascade`` rule of the 15-minute cycle and of the one-minute cascade watch.

Both follow one episode with hysteresis (``episodes``): a level is raised once when entered
and the episode's end is told once. Every raise says what drives it, whether the level was
capped for lack of inputs (and which), and what the level has meant on real data
(``cascade_history``). The cycle remembers its slow inputs (the candle factors, funding,
basis) each run; the watch reads fresh book depth, liquidations, taker flow and open
interest every minute and puts them on top of those, so both speak on one scale.
"""

from __future__ import annotations

from typing import Any, ClassVar

from core.cascade import (
    CONFIDENCE_GATES,
    FACTORS,
    LEVEL_ORDER,
    LEVELS,
    CascadeReading,
    cascade_reading,
    level_cap,
    level_of,
)
from i18n import L_, N_, Msg
from plugins.alert_rules import episodes
from plugins.alert_rules.base import Alert, AlertRule, RuleContext, finite
from plugins.alert_rules.cascade_history import history_line
from plugins.alert_rules.market_rules import heatmap_spec
from plugins.alert_rules.words import LEVELS_UPPER, english, factor_label, listing, word

LEVEL_SEVERITY = {"elevated": "info", "high": "warning", "cascade": "critical"}
CASCADE_STATE = "cascade"  # the cycle's and the cascade watch's shared episode
SLOW_INPUTS = "slow_inputs"  # the cycle's latest candle, funding and basis inputs
FAST = ("depth_drop", "oi_drop", "liq_ratio", "taker_sell")  # what the watch samples
ACTIONS = {"elevated": N_("Check your liquidation distance and that every position has a "
                          "hedge."),
           "high": N_("Reduce leverage or add margin; keep an offsetting hedge on."),
           "cascade": N_("Liquidation cascade under way: cut leverage now, take profit on "
                         "hedges that are up.")}


def _threshold(level: str) -> float:
    """The score at which ``level`` begins."""
    return next(cut for cut, name in LEVELS if name == level)


def cap_line(c: CascadeReading) -> Msg | None:
    """Why the level is lower than the score says, naming what is missing."""
    if not c.capped:
        return None
    labels = [factor_label(k, FACTORS[k].label) for k in c.missing if k in FACTORS]
    need = next((floor for floor, name in CONFIDENCE_GATES if name == c.uncapped), 0.0)
    words = {"level": word(LEVELS_UPPER.get(c.level, c.level.upper())),
             "uncapped": word(c.uncapped or c.level), "confidence": c.confidence, "need": need}
    if labels:
        return L_("Level capped at {level} (the score alone says {uncapped}): only "
                  "{confidence:.0%} of the inputs are known, {uncapped} needs {need:.0%}; "
                  "missing: {missing}.", missing=listing(labels), **words)
    return L_("Level capped at {level} (the score alone says {uncapped}): only "
              "{confidence:.0%} of the inputs are known, {uncapped} needs {need:.0%}.",
              **words)


class CascadeRule(AlertRule):
    """The cascade level rises to elevated, high or cascade (with what drives it), or the
    episode is over (back to calm).

    With hysteresis (``episodes``): a level is entered when the score reaches its threshold
    and left only when the score has stayed ``[alerts] cascade_margin`` points under it for
    ``clear_after``; each entry is raised once, a fall to a lower level that is not calm is
    not told, and the end of the episode is told once. The level is gated by confidence
    (``core.cascade.CONFIDENCE_GATES``): a capped level says so and names what is missing.
    """

    name = "cascade"
    kind = "cascade"
    can_clear: ClassVar[bool] = True

    def reading(self, ctx: RuleContext) -> CascadeReading | None:
        """The cycle's reading; its slow inputs are remembered for the watch."""
        assert ctx.result is not None
        c = ctx.result.cascade
        slow = {k: finite(v) for k, v in c.factors.items() if k not in FAST}
        ctx.memory.set(CASCADE_STATE, SLOW_INPUTS, {"time_ms": c.time_ms, "inputs": slow},
                       now_ms=ctx.now_ms)
        return c

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        c, cfg = self.reading(ctx), ctx.config.alerts
        if c is None:
            return []
        ep = episodes.load(ctx.memory, CASCADE_STATE, "calm",
                           ctx.memory.get(CASCADE_STATE, "level"))
        # within the margin the level is kept, but never above what the confidence allows
        kept = min(level_of(min(100.0, c.score + cfg.cascade_margin)), level_cap(c.confidence),
                   key=LEVEL_ORDER.index)
        s = episodes.step(ep, LEVEL_ORDER, c.level, kept, stamp=ctx.time_ms,
                          now_ms=ctx.now_ms, min_ms=cfg.clear_after.ms,
                          can_leave=self.can_clear)
        episodes.save(ctx.memory, CASCADE_STATE, s, ctx.now_ms)
        if s.event not in (episodes.ENTER, episodes.CLEAR):
            return []
        return [self._alert(ctx, c, s)]

    def _alert(self, ctx: RuleContext, c: CascadeReading, s: episodes.Step) -> Alert:
        r, cfg = ctx.result, ctx.config.alerts
        assert r is not None
        was = s.previous.state
        top = sorted(c.contributions.items(), key=lambda kv: -kv[1])[:4]
        body: list[str | Msg] = [L_(
            "Cascade score {score:.0f}/100 ({level}, was {previous}), confidence "
            "{confidence:.0%}", score=c.score, level=word(c.level), previous=word(was),
            confidence=c.confidence)]
        body += [L_("• {label}: {value:.3g} (+{points:.0f})",
                    label=factor_label(k, FACTORS[k].label), value=c.factors[k], points=pts)
                 for k, pts in top if pts >= 0.5]
        numbers: dict[str, Any] = {
            "score": round(c.score, 2), "level": c.level, "previous": was,
            "uncapped_level": c.uncapped or c.level, "capped": c.capped,
            "confidence": round(c.confidence, 3),
            "factors": {k: finite(v) for k, v in c.factors.items()},
            "contributions": {k: round(float(v), 2) for k, v in c.contributions.items()},
            "missing": list(c.missing), "source": self.name}
        if s.event == episodes.CLEAR:
            started = s.previous.started_ms or 0
            under = _threshold(was) - cfg.cascade_margin
            below = episodes.span(ctx.now_ms - (s.previous.leaving_ms or ctx.now_ms))
            peak = word(s.previous.peak or was)
            body.append(L_("Under {under:.0f} for {span}; the episode peaked at {peak} and "
                           "began {began} ago.", under=under, span=below, peak=peak,
                           began=episodes.span(ctx.time_ms - started)) if started else
                        L_("Under {under:.0f} for {span}; the episode peaked at {peak}.",
                           under=under, span=below, peak=peak))
            numbers.update(episode_started_ms=started, peak=s.previous.peak)
            return self.alert(ctx, f"calm:{started}", "info", L_("Cascade risk has eased"),
                              body, L_("Back to calm: review hedges and take-profits set for "
                                       "the stress."), payload=numbers, cooldown_ms=0)
        level = s.episode.state
        capped = cap_line(c)
        if capped:
            body.append(capped)
        history = history_line(level)
        body.append(history)
        numbers["history"] = english(history)
        chart = heatmap_spec(r, L_("Cascade {level}: correlation now vs 30 days",
                                   level=word(level))) \
            if LEVEL_ORDER.index(level) >= 2 else None
        upper = word(LEVELS_UPPER.get(level, level.upper()))
        title = L_("Cascade level {level} ({score:.0f}/100, capped: few inputs)", level=upper,
                   score=c.score) if capped else \
            L_("Cascade level {level} ({score:.0f}/100)", level=upper, score=c.score)
        return self.alert(ctx, f"{level}:{s.episode.entered_ms}", LEVEL_SEVERITY[level], title,
                          body, L_(ACTIONS[level]), payload=numbers, chart=chart,
                          cooldown_ms=0)


class CascadeWatchRule(CascadeRule):
    """The one-minute cascade watch. Its reading is the last cycle's slow inputs (candle
    factors, funding, basis) with the minute's fresh book depth, liquidations, taker flow
    and open interest on top: the cycle's scale, sooner. It shares the cycle's episode: it
    may raise a level the cycle has not seen yet (then the cycle does not raise it again),
    and a reading of it within the margin keeps the level held; only the full cycle says
    when the episode is over. Without a cycle reading from the last two intervals it is
    silent (the data rule speaks then)."""

    name = "cascade_watch"
    watch_only = True
    can_clear = False

    def reading(self, ctx: RuleContext) -> CascadeReading | None:
        assert ctx.result is not None
        mine = ctx.result.cascade
        slow = ctx.memory.get(CASCADE_STATE, SLOW_INPUTS)
        limit = 2 * ctx.config.schedule.interval.ms
        if not slow or mine.time_ms - int(slow.get("time_ms") or 0) > limit:
            return None
        inputs = {k: v for k, v in (slow.get("inputs") or {}).items() if k in FACTORS}
        inputs.update({k: v for k, v in mine.factors.items() if k in FAST})
        return cascade_reading(inputs, mine.time_ms)
