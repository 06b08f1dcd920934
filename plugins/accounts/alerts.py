"""The messages an account sync sends: a synced trade closed by liquidation (critical, once)
or by auto-deleveraging, and the account that stopped syncing (once) or syncs again."""

from __future__ import annotations

from core.alerts import Alert
from i18n import L_, Msg
from plugins.alert_rules.words import listing, word
from storage.accounts import Account
from storage.trades import LIQUIDATED, Trade


def _base(t: Trade) -> str:
    return t.symbol.split("-")[0].removesuffix("USDT") or t.symbol


def closed_alert(t: Trade, *, exchange: str, open_legs: list[Trade], data_age_ms: int
                 ) -> Alert:
    """One message for a synced trade the exchange closed: by liquidation (critical) or ADL
    (warning), with the exchange's exit, fees and funding."""
    liquidated = t.close_reason == LIQUIDATED
    trade = {"trade_id": t.id, "side": word(t.side), "size": t.size, "base": _base(t),
             "entry": t.entry, "leverage": t.leverage, "mode": word(t.margin_mode),
             "exchange": exchange, "exit": t.exit_price}
    money = {"pnl": t.realised_pnl or 0.0, "fees": t.fees, "funding": t.funding}
    body: list[str | Msg] = [
        L_("Trade #{trade_id} (hedge leg of #{parent_id}): {side} {size:g} {base} @ {entry:g}, "
           "{leverage:g}× {mode}", parent_id=t.parent_id, **trade) if t.parent_id is not None
        else L_("Trade #{trade_id}: {side} {size:g} {base} @ {entry:g}, {leverage:g}× {mode}",
                **trade),
        L_("{exchange} closed it by liquidation at {exit:g} (its fills).", **trade)
        if liquidated else
        L_("{exchange} closed it by auto-deleveraging (ADL) at {exit:g} (its fills).", **trade),
        L_("Realised {pnl:+,.2f} USDT after {fees:,.2f} USDT fees (the liquidation penalty "
           "included); funding {funding:+,.2f} USDT.", **money) if liquidated else
        L_("Realised {pnl:+,.2f} USDT after {fees:,.2f} USDT fees; funding {funding:+,.2f} "
           "USDT.", **money)]
    if open_legs:
        body.append(L_("Its hedge legs are still open: {legs}", legs=listing(
            L_("#{trade_id} {side} {size:g} {base}", trade_id=leg.id, side=word(leg.side),
               size=leg.size, base=_base(leg)) for leg in open_legs)))
    return Alert(
        kind="liquidation", dedup_key=f"liquidation:{t.id}:closed",
        severity="critical" if liquidated else "warning",
        title=L_("#{trade_id} {base} {side} closed by liquidation on {exchange} at {exit:g}",
                 **trade) if liquidated else
        L_("#{trade_id} {base} {side} closed by auto-deleveraging (ADL) on {exchange} at "
           "{exit:g}", **trade),
        body=tuple(body),
        action=L_("Nothing to log: your trade log has the exchange's exit, fees and funding. "
                  "Close its legs with /close <id> @<price> if you closed them.")
        if open_legs else
        L_("Nothing to log: your trade log has the exchange's exit, fees and funding."),
        time_ms=t.closed_at or 0, data_age_ms=data_age_ms, cooldown_ms=0,
        cooldown_key=f"liquidation:{t.id}:closed",
        payload={"trade_id": t.id, "symbol": t.symbol, "exchange": exchange,
                 "close_reason": t.close_reason, "exit_price": t.exit_price,
                 "realised_pnl": t.realised_pnl, "fees": t.fees, "funding": t.funding,
                 "synced": True, "closed": True},
        symbol=t.symbol, trade_id=t.id, owner_chat_id=t.user_id)


def failing_alert(account: Account, error: str, now_ms: int) -> Alert:
    """The account stopped syncing (a revoked or expired key, the exchange down): once."""
    return Alert(
        kind="account", dedup_key=f"account:{account.id}:failing:{now_ms}", severity="warning",
        title=L_("Your {exchange} account is not syncing", exchange=account.exchange),
        body=(L_("Reading it failed: {error}", error=error),
              L_("Your synced trades keep their last numbers; liquidation warnings still use "
                 "them, but closes on the exchange reach your log only once it syncs again.")),
        action=L_("Check the key on {exchange} (not deleted, not expired, read rights), then "
                  "/sync; or /disconnect and /connect a new read-only key.",
                  exchange=account.exchange),
        time_ms=now_ms, data_age_ms=0, cooldown_ms=0,
        cooldown_key=f"account:{account.id}:failing",
        payload={"account": account.exchange, "error": error},
        owner_chat_id=account.user_id)


def recovered_alert(account: Account, since_ms: int, now_ms: int) -> Alert:
    minutes = max(0, (now_ms - since_ms) // 60_000)
    return Alert(
        kind="account", dedup_key=f"account:{account.id}:recovered:{now_ms}", severity="info",
        title=L_("Your {exchange} account syncs again", exchange=account.exchange),
        body=(L_("It could not be read for {minutes} min; the log has caught up.",
                 minutes=minutes),),
        action=L_("Nothing to do."), time_ms=now_ms, data_age_ms=0, cooldown_ms=0,
        cooldown_key=f"account:{account.id}:recovered",
        payload={"account": account.exchange}, owner_chat_id=account.user_id)
