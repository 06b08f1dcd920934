"""Chat fixtures: real SQLite in tmp_path, the simulated market (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.commands.base import Reply
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from plugins.exchanges.sim_market import SimMarket
from plugins.manager import PluginManager
from settings import Config
from settings.secrets import Secrets
from storage import open_database

FIXED_NOW = 1_772_323_200.0  # the sim clock, in seconds


def sim_config(db_path: Path) -> Config:
    return Config().with_overrides(exchange={"name": "sim"}, storage={"path": str(db_path)})


@pytest.fixture(scope="session")
def sim_market() -> SimMarket:
    """One simulated market for the whole session: generating the paths takes ~1 s."""
    return SimMarket(Config().exchange.model_copy(update={"name": "sim"}))


@pytest.fixture
def plugins() -> PluginManager:
    return PluginManager(entry_points=False)


@pytest.fixture
def commands(plugins):
    return plugins.collect("hedgewatch_register_commands")


@pytest.fixture
def services(tmp_path, sim_market, commands) -> Services:
    cfg = sim_config(tmp_path / "hw.db")
    return Services(cfg, open_database(cfg.storage.path), sim_market,
                    commands={c.name: c for c in commands}, clock=lambda: FIXED_NOW)


class Chat:
    """Sends lines through the dispatcher as a given user in a given chat."""

    def __init__(self, services: Services, commands) -> None:
        self.services = services
        self.dispatcher = Dispatcher(commands, bot_name="hedgewatch_bot")

    async def __call__(self, text: str, *, user: int = 1, chat: int | None = None,
                       chat_type: str = "private", is_admin: bool = True) -> Reply:
        ctx = CommandContext(user_id=user, chat_id=user if chat is None else chat,
                             services=self.services, chat_type=chat_type, is_admin=is_admin)
        reply = await self.dispatcher.handle(text, ctx)
        assert reply is not None
        return reply


@pytest.fixture
def chat(services, commands) -> Chat:
    return Chat(services, commands)


@pytest.fixture
def runtime(tmp_path, plugins):
    """What bot.py hands the console: config (sim market, tmp database) and plugins."""
    from runtime import build_runtime

    return build_runtime(sim_config(tmp_path / "hw.db"), Secrets(), plugins=plugins)
