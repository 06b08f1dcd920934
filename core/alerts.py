"""The alert vocabulary: severities, alert kinds, and the ``Alert`` value itself.

It sits at the bottom layer because everyone speaks it: rules (plugins) raise alerts, the
outbox (storage) records and routes them, the chat renders them and lets users subscribe.
The built-in kinds are listed here; plugins add kinds through the
``hedgewatch_register_alert_kinds`` hook, and an ``AlertKinds`` holds the whole set a running
bot knows (built-ins first, then plugins' kinds in the order pluggy called them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from i18n import DEFAULT, N_, Msg, render, use

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")

MARKET = "market"  # sent to every chat subscribed to the kind (and the signal channel)
TRADE = "trade"  # about one logged trade: sent to its owner's private chat only
OPERATOR = "operator"  # about the bot or one user's setup: sent to the chat it names only
PERSONAL = "personal"  # a rule a user set (/alert): sent to that user only, not subscribable
SCOPES = (MARKET, TRADE, OPERATOR, PERSONAL)

KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for critical; ``ValueError`` for anything else."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class AlertKind:
    """A kind of alert users can subscribe to.

    ``name`` is what ``/subscribe`` takes (lower case, digits and ``_``, at most 32);
    ``description`` one line for ``/help subscribe`` and ``/settings`` (English, marked
    with ``i18n.N_``: shown through ``_()`` in the reader's language); ``scope`` says who
    receives it (``market``: subscribers; ``trade``: the trade's owner, no subscription
    needed); ``source`` names the plugin that registered it.
    """

    name: str
    description: str
    scope: str = MARKET
    source: str = "built-in"

    def problems(self) -> list[str]:
        """What is wrong with this kind as a plugin declared it (empty when nothing)."""
        out = []
        if not isinstance(self.name, str) or not KIND_NAME.match(self.name):
            out.append(f"alert kind name {self.name!r} must match {KIND_NAME.pattern}")
        if not isinstance(self.description, str) or not self.description.strip():
            out.append(f"alert kind {self.name!r} needs a one-line description")
        if self.scope not in SCOPES:
            out.append(f"alert kind {self.name!r}: scope must be one of {', '.join(SCOPES)}")
        return out


BUILTIN_KINDS: tuple[AlertKind, ...] = (
    AlertKind("regime", N_("the market's correlations spike together (hedges stop diversifying)"
              " or return to normal")),
    AlertKind("cascade", N_("the liquidation-cascade level rises, or falls back to calm")),
    AlertKind("liquidation", N_("your logged trade nears its liquidation price"), TRADE),
    AlertKind("rebalance", N_("your trade's recommended hedge moved enough to adjust it"), TRADE),
    AlertKind("take_profit", N_("a hedge leg is in profit while the cascade level is high"),
              TRADE),
    AlertKind("hedge", N_("a held hedge leg no longer hedges your trade (its correlation fell or "
              "its stress beta flipped)"), TRADE),
    AlertKind("funding", N_("funding rates at an extreme (a crowded side, a costly carry)")),
    AlertKind("data", N_("market data is stale or the exchange cannot be reached, and recovery")),
    AlertKind("config", N_("a configured symbol the exchange does not list (to the operator)"),
              OPERATOR),
    AlertKind("account", N_("your connected exchange account stopped syncing, or syncs again"),
              OPERATOR),
    AlertKind("rule", N_("an alert you set yourself with /alert (sent to you only)"), PERSONAL),
)
BUILTIN_TRADE_KINDS = frozenset(k.name for k in BUILTIN_KINDS if k.scope == TRADE)

# Built-in kinds whose alerts are successive states of one thing: the cascade level, the
# regime, the data feed (one per market), a trade's liquidation risk (one per trade). A newer
# alert of such a subject supersedes an older one that has not reached the chat yet.
STATE_SUBJECTS = {"cascade": "kind", "regime": "kind", "data": "kind", "liquidation": "trade"}


class AlertKinds(Mapping[str, AlertKind]):
    """Every alert kind a running bot knows, by name, in a stable order (built-ins first)."""

    def __init__(self, kinds: Iterable[AlertKind] = BUILTIN_KINDS) -> None:
        self._kinds: dict[str, AlertKind] = {}
        for k in kinds:
            if k.name in self._kinds:
                raise ValueError(f"alert kind {k.name!r} is declared twice")
            self._kinds[k.name] = k

    def __getitem__(self, name: str) -> AlertKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    @property
    def subscribable(self) -> tuple[str, ...]:
        """The kinds a chat can ``/subscribe`` to (operator alerts and users' own rules are
        not among them: they go to the one chat they name)."""
        return tuple(n for n, k in self._kinds.items() if k.scope not in (OPERATOR, PERSONAL))

    def ordered(self, names: Iterable[str]) -> list[str]:
        """``names`` without repeats, known kinds in this order, unknown ones after (kept:
        a subscription to the kind of a plugin that is not loaded today is not lost)."""
        wanted = list(dict.fromkeys(names))
        return [n for n in self._kinds if n in wanted] + [n for n in wanted
                                                          if n not in self._kinds]


@dataclass(frozen=True)
class Alert:
    """One alert, JSON-ready: everything the sender needs to render it, with no live objects.

    ``dedup_key`` names the event ("cascade:high:<bar close ms>"): the same key is never
    recorded twice. ``cooldown_key`` names what the cooldown holds ("cascade:high"): another
    alert with that key within ``cooldown_ms`` is not recorded. ``subject`` names what
    successive alerts are states of ("cascade", "liquidation:<trade id>"): an older alert that
    has not reached a chat yet is folded into a newer one of the same subject; it defaults to
    the kind (or kind and trade) for the built-in state kinds (``STATE_SUBJECTS``), else to
    ``cooldown_key``. ``chart`` is a chart *spec* (kind and numbers) that ``chat.alert_charts``
    turns into a PNG only when the alert is sent. An alert
    with an ``owner_chat_id`` is about that trader's trade and goes to them alone.
    """

    kind: str
    dedup_key: str
    severity: str
    title: str | Msg  # a Msg (``i18n.L_``) is rendered in each reader's language
    body: tuple[str | Msg, ...]  # plain-text lines with the numbers behind the alert
    action: str | Msg  # what to do
    time_ms: int  # close of the bar the alert is about
    data_age_ms: int
    cooldown_ms: int
    cooldown_key: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)
    symbol: str | None = None
    trade_id: int | None = None
    owner_chat_id: int | None = None  # trade kinds: the trader's private chat
    chart: Mapping[str, Any] | None = None
    simulated: bool = False
    subject: str = ""
    thread_id: int | None = None  # a forum topic of the owner chat (TradingView routes)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.kind in BUILTIN_TRADE_KINDS and (self.owner_chat_id is None
                                                 or self.trade_id is None):
            raise ValueError(f"a {self.kind} alert needs its trade and owner chat")
        if not self.cooldown_key:
            object.__setattr__(self, "cooldown_key", self.dedup_key.rsplit(":", 1)[0])
        if not self.subject:
            mode = STATE_SUBJECTS.get(self.kind)
            subject = self.kind if mode == "kind" else f"{self.kind}:{self.trade_id}" \
                if mode == "trade" else self.cooldown_key
            object.__setattr__(self, "subject", subject)

    @property
    def market_wide(self) -> bool:
        """True unless the alert is about one trader's trade."""
        return self.owner_chat_id is None

    def texts(self) -> dict[str, Any]:
        """Title, body lines and action rendered in the current language (``i18n.use``)."""
        return {"title": str(self.title), "body": [str(b) for b in self.body],
                "action": str(self.action)}

    def to_record(self) -> dict[str, Any]:
        """The JSON stored with the alert: enough to render it in another process. Its
        words are English here; ``storage.outbox`` adds them in every language we speak."""
        with use(DEFAULT):
            english = self.texts()
            chart = render(dict(self.chart)) if self.chart else None
        return {**english,
                "time_ms": self.time_ms, "data_age_ms": self.data_age_ms,
                "cooldown_ms": self.cooldown_ms, "numbers": dict(self.payload),
                "chart": chart,
                "simulated": self.simulated,
                **({"thread_id": self.thread_id} if self.thread_id is not None else {})}
