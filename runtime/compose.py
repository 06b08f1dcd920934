"""``build_runtime``: the one function that puts hedgewatch together.

It sits above ``plugins`` and below the front ends (``chat``, ``backtest``, ``jobs``): it
reads nothing itself — the config and the secrets are handed in — builds the plugin manager,
loads every plugin's contributions once (``plugins.extensions``), and opens storage and the
market source on demand. ``bot.py run``, ``demo``, ``console``, the one-shot CLI commands and
``make bench`` all start from a ``Runtime``, so they cannot drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from core.evaluate import EngineParams
from i18n import _
from plugins.extensions import Extensions, load_extensions
from plugins.manager import PluginFailure, PluginManager
from settings.config import Config
from settings.engine import engine_params
from settings.secrets import Secrets
from storage import open_database
from storage.database import open_for_writing
from storage.plugin_failures import record_failure

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A bad argument or setting: exit code 2, one line on stderr."""


@dataclass(frozen=True)
class Runtime:
    """Everything a subcommand needs, built once from the config by ``build_runtime``."""

    config: Config
    secrets: Secrets
    plugins: PluginManager
    extensions: Extensions
    args: argparse.Namespace = field(default_factory=argparse.Namespace)

    @property
    def strategies(self) -> Any:
        return self.extensions.strategies

    @property
    def commands(self) -> tuple[Any, ...]:
        return self.extensions.commands

    @property
    def engine_params(self) -> EngineParams:
        return engine_params(self.config)

    def open_storage(self, path: str | None = None, *, for_writing: bool = False) -> Any:
        """The SQLite database (``[storage] path`` unless ``path`` is given), migrated.

        ``for_writing`` (the long-running bot) also checks that the disk has room and a write
        goes through, raising ``storage.database.StorageUnavailable`` (one line) if not.
        From now on plugin failures are also kept there (``storage.plugin_failures``), those
        of start-up included, for ``bot.py plugins`` to show."""
        where = path or self.config.storage.path
        busy_ms = self.config.storage.busy_timeout.ms
        db = (open_for_writing(where, busy_timeout_ms=busy_ms) if for_writing
              else open_database(where, busy_timeout_ms=busy_ms))

        def keep(f: PluginFailure) -> None:
            try:
                record_failure(db, f.plugin, f.hook, f.error, int(time.time() * 1000))
            except Exception as e:  # a full disk must not turn a plugin's failure into ours
                log.error("plugin failure of %s not stored: %s", f.plugin, e)

        for failure in self.plugins.failures:
            keep(failure)
        self.plugins.on_failure = keep
        return db

    def market(self, name: str | None = None, storage: Any = None) -> Any:
        """The market source named by ``--exchange`` or ``[exchange] name`` (not yet
        connected: ``load_instruments`` is the first call that reaches the exchange)."""
        name = name or self.config.exchange.name
        classes = self.extensions.exchanges
        if name not in classes:
            if not classes:
                raise UsageError(_("unknown exchange {name!r}; available: none").format(
                    name=name))
            raise UsageError(_("unknown exchange {name!r}; available: {names}").format(
                name=name, names=", ".join(sorted(classes))))
        return classes[name](self.config.exchange, secrets=self.secrets, storage=storage)

    def accounts(self, db: Any, market: Any) -> Any:
        """The traders' connected exchange accounts (``plugins.accounts.service.Accounts``):
        ``market`` (the bot's) serves its own exchange and prices what is synced; the other
        exchanges' sources are made on first use. Off (nothing can be connected) without
        ``ACCOUNT_ENCRYPTION_KEY``."""
        from plugins.accounts.service import Accounts
        from plugins.exchanges.account_access import AccountAccess
        from storage.key_vault import vault_from

        def resolve(unified: str) -> str | None:
            try:
                return str(market.resolve(unified))
            except Exception:  # not listed on the bot's market: the exchange's id is kept
                return None

        access = AccountAccess(lambda name: self.market(name, storage=db),
                               {str(getattr(market, "name", "")): market})
        return Accounts(db, vault_from(self.secrets.account_key), access, resolve=resolve,
                        min_severity=self.config.alerts.min_severity)

    def with_config(self, config: Config) -> Runtime:
        """The same plugins and contributions with another config (e.g. the demo's market, a
        CLI ``--exchange``)."""
        return dataclasses.replace(self, config=config)

    def with_args(self, args: argparse.Namespace) -> Runtime:
        return dataclasses.replace(self, args=args)


def build_runtime(config: Config, secrets: Secrets | None = None, *,
                  entry_points: bool | None = None,
                  plugins: PluginManager | None = None) -> Runtime:
    """Plugins built from ``config`` (``[plugins] disabled``, ``entry_points``; the argument
    overrides the latter, e.g. benchmarks run without third-party plugins) and every
    contribution loaded. Raises ``plugins.manager.PluginError`` for a broken installation."""
    pm = plugins or PluginManager(
        disabled=config.plugins.disabled,
        entry_points=config.plugins.entry_points if entry_points is None else entry_points)
    return Runtime(config, secrets or Secrets(), pm,
                   load_extensions(pm, config.strategies.params))
