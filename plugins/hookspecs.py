"""Every hook hedgewatch offers, in one flat module (the datasette way).

Register hooks run once at start-up and return lists of things to add; notification hooks run
as things happen. A hookimpl may take fewer arguments than its spec, so specs can grow without
breaking plugins. ``tests/plugins/test_hookspecs.py`` checks every hook is documented here, in
the README, and exercised by a test.
"""

# A spec is never called, only read by pluggy: its body is the docstring and its return type
# says what a hookimpl returns, so mypy's "no return statement" check does not apply here.
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from typing import Any

from plugins import hookspec

# --- registration (called once at start-up; every plugin's list is merged) -----------------


@hookspec
def hedgewatch_register_exchanges() -> list[type]:
    """Return market-source classes (subclasses of ``plugins.exchanges.source.MarketSource``).

    Each class has a unique ``name`` (``okx``, ``csv``, ``sim``, ...) chosen with
    ``[exchange] name`` in the config or ``--exchange`` on the command line.
    """


@hookspec
def hedgewatch_register_strategies() -> list[type]:
    """Return hedge strategy classes (see ``plugins.strategies.base.Strategy``).

    A strategy is chosen by its ``name``; the live bot and the backtester run the same code.
    """


@hookspec
def hedgewatch_register_commands() -> list[Any]:
    """Return chat commands (``chat.commands.base.Command``) for Telegram, console and CLI."""


@hookspec
def hedgewatch_register_alert_rules() -> list[Any]:
    """Return alert rules (see ``plugins.alert_rules.base.AlertRule``): objects with a
    ``name``, a ``kind`` and ``evaluate(ctx) -> list[Alert]``, run every watch cycle.

    The rule's ``kind`` must be a built-in kind or one registered with
    ``hedgewatch_register_alert_kinds``; a rule of an unknown kind is left out.
    """


@hookspec
def hedgewatch_register_alert_kinds() -> list[Any]:
    """Return new alert kinds (``core.alerts.AlertKind``: name, one-line description,
    scope ``market`` or ``trade``) so users can ``/subscribe`` to them.

    They are listed by ``/subscribe``, ``/settings`` and ``/help subscribe`` after the
    built-in kinds. A kind whose name is taken or malformed is left out and reported.
    """


@hookspec
def hedgewatch_register_translations() -> list[tuple[str, Any]]:
    """Return ``(domain, localedir)`` pairs: the plugin's own gettext catalogs,
    ``<localedir>/<lang>/LC_MESSAGES/<domain>.po`` (e.g. ``zh_Hans``), read with
    ``_ = i18n.domain_gettext(domain)`` and ``L_ = i18n.domain_lazy(domain)``.

    A string the catalog lacks reads as its English. The domain must be the plugin's own
    (not ``hedgewatch``, not one another plugin took) and the folder must exist; a bad pair
    is left out and reported.
    """


# --- notifications (called as things happen; return values are ignored) --------------------


@hookspec
def hedgewatch_on_alert(alert: Any) -> None:
    """Called once for every alert raised, after it is stored and before it is delivered."""


@hookspec
def hedgewatch_on_cycle(summary: Any) -> None:
    """Called after every completed watch cycle with its summary (timings, counts, errors)."""
