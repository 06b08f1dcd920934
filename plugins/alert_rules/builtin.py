"""Registers the built-in alert rules."""

from __future__ import annotations

from plugins import hookimpl
from plugins.alert_rules.base import AlertRule
from plugins.alert_rules.cascade_rules import CascadeRule, CascadeWatchRule
from plugins.alert_rules.config_rules import UnknownSymbolRule
from plugins.alert_rules.hedge_rules import HedgeBreakdownRule
from plugins.alert_rules.market_rules import DataRule, FundingRule, RegimeRule
from plugins.alert_rules.trade_rules import LiquidationRule, RebalanceRule, TakeProfitRule
from plugins.alert_rules.user_rules import UserRulesRule

BUILTIN_RULES: tuple[type[AlertRule], ...] = (
    DataRule, RegimeRule, CascadeRule, CascadeWatchRule, FundingRule, LiquidationRule,
    RebalanceRule, TakeProfitRule, HedgeBreakdownRule, UnknownSymbolRule, UserRulesRule)


@hookimpl
def hedgewatch_register_alert_rules() -> list[AlertRule]:
    return [cls() for cls in BUILTIN_RULES]
