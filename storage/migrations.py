"""The schema, as named migration steps (sqlite-utils ``Migrations``).

Steps are applied in order, once each, each in its own transaction; opening an older database
applies the steps it lacks. Never edit a step that has shipped: add a new one.
Timestamps are Unix milliseconds UTC; JSON columns hold text written by ``json.dumps``.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("hedgewatch")


@migrations()
def m001_initial(db: Database) -> None:
    db["chats"].create(
        {"id": int, "type": str, "title": str, "settings": str, "subscriptions": str,
         "min_severity": str, "muted_until": int, "timezone": str, "active": int,
         "created_at": int, "updated_at": int},
        pk="id", not_null={"type", "active"}, defaults={"active": 1, "settings": "{}",
                                                         "subscriptions": "[]"},
    )
    db["trades"].create(
        {"id": int, "chat_id": int, "user_id": int, "exchange": str, "symbol": str, "side": str,
         "size": float, "entry": float, "leverage": float, "margin_mode": str, "strategy": str,
         "opened_at": int, "closed_at": int, "exit_price": float, "fees": float,
         "funding": float, "note": str},
        pk="id", foreign_keys=[("chat_id", "chats", "id")],
        not_null={"user_id", "symbol", "side", "size", "entry", "leverage", "opened_at"},
        defaults={"margin_mode": "isolated", "fees": 0.0, "funding": 0.0},
    )
    db["trades"].create_index(["user_id", "closed_at"])
    db["candles"].create(
        {"exchange": str, "symbol": str, "timeframe": str, "ts": int, "open": float,
         "high": float, "low": float, "close": float, "volume": float},
        pk=("exchange", "symbol", "timeframe", "ts"),
    )
    db["market_stats"].create(
        {"exchange": str, "symbol": str, "kind": str, "ts": int, "value": float, "data": str},
        pk=("exchange", "symbol", "kind", "ts"),
    )
    db["alerts"].create(
        {"id": int, "dedup_key": str, "kind": str, "severity": str, "symbol": str,
         "trade_id": int, "owner_chat_id": int, "payload": str, "created_at": int},
        pk="id", not_null={"dedup_key", "kind", "severity", "created_at"},
    )
    db["alerts"].create_index(["dedup_key"], unique=True)
    db["alerts"].create_index(["kind", "created_at"])
    db["deliveries"].create(
        {"id": int, "alert_id": int, "chat_id": int, "status": str, "attempts": int,
         "message_id": int, "error": str, "updated_at": int},
        pk="id", foreign_keys=[("alert_id", "alerts", "id")],
        not_null={"alert_id", "chat_id", "status"}, defaults={"status": "pending", "attempts": 0},
    )
    db["deliveries"].create_index(["alert_id", "chat_id"], unique=True)
    db["deliveries"].create_index(["status", "updated_at"])
    db["recommendations"].create(
        {"id": int, "trade_id": int, "strategy": str, "created_at": int, "legs": str,
         "reason": str, "data_time": int},
        pk="id", foreign_keys=[("trade_id", "trades", "id")],
    )
    db["recommendations"].create_index(["trade_id", "strategy", "created_at"])
    db["heartbeat"].create(
        {"name": str, "ts": int, "duration_ms": float, "status": str, "detail": str}, pk="name",
    )


@migrations()
def m002_user_settings(db: Database) -> None:
    """Per-user preferences (chosen strategy, timezone) apart from per-chat alert settings."""
    db["users"].create(
        {"id": int, "strategy": str, "timezone": str, "created_at": int, "updated_at": int},
        pk="id",
    )


@migrations()
def m003_alert_outbox(db: Database) -> None:
    """Alert cooldowns by subject, delivery backoff, and the memory alert rules keep between
    cycles (last cascade level, last spike state, ...)."""
    db["alerts"].add_column("cooldown_key", str)
    db["alerts"].create_index(["cooldown_key", "created_at"])
    db["deliveries"].add_column("next_attempt_at", int)
    db["rule_state"].create(
        {"rule": str, "key": str, "value": str, "updated_at": int}, pk=("rule", "key"),
    )



@migrations()
def m004_plugin_failures(db: Database) -> None:
    """Failures of third-party plugins at run time, so ``bot.py plugins`` (another process)
    can name the plugin that raised in a hook, how often and when last."""
    db["plugin_failures"].create(
        {"plugin": str, "hook": str, "error": str, "count": int, "first_at": int,
         "last_at": int},
        pk=("plugin", "hook"), not_null={"count", "first_at", "last_at"},
    )


@migrations()
def m005_trade_legs_liquidation_funding(db: Database) -> None:
    """Hedge legs belong to a trade (``parent_id``); a trade knows its isolated margin and how
    it ended (``close_reason``: closed, liquidated); funding is kept per payment; a button
    pressed twice logs once (``client_key``)."""
    db["trades"].add_column("parent_id", int)
    db["trades"].add_column("margin", float)
    db["trades"].add_column("close_reason", str)
    db["trades"].add_column("client_key", str)
    db["trades"].add_column("fee_rate", float)
    db.execute("update trades set margin = size * entry / leverage where margin is null")
    db.execute("update trades set close_reason = 'closed' where closed_at is not null")
    db["trades"].create_index(["parent_id"])
    db.execute("create unique index idx_trades_client_key on trades (user_id, client_key) "
               "where client_key is not null")
    db["funding_payments"].create(
        {"trade_id": int, "time_ms": int, "rate": float, "price": float, "amount": float},
        pk=("trade_id", "time_ms"), foreign_keys=[("trade_id", "trades", "id")],
        not_null={"rate", "price", "amount"},
    )


@migrations()
def m006_delivery_policy(db: Database) -> None:
    """Delivery that matches Telegram: an alert's ``subject`` (what newer alerts supersede),
    per delivery the attempts that went out without an answer (read timeouts, crashes: they
    may have arrived) and the delivery a superseded one was folded into."""
    db["alerts"].add_column("subject", str)
    db.execute("update alerts set subject = cooldown_key")
    db["alerts"].create_index(["subject"])
    db["deliveries"].add_column("unanswered", int, not_null_default=0)
    db["deliveries"].add_column("folded_into", int)
    db["deliveries"].create_index(["chat_id", "status"])


@migrations()
def m007_exchange_accounts(db: Database) -> None:
    """Each trader's connected exchange accounts (the read-only key encrypted, never in
    clear), the ``/connect`` waiting for a key, and trades synced from an account: where they
    come from (``source`` exchange, ``account_id``, the exchange's ``position_id``), the
    liquidation prices at the last sync (ours, the exchange's), and each fill or charge
    already applied (``synced_events``, so a sync applies each once)."""
    db["accounts"].create(
        {"id": int, "user_id": int, "exchange": str, "keys": str, "rights": str, "mode": str,
         "created_at": int, "synced_at": int, "cursor": int, "last_error": str,
         "error_since": int},
        pk="id", not_null={"user_id", "exchange", "keys", "created_at"},
    )
    db["accounts"].create_index(["user_id", "exchange"], unique=True)
    db["connect_requests"].create(
        {"user_id": int, "exchange": str, "expires_at": int}, pk="user_id",
        not_null={"exchange", "expires_at"},
    )
    for name, kind in (("source", str), ("account_id", int), ("position_id", str),
                       ("liq_price", float), ("exchange_liq_price", float),
                       ("synced_at", int)):
        db["trades"].add_column(name, kind)
    db["trades"].create_index(["account_id", "closed_at"])
    db["synced_events"].create(
        {"account_id": int, "event_id": str, "trade_id": int, "time_ms": int},
        pk=("account_id", "event_id"),
    )


@migrations()
def m010_user_alert_rules(db: Database) -> None:
    """A user's own alerts (``/alert btc < 60000``): one row per rule, owned by the user who
    set it and private to them; soft-deleted so an alert already recorded still names its
    rule. Per-chat (per-user in private) thresholds set with ``/threshold``."""
    db["user_alerts"].create(
        {"id": int, "user_id": int, "chat_id": int, "kind": str, "symbol": str,
         "trade_id": int, "op": str, "value": float, "window_ms": int, "text": str,
         "created_at": int, "deleted_at": int},
        pk="id", not_null={"user_id", "kind", "op", "value", "text", "created_at"},
    )
    db["user_alerts"].create_index(["user_id", "deleted_at"])
    db["thresholds"].create(
        {"chat_id": int, "kind": str, "name": str, "value": str, "updated_at": int},
        pk=("chat_id", "kind", "name"), not_null={"value", "updated_at"},
    )


@migrations()
def m011_tradingview(db: Database) -> None:
    """TradingView alerts in: a route per destination (its URL token, the passphrase's hash,
    the chat and forum topic it relays to) and the intake log (every request's verdict)."""
    db["tv_routes"].create(
        {"id": int, "token": str, "passphrase_hash": str, "chat_id": int, "thread_id": int,
         "owner_id": int, "log_trades": int, "label": str, "created_at": int,
         "revoked_at": int},
        pk="id", not_null={"token", "passphrase_hash", "chat_id", "owner_id", "created_at"},
        defaults={"log_trades": 0},
    )
    db["tv_routes"].create_index(["token"], unique=True)
    db["tv_intake"].create(
        {"id": int, "route_id": int, "received_at": int, "remote_ip": str, "status": int,
         "verdict": str, "detail": str, "ticker": str, "symbol": str, "digest": str,
         "alert_id": int},
        pk="id", not_null={"received_at", "status", "verdict"},
    )
    db["tv_intake"].create_index(["route_id", "received_at"])
    db["tv_intake"].create_index(["received_at"])
