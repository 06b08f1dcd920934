"""The messages an account sync sends: a synced trade closed by liquidation (critical, once)
or by auto-deleveraging, and the account that stopped syncing (once) or syncs again."""

from __future__ import annotations

from core.alerts import Alert
from storage.accounts import Account
from storage.trades import LIQUIDATED, Trade


def _base(t: Trade) -> str:
    return t.symbol.split("-")[0].removesuffix("USDT") or t.symbol


def closed_alert(t: Trade, *, exchange: str, open_legs: list[Trade], data_age_ms: int
                 ) -> Alert:
    """One message for a synced trade the exchange closed: by liquidation (critical) or ADL
    (warning), with the exchange's exit, fees and funding."""
    liquidated = t.close_reason == LIQUIDATED
    how = "liquidation" if liquidated else "auto-deleveraging (ADL)"
    role = f" (hedge leg of #{t.parent_id})" if t.parent_id is not None else ""
    body = [f"Trade #{t.id}{role}: {t.side} {t.size:g} {_base(t)} @ {t.entry:g}, "
            f"{t.leverage:g}× {t.margin_mode}",
            f"{exchange} closed it by {how} at {t.exit_price:g} (its fills).",
            f"Realised {t.realised_pnl or 0.0:+,.2f} USDT after {t.fees:,.2f} USDT fees"
            + (" (the liquidation penalty included)" if liquidated else "")
            + f"; funding {t.funding:+,.2f} USDT."]
    if open_legs:
        body.append("Its hedge legs are still open: " + ", ".join(
            f"#{leg.id} {leg.side} {leg.size:g} {_base(leg)}" for leg in open_legs))
    return Alert(
        kind="liquidation", dedup_key=f"liquidation:{t.id}:closed",
        severity="critical" if liquidated else "warning",
        title=f"#{t.id} {_base(t)} {t.side} closed by {how} on {exchange} at {t.exit_price:g}",
        body=tuple(body),
        action="Nothing to log: your trade log has the exchange's exit, fees and funding."
        + (" Close its legs with /close <id> @<price> if you closed them." if open_legs
           else ""),
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
        title=f"Your {account.exchange} account is not syncing",
        body=(f"Reading it failed: {error}",
              "Your synced trades keep their last numbers; liquidation warnings still use them, "
              "but closes on the exchange reach your log only once it syncs again."),
        action=f"Check the key on {account.exchange} (not deleted, not expired, read "
               "rights), then /sync; or /disconnect and /connect a new read-only key.",
        time_ms=now_ms, data_age_ms=0, cooldown_ms=0,
        cooldown_key=f"account:{account.id}:failing",
        payload={"account": account.exchange, "error": error},
        owner_chat_id=account.user_id)


def recovered_alert(account: Account, since_ms: int, now_ms: int) -> Alert:
    minutes = max(0, (now_ms - since_ms) // 60_000)
    return Alert(
        kind="account", dedup_key=f"account:{account.id}:recovered:{now_ms}", severity="info",
        title=f"Your {account.exchange} account syncs again",
        body=(f"It could not be read for {minutes} min; the log has caught up.",),
        action="Nothing to do.", time_ms=now_ms, data_age_ms=0, cooldown_ms=0,
        cooldown_key=f"account:{account.id}:recovered",
        payload={"account": account.exchange}, owner_chat_id=account.user_id)
