"""``/threshold``: what counts as alert-worthy here, instead of the config's global values.

A trader at 3× and one at 25× should not get the same liquidation warnings, so the
liquidation thresholds are each user's own (set in the private chat, where those alerts go);
the cascade level is per chat (in a group, set by its admins).
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import level_word
from chat.context import CommandContext
from core.cascade import LEVEL_ORDER
from i18n import N_, _
from storage import thresholds

LIQUIDATION, CASCADE = "liquidation", "cascade"
PRIVATE_ONLY = N_("Liquidation alerts come to you in private, so their thresholds are yours: "
                  "set them in our private chat.")
ADMINS_ONLY = N_("Only this group's admins can change its alert thresholds.")


@dataclass(frozen=True)
class ThresholdRequest:
    kind: str | None = None  # None: show them
    name: str = ""
    value: str = ""
    reset: bool = False


def _pct(word: str, low: float, high: float, example: str) -> float:
    try:
        v = float(word.rstrip("%"))
    except ValueError:
        raise ArgumentError(_("{word} is not a percentage, e.g. {example}").format(
            word=repr(word[:20]), example=example)) from None
    if not low <= v <= high:
        raise ArgumentError(_("{word} is outside {low:g}–{high:g}%, e.g. {example}").format(
            word=word[:20], low=low, high=high, example=example))
    return v


class Threshold(Command):
    name = "threshold"
    summary = N_("your own alert thresholds: liquidation distance or probability, "
                 "cascade level")
    usage = N_("/threshold [liquidation distance <pct>% | liquidation prob <pct>% | "
               "cascade <calm|elevated|high|cascade> | reset [kind]]")
    examples = ("/threshold liquidation distance 5%", "/threshold liquidation prob 20%",
                "/threshold cascade high", "/threshold reset", "/threshold")

    def parse(self, args: list[str]) -> ThresholdRequest:
        w = [a.lower() for a in args]
        if not w:
            return ThresholdRequest()
        if w[0] == "reset":
            kind = w[1] if len(w) > 1 else None
            if len(w) > 2 or kind not in (None, LIQUIDATION, CASCADE):
                raise ArgumentError(_("/threshold reset [liquidation|cascade], e.g. "
                                      "{example}").format(example=self.examples[3]))
            return ThresholdRequest(kind, reset=True)
        if w[0] == CASCADE and len(w) == 2:
            if w[1] not in LEVEL_ORDER[1:]:
                raise ArgumentError(_("a cascade level is one of {levels}, e.g. {example}")
                                    .format(levels=", ".join(LEVEL_ORDER[1:]),
                                            example=self.examples[2]))
            return ThresholdRequest(CASCADE, "level", w[1])
        if w[0] == LIQUIDATION and len(w) == 3:
            name = {"distance": "distance", "dist": "distance", "prob": "prob",
                    "probability": "prob", "touch": "prob"}.get(w[1])
            if name == "distance":
                return ThresholdRequest(LIQUIDATION, name,
                                        f"{_pct(w[2], 0.1, 50, self.examples[0]):g}")
            if name == "prob":
                p = _pct(w[2], 0.1, 99, self.examples[1])
                return ThresholdRequest(LIQUIDATION, name, f"{p / 100:g}")
        raise ArgumentError(_("I can't read that threshold. e.g. {example}, {other}").format(
            example=self.examples[0], other=self.examples[2]))

    async def answer(self, request: ThresholdRequest, ctx: CommandContext) -> Reply:
        db, now = ctx.services.db, ctx.services.now_ms()
        head = ""
        if request.kind == LIQUIDATION and not ctx.is_private:
            raise ArgumentError(_(PRIVATE_ONLY))
        if (request.reset or request.kind is not None) and not ctx.may_change_settings:
            raise ArgumentError(_(ADMINS_ONLY))
        if request.reset:
            n = thresholds.clear_thresholds(db, ctx.chat_id, request.kind)
            head = _("Back to the defaults ({n} cleared).").format(n=n)
        elif request.kind is not None:
            thresholds.set_threshold(db, ctx.chat_id, request.kind, request.name,
                                     request.value, now_ms=now)
            head = _("Saved.")
        mine = thresholds.chat_thresholds(db, ctx.chat_id)
        lines = [head] if head else []
        lines += self.lines(mine, ctx)
        data = {"thresholds": {f"{k}.{n}": v for (k, n), v in sorted(mine.items())}}
        return Reply(data=data, text=lines)

    def lines(self, mine: dict[tuple[str, str], str], ctx: CommandContext) -> list[str]:
        risk = ctx.services.config.risk
        level = mine.get((CASCADE, "level"))
        out = [_("Cascade alerts: at {level} or above").format(level=level_word(level))
               if level else _("Cascade alerts: every level change (default)")]
        if ctx.is_private:
            prob = mine.get((LIQUIDATION, "prob"))
            dist = mine.get((LIQUIDATION, "distance"))
            p = float(prob) if prob else risk.liquidation_alert_prob
            out.append(_("Liquidation: touch chance over {p:.0%} in 24h").format(p=p) if prob
                       else _("Liquidation: touch chance over {p:.0%} in 24h (default)")
                       .format(p=p))
            sigma = risk.liquidation_alert_sigma
            out.append(_("  or within {dist}% of it, or {sigma:g}σ of a day's moves").format(
                dist=dist, sigma=sigma) if dist else
                _("  or within {sigma:g}σ of a day's moves (default)").format(sigma=sigma))
        out.append(_("Change: {examples}").format(examples=", ".join(self.examples[:3])))
        return out
