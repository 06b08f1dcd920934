"""Episodes of a market-wide state, with hysteresis: what keeps the cascade, regime and data
alerts from flapping.

A reading dancing around a threshold (a cascade score of 49, 51, 48, 52 around the 50 of
"high") used to raise and clear an alert on every crossing. Here a state is *entered* as soon
as a reading crosses into it, but *left* only after the readings have stayed out of it by a
margin for a minimum time (``[alerts] clear_after``, ``cascade_margin``, ...). An *episode*
runs from leaving the resting state (calm, no spike, fresh data) to coming back to it: each
state entered during it is raised once, and its end is told once. Alert keys name the entry
and the episode, not the bar, so a second outage gets its own "recovered" even when it ends
on the same bar as the first.

The rules keep an ``Episode`` in ``ctx.memory`` (JSON) and move it with ``step``, a pure
function of the episode and one reading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from i18n import L_, Msg
from storage.rule_state import RuleMemory

ENTER, EASE, CLEAR = "enter", "ease", "clear"
KEY = "episode"  # the rule_state key an episode is stored under


@dataclass(frozen=True)
class Episode:
    """What a market-wide rule remembers about its state.

    ``state`` is the state held (``order[0]`` of its rule is the resting state);
    ``entered_ms`` stamps its entry (the bar it was entered on, kept strictly increasing so
    every entry has its own alert key); ``started_ms`` stamps the episode's start (None at
    rest); ``leaving_ms`` is when the readings first went out of the held state by the margin
    (our clock; None while they are in it); ``peak`` the most severe state of the episode.
    """

    state: str
    entered_ms: int = 0
    started_ms: int | None = None
    leaving_ms: int | None = None
    peak: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Episode:
        return cls(str(value["state"]), int(value.get("entered_ms") or 0),
                   value.get("started_ms"), value.get("leaving_ms"), value.get("peak"))


@dataclass(frozen=True)
class Step:
    """One reading's effect: the episode to remember, the event (``ENTER`` a more severe
    state: raise it; ``CLEAR`` back at rest: tell the episode's end; ``EASE`` a milder state
    that is not rest: nothing to tell; None) and the episode as it was before."""

    episode: Episode
    event: str | None
    previous: Episode


def step(ep: Episode, order: Sequence[str], raw: str, kept: str, *, stamp: int, now_ms: int,
         min_ms: int, can_leave: bool = True) -> Step:
    """Move ``ep`` by one reading.

    ``raw`` is the state the reading is in; ``kept`` the most severe state it still supports
    within the margin (at least as severe as ``raw``). A more severe ``raw`` is entered at
    once. The held state is left only when ``kept`` has been milder for ``min_ms`` (on our
    clock, ``now_ms``), and then for ``kept``. ``can_leave=False`` (the cascade watch) may
    enter and may confirm the held state, never leave it.
    """
    r, k, h = order.index(raw), order.index(kept), order.index(ep.state)
    if k < r:
        raise ValueError(f"kept state {kept!r} is milder than the reading's {raw!r}")
    stamp = max(stamp, ep.entered_ms + 1)
    if r > h:
        peak = raw if ep.peak is None or r > order.index(ep.peak) else ep.peak
        started = ep.started_ms if h > 0 and ep.started_ms is not None else stamp
        return Step(Episode(raw, stamp, started, None, peak), ENTER, ep)
    if k >= h:
        return Step(dataclasses.replace(ep, leaving_ms=None), None, ep)
    if not can_leave:
        return Step(ep, None, ep)
    leaving = ep.leaving_ms if ep.leaving_ms is not None else now_ms
    if now_ms - leaving < min_ms:
        return Step(dataclasses.replace(ep, leaving_ms=leaving), None, ep)
    if k == 0:
        return Step(Episode(order[0], stamp), CLEAR, ep)
    return Step(dataclasses.replace(ep, state=kept, entered_ms=stamp, leaving_ms=None), EASE,
                ep)


def load(memory: RuleMemory, rule: str, rest: str, legacy: str | None = None) -> Episode:
    """The episode ``rule`` remembers; before the first one, the state an older version
    remembered (``legacy``), so an upgrade neither repeats an alert nor loses a recovery."""
    value = memory.get(rule, KEY)
    if value is not None:
        return Episode.from_json(value)
    if legacy is not None and legacy != rest:
        return Episode(legacy, 0, 0, None, legacy)
    return Episode(rest)


def save(memory: RuleMemory, rule: str, s: Step, now_ms: int) -> None:
    """Remember the episode after ``s`` (buffered like every rule write)."""
    if s.episode != s.previous:
        memory.set(rule, KEY, s.episode.to_json(), now_ms=now_ms)


def span(ms: float) -> Msg:
    """A length of time for a message: "40 min", "2.5 h" (in the reader's language)."""
    minutes = max(0.0, ms) / 60_000
    return L_("{minutes:.0f} min", minutes=minutes) if minutes < 120 else \
        L_("{hours:.1f} h", hours=minutes / 60)
