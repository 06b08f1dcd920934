"""The example third-party package (examples/hedgewatch-example), installed through the
``hedgewatch`` entry-point group as pip would: a dist-info on ``sys.path``.

It brings a ``tryfirst`` strategy, a wrapper around a register hook, an alert kind with its
rule, and a command; a broken package raises in every hook and the rest stays whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bot
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from chat.sender import Sender, make_bot
from jobs.cycle import WatchCycle
from plugins import hookimpl
from plugins.exchanges.sim_market import SimMarket
from plugins.strategies.base import Decision, Strategy
from runtime import build_runtime
from settings import Config
from settings.secrets import Secrets
from storage.chats import ensure_chat
from tests.fakes.telegram_server import FakeTelegram, FloodControl

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hedgewatch-example"
CHAT = 5150

BROKEN = '''
from plugins import hookimpl
from plugins.strategies.base import Strategy


class Boom:
    name = "boom"
    kind = "cascade"

    def evaluate(self, ctx):
        raise RuntimeError("rule bug")


class Explodes(Strategy):
    name = "explodes"

    def decide(self, bar, state):
        raise RuntimeError("strategy bug")


@hookimpl
def hedgewatch_register_exchanges():
    raise RuntimeError("exchange hook bug")

@hookimpl
def hedgewatch_register_strategies():
    return [Explodes]

@hookimpl
def hedgewatch_register_commands():
    raise RuntimeError("command hook bug")

@hookimpl
def hedgewatch_register_alert_kinds():
    raise RuntimeError("kind hook bug")

@hookimpl
def hedgewatch_register_alert_rules():
    return [Boom()]

@hookimpl
def hedgewatch_on_alert(alert):
    raise RuntimeError("notifier bug")

@hookimpl
def hedgewatch_on_cycle(summary):
    raise RuntimeError("cycle listener bug")
'''


def dist_info(folder: Path, dist: str, version: str, entry: str) -> None:
    info = folder / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[hedgewatch]\n{entry}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site-packages folder holding the example package's dist-info (its code stays in
    examples/, as ``pip install -e`` would leave it) — and nothing broken yet."""
    folder = tmp_path / "site"
    dist_info(folder, "hedgewatch-example", "0.1.0", "example = hedgewatch_example")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("HEDGEWATCH_STORAGE_PATH", str(tmp_path / "hw.db"))
    monkeypatch.chdir(tmp_path)
    yield folder
    for name in ("hedgewatch_example", "hw_broken"):
        sys.modules.pop(name, None)


@pytest.fixture
def broken(site: Path) -> Path:
    (site / "hw_broken.py").write_text(textwrap.dedent(BROKEN))
    dist_info(site, "hw-broken", "6.6.6", "broken = hw_broken")
    return site


@pytest.fixture(scope="module")
def sim_market() -> SimMarket:
    return SimMarket(Config().exchange.model_copy(update={"name": "sim"}))


def config(tmp_path: Path, **extra: object) -> Config:
    return Config().with_overrides(exchange={"name": "sim"},
                                   storage={"path": str(tmp_path / "hw.db")},
                                   engine={"slow_window": "10d"}, **extra)


def test_bot_plugins_lists_the_installed_package(site: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(EXAMPLE), str(ROOT)])}
    out = subprocess.run([sys.executable, str(ROOT / "bot.py"), "plugins"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    block = out.stdout.split("example  [entry point hedgewatch-example 0.1.0]\n")[1]
    hooks = []
    for line in block.splitlines():
        if not line.startswith("    "):
            break
        hooks.append(line.strip())
    assert hooks == ["hedgewatch_register_alert_kinds", "hedgewatch_register_alert_rules",
                     "hedgewatch_register_commands", "hedgewatch_register_strategies",
                     "hedgewatch_register_translations"]
    assert "FAILED" not in out.stdout


class LatePlugin:
    """A plain strategy plugin registered after the example: pluggy calls it before the
    example's plain implementations, but not before a tryfirst one."""

    class Late(Strategy):
        name = "late"

        def decide(self, bar, state):
            return Decision((), "no hedge")

    @hookimpl
    def hedgewatch_register_strategies(self):
        return [self.Late]


async def test_the_example_strategy_command_and_wrapper_work_in_chat(site, tmp_path,
                                                                    sim_market):
    rt = build_runtime(config(tmp_path), Secrets())
    rt.plugins.register(LatePlugin(), name="late")
    rt = build_runtime(rt.config, plugins=rt.plugins)
    services = Services.from_runtime(rt, rt.open_storage(), sim_market)
    chat = Dispatcher(rt.commands)
    ctx = CommandContext.local(services)

    hedge = await chat.handle("/hedge btc 0.5 10x", ctx)
    assert hedge.ok, hedge.text
    order = list(hedge.data["strategies"])
    assert order[:2] == ["half_beta", "late"] and "min_variance" in order
    half, full = (hedge.data["strategies"][n]["legs"][0] for n in ("half_beta", "min_variance"))
    assert half["symbol"] == full["symbol"] and half["size"] == pytest.approx(full["size"] / 2)

    summary = await chat.handle("/summary", ctx)
    assert summary.ok and summary.text[0].startswith("Market: cascade level ")
    gone = await chat.handle("/backtest btc", ctx)
    assert gone.kind == "usage" and "I don't know /backtest" in gone.text[0]


async def test_subscribing_to_the_plugins_kind_brings_its_alert(site, tmp_path, sim_market):
    async with FakeTelegram(flood=FloodControl(enabled=False)) as tg:
        cfg = config(tmp_path, telegram={"api_url": tg.base_url})
        rt = build_runtime(cfg, Secrets())
        db = rt.open_storage()
        services = Services.from_runtime(rt, db, sim_market)
        chat = Dispatcher(rt.commands)
        ctx = CommandContext(CHAT, CHAT, services)

        helped = await chat.handle("/help subscribe", ctx)
        assert any(line.strip().startswith("summary — one line per bar") and
                   "(plugin example)" in line for line in helped.text)
        sub = await chat.handle("/subscribe summary", ctx)
        assert sub.ok and sub.data["settings"]["subscriptions"] == ["summary"]
        ensure_chat(db, CHAT + 1)  # another chat, not subscribed
        settings = await chat.handle("/settings", ctx)
        assert "Alerts: summary" in settings.text

        sender = Sender(db, make_bot(cfg, tg.token), cfg, per_chat_interval=0.0,
                        clock=lambda: sim_market.clock_ms / 1000)

        async def send() -> int:
            return (await sender.drain()).sent

        cycle = WatchCycle(rt, db=db, market=sim_market, send_stage=send,
                           clock=lambda: sim_market.clock_ms / 1000)
        summary = await cycle.run()
        assert summary.alerts.get("summary") == 1 and summary.error is None
        got = await tg.wait_for_messages(1, chat_id=CHAT, timeout=10)
        assert "Market: cascade level" in got[0].visible_text
        assert tg.sent_to(CHAT + 1) == []


async def test_a_plugin_raising_in_every_hook_is_isolated_and_named(broken, tmp_path,
                                                                    sim_market, caplog,
                                                                    capsys):
    cfg = config(tmp_path)
    rt = build_runtime(cfg, Secrets())
    db = rt.open_storage()
    # what every register hook of the healthy plugins gave is all there
    assert {"sim", "okx", "csv"} <= set(rt.extensions.exchanges)
    assert {"hedge", "risk", "summary"} <= set(rt.extensions.command_map)
    assert "summary" in rt.extensions.alert_kinds and "explodes" in rt.strategies
    services = Services.from_runtime(rt, db, sim_market)
    hedge = await Dispatcher(rt.commands).handle("/hedge btc 0.5 10x",
                                                 CommandContext.local(services))
    assert hedge.ok and "explodes" not in hedge.data["strategies"]
    assert {"half_beta", "none", "static", "min_variance", "seed_regime", "counterweight"} <= \
        set(hedge.data["strategies"])
    assert any("strategy explodes left out: RuntimeError: strategy bug" in w
               for w in hedge.data["warnings"])

    from storage.trades import open_trade

    price = (await sim_market.snapshot(bars=2)).last_price("BTC-USDT-SWAP")
    trade = open_trade(db, user_id=1, chat_id=1, symbol="BTC-USDT-SWAP", side="long", size=0.5,
                       entry=price, leverage=10, opened_at=0, fee_rate=0.0005)
    db["trades"].update(trade.id, {"strategy": "explodes"})
    summary = await WatchCycle(rt, db=db, market=sim_market,
                               clock=lambda: sim_market.clock_ms / 1000).run()
    assert summary.error is None and summary.alerts.get("summary") == 1

    expected = {("broken", "hedgewatch_register_exchanges"),
                ("broken", "hedgewatch_register_commands"),
                ("broken", "hedgewatch_register_alert_kinds"),
                ("broken", "alert rule boom"), ("broken", "hedgewatch_on_alert"),
                ("broken", "hedgewatch_on_cycle"),
                ("broken", "strategy explodes on /hedge BTC-USDT-SWAP"),
                ("broken", f"strategy explodes on trade {trade.id}")}
    assert expected <= {(f.plugin, f.hook) for f in rt.plugins.failures}
    assert "plugin broken failed in hedgewatch_on_cycle" in caplog.text

    capsys.readouterr()
    assert bot.main(["plugins", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert expected <= {(f["plugin"], f["hook"]) for f in shown["failures"]}
    cycle_failure = next(f for f in shown["failures"] if f["hook"] == "hedgewatch_on_cycle")
    assert cycle_failure["count"] == 1 and "cycle listener bug" in cycle_failure["error"]
