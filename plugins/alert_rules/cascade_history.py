"""What each cascade level has meant on real data: the one line every cascade alert carries.

The numbers are ``cascade_history.json`` beside this module, written by
``scripts/calibrate_cascade.py --write`` from its out-of-sample (walk-forward) scores, with
the ``fit_id`` of the model in ``core/cascade_fitted.py`` they belong to. The only text of
the file an alert quotes is ``period``, a date range ("2022-06–2026-05") that reads the same
in every language; the sentence around it is ours, translated.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from i18n import L_, LN_, Msg
from plugins.alert_rules.words import LEVELS, word

HISTORY_FILE = Path(__file__).with_name("cascade_history.json")
FALL = "0.05"  # the fall the line quotes: ≥ 5 % within the horizon


@functools.cache
def load_history(path: Path = HISTORY_FILE) -> dict[str, Any]:
    """The calibration's level history (empty when the file is missing or unreadable: the
    alert then says it has no history rather than failing)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def history_line(level: str, history: dict[str, Any] | None = None) -> Msg:
    """"Out of sample on 2022-06–2026-05 data, this level was followed by a ≥ 5 % fall
    within 4 h in 29 % of 31 alerts (about 0.4 a month in calm markets)." """
    h = load_history() if history is None else history
    lv = (h.get("levels") or {}).get(level) or {}
    fall = (lv.get("falls") or {}).get(FALL) or {}
    n, p = lv.get("alerts"), fall.get("precision")
    if not n or p is None:
        return L_("No history for the {level} level: the calibration has no alerts at it.",
                  level=word(LEVELS.get(level, level)))
    numbers = {"fall": float(FALL), "hours": h.get("horizon_hours", 4), "share": p,
               "per_month": float(lv.get("alerts_per_30_calm_days", 0))}
    if h.get("period"):
        return LN_("Out of sample on {period} data, this level was followed by a ≥ {fall:.0%} "
                   "fall within {hours} h in {share:.0%} of {n} alert (about {per_month:.1f} a "
                   "month in calm markets).",
                   "Out of sample on {period} data, this level was followed by a ≥ {fall:.0%} "
                   "fall within {hours} h in {share:.0%} of {n} alerts (about {per_month:.1f} "
                   "a month in calm markets).", int(n), period=h["period"], **numbers)
    return LN_("Out of sample on past data, this level was followed by a ≥ {fall:.0%} fall "
               "within {hours} h in {share:.0%} of {n} alert (about {per_month:.1f} a month in "
               "calm markets).",
               "Out of sample on past data, this level was followed by a ≥ {fall:.0%} fall "
               "within {hours} h in {share:.0%} of {n} alerts (about {per_month:.1f} a month "
               "in calm markets).", int(n), **numbers)
