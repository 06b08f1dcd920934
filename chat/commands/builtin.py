"""Registers the built-in chat commands (a default plugin, like any third-party one)."""

from __future__ import annotations

from typing import Any

from plugins import hookimpl


@hookimpl
def hedgewatch_register_commands() -> list[Any]:
    from chat.commands.account import Account
    from chat.commands.accounts import Balance, Cancel, Connect, Disconnect, Sync
    from chat.commands.alert_rules import ListAlerts, SetAlert
    from chat.commands.backtest import BacktestCommand
    from chat.commands.corr import Corr
    from chat.commands.hedge import Hedge
    from chat.commands.hedge_legs import Hedged
    from chat.commands.help import Help, Start
    from chat.commands.lang import Lang
    from chat.commands.market import Market
    from chat.commands.pnl import Pnl
    from chat.commands.prefs import Mute, Settings, Subscribe, Unmute, Unsubscribe
    from chat.commands.risk import Risk
    from chat.commands.status import Status
    from chat.commands.threshold import Threshold
    from chat.commands.trade_views import Daily, Export, Monthly, Performance, Stats, Weekly
    from chat.commands.trades import Close, Log, Open, Positions
    from chat.commands.whatif import WhatIf
    from chat.tradingview.commands import TvLog, TvRoute

    return [Start(), Help(), Hedge(), Risk(), WhatIf(), Corr(), Market(), Status(),
            Open(), Close(), Positions(), Hedged(), Log(), Account(),
            Connect(), Cancel(), Disconnect(), Sync(), Balance(),
            Pnl(), Daily(), Weekly(), Monthly(), Performance(), Stats(), Export(),
            Subscribe(), Unsubscribe(), Mute(), Unmute(), Settings(), Lang(), BacktestCommand(),
            SetAlert(), ListAlerts(), Threshold(),
            TvRoute(), TvLog()]
