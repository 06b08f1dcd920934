"""One TradingView request, start to end: checked, read, deduplicated, rate-limited, enriched,
written to the outbox and logged with its verdict. No HTTP here (``chat.tradingview.server``
is the web side), so every rule is testable with plain calls too.

Order of the checks: the source address (``[tradingview] allowed_ips``), the body's size, the
route (404 for an unknown or revoked token), the passphrase (401; the
``X-Hedgewatch-Passphrase`` header when sent, else the body's ``passphrase``), the body (400),
then a repeat of a body the route relayed within ``dedup_window`` (answered 200, sent once).
A route over ``route_rate`` per ``route_period`` still has its signal written — held back, so
that when the route frees up the newest one goes, saying how many it replaces (the outbox
folds them) — and nothing a 2xx answered is ever lost: it is in the outbox before we answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiolimiter import AsyncLimiter

from chat.context import Services
from chat.grammar import ArgumentError
from chat.tradingview.assess import assess_position
from chat.tradingview.message import Relay, english, relay_alert
from chat.tradingview.signal import Signal, SignalError, parse_body
from chat.tradingview.tickers import exchange_spelling
from i18n import L_
from plugins.exchanges.errors import MarketError
from storage import outbox, tv_routes
from storage.trades import open_trade
from storage.tv_routes import DUPLICATE, HELD, RELAYED, Intake, Route

log = logging.getLogger(__name__)
PASSPHRASE_HEADER = "X-Hedgewatch-Passphrase"


@dataclass(frozen=True)
class Answer:
    """The HTTP answer: status and one line of text."""

    status: int
    text: str


class TradingViewIntake:
    """``await intake.handle(token, body, headers, ip)`` → ``Answer``; ``kick()`` is called
    after a signal is written so the sender drains without waiting for the next cycle."""

    def __init__(self, services: Services, *, kick: Callable[[], Any] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.services = services
        self.config = services.config.tradingview
        self.kick = kick
        self.clock = clock or services.clock
        self.allowed = [ipaddress.ip_network(ip, strict=False)
                        for ip in self.config.allowed_ips]
        self._limiters: dict[int, AsyncLimiter] = {}

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def client_ip(self, remote_ip: str, headers: Mapping[str, str]) -> str:
        """The sender's address; behind a proxy, the one it names (the last hop it added)."""
        if not self.config.behind_proxy:
            return remote_ip
        real = headers.get("X-Real-Ip") or headers.get("X-Forwarded-For", "").split(",")[-1]
        return real.strip() or remote_ip

    def _ip_allowed(self, ip: str) -> bool:
        if not self.allowed:
            return True
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self.allowed)

    async def handle(self, token: str, body: bytes, headers: Mapping[str, str],
                     remote_ip: str) -> Answer:
        """One request; every outcome is logged in the intake log with its verdict."""
        now = self.now_ms()
        ip = self.client_ip(remote_ip, headers)
        route = tv_routes.route_by_token(self.services.db, token)
        route_id = route.id if route is not None else None

        def refuse(status: int, verdict: str, text: str, signal: Signal | None = None
                   ) -> Answer:
            level = logging.INFO if status == 404 else logging.WARNING  # scanners: quieter
            log.log(level, "tradingview: route %s from %s answered %d: %s", route_id, ip,
                    status, text)
            self._log(Intake(now, route_id, ip, status, verdict, text,
                             signal.ticker if signal else ""))
            return Answer(status, text)

        if not self._ip_allowed(ip):
            return refuse(403, "refused", f"address {ip} is not in [tradingview] allowed_ips")
        if len(body) > self.config.max_body:
            return refuse(413, "refused", f"body over {self.config.max_body} bytes")
        if route is None or not route.active:
            return refuse(404, "refused", "no such route (revoked, or a wrong URL)")
        given = headers.get(PASSPHRASE_HEADER)
        if given is not None and not route.passphrase_ok(given):
            return refuse(401, "refused", "wrong passphrase")
        try:
            signal = parse_body(body, headers.get("Content-Type", ""))
        except SignalError as e:
            return refuse(400, "malformed", str(e))
        if given is None and not route.passphrase_ok(signal.passphrase or ""):
            return refuse(401, "refused", "missing or wrong passphrase", signal)
        window = self.config.dedup_window.ms
        if tv_routes.seen_within(self.services.db, route.id, signal.digest, now - window):
            return self._duplicate(route, signal, now, ip)
        relay = await self._enrich(route, signal, now)
        return await self._record(relay, ip)

    def _duplicate(self, route: Route, signal: Signal, now: int, ip: str) -> Answer:
        text = f"duplicate of a signal this route had within {self.config.dedup_window}"
        self._log(Intake(now, route.id, ip, 200, DUPLICATE, text, signal.ticker,
                         digest=signal.digest))
        return Answer(200, text)

    async def _enrich(self, route: Route, signal: Signal, now: int) -> Relay:
        """Ticker → symbol, then the numbers (within ``enrich_timeout``); any failure is a
        warning on the relayed signal, never a lost signal."""
        relay = Relay(signal, route, now)
        spelling = exchange_spelling(signal.ticker)
        exchange = self.services.config.exchange.name
        if not spelling:
            return replace(relay, warnings=(
                L_("no ticker in the alert: relayed without numbers"),))
        try:
            symbol = await asyncio.wait_for(self.services.resolve(spelling, "BTCUSDT.P"),
                                            self.config.enrich_timeout.seconds)
        except ArgumentError:
            return replace(relay, warnings=(L_(
                "{exchange} has no {ticker}: relayed without numbers", exchange=exchange,
                ticker=signal.ticker),))
        except (MarketError, TimeoutError) as e:
            return replace(relay, warnings=(L_(
                "market unavailable ({error}): relayed without numbers", error=_short(e)),))
        relay = replace(relay, symbol=symbol)
        side = signal.implied_side
        if side not in ("long", "short"):
            return relay
        words = [symbol, side]
        if signal.implied_size is not None:
            words.append(f"{signal.implied_size:.10g}")
        if signal.implied_entry is not None:
            words.append(f"@{signal.implied_entry:.10g}")
        if signal.leverage is not None:
            words.append(f"{signal.leverage:g}x")
        task = asyncio.ensure_future(assess_position(
            self.services, words, user_id=route.owner_id, chat_id=route.chat_id))
        try:  # shielded: a slow fetch still warms the snapshot for the next signal
            assessment = await asyncio.wait_for(asyncio.shield(task),
                                                self.config.enrich_timeout.seconds)
        except TimeoutError:
            return replace(relay, warnings=(L_(
                "market data not ready within {timeout}: relayed without numbers",
                timeout=str(self.config.enrich_timeout)),))
        except MarketError as e:
            return replace(relay, warnings=(L_(
                "market unavailable ({error}): relayed without numbers", error=_short(e)),))
        except Exception as e:  # a bug in a command or strategy must not lose the signal
            log.error("tradingview: route %s: the numbers failed: %s", route.id, e,
                      exc_info=True)
            return replace(relay, warnings=(L_(
                "the numbers failed (logged for the operator): relayed without them"),))
        return replace(relay, assessment=assessment)

    async def _record(self, relay: Relay, ip: str) -> Answer:
        """Into the outbox (held back when the route is over its rate), then logged."""
        route, signal, now = relay.route, relay.signal, relay.received_ms
        if route.log_trades:
            relay = replace(relay, trade_id=self._log_trade(relay))
        limiter = self._limiters.setdefault(route.id, AsyncLimiter(
            self.config.route_rate, self.config.route_period.seconds))
        held = not limiter.has_capacity()
        if not held:
            await limiter.acquire()  # has capacity: returns at once
        alert = relay_alert(relay, dedup_window_ms=self.config.dedup_window.ms,
                            alert_prob=self.services.config.risk.liquidation_alert_prob,
                            now_ms=now)
        try:
            new = outbox.record_alerts(self.services.db, [alert], now_ms=now)
        except Exception as e:  # a full disk, a database locked past every retry
            log.error("tradingview: route %s: signal not stored: %s", route.id, e)
            return Answer(503, "could not store the signal right now; send it again")
        if not new:  # the same body recorded meanwhile by a concurrent request
            return self._duplicate(route, signal, now, ip)
        alert_id, deliveries = tv_routes.alert_deliveries(self.services.db, alert.dedup_key)
        slot_ms = self.config.route_period.ms // self.config.route_rate
        verdict = HELD if held else RELAYED
        detail = (f"held: over {self.config.route_rate} per {self.config.route_period}; "
                  "the newest goes when the route frees up") if held else \
            f"relayed to {route.destination}"
        if not deliveries:
            detail = f"stored, but chat {route.chat_id} takes no alerts now (muted or inactive)"
        if relay.warnings:
            detail += f" ({english(relay.warnings[0])})"  # the log and TradingView: English
        self._log(Intake(now, route.id, ip, 200, verdict, detail, signal.ticker,
                         relay.symbol or "", signal.digest, alert_id),
                  hold_until_ms=now + slot_ms if held else None)
        if self.kick is not None:
            self.kick()
        return Answer(200, detail)

    def _log_trade(self, relay: Relay) -> int | None:
        """``log`` routes: the signal's position as a trade of the route's owner (once per
        body, however often TradingView retries it)."""
        a, s = relay.assessment, relay.signal
        pos = (a.risk.get("position") if a else None) or {}
        if relay.symbol is None or s.implied_side not in ("long", "short") or not pos:
            return None
        try:
            inst = self.services.market.instruments.get(relay.symbol)
            trade = open_trade(
                self.services.db, user_id=relay.route.owner_id, chat_id=relay.route.owner_id,
                symbol=relay.symbol, side=str(s.implied_side), size=float(pos["size"]),
                entry=float(pos["entry"]), leverage=float(pos["leverage"]),
                opened_at=relay.received_ms, fee_rate=inst.taker_fee if inst else 0.0005,
                exchange=self.services.config.exchange.name,
                note=f"TradingView route #{relay.route.id}: {s.message}"[:200],
                client_key=f"tv:{relay.route.id}:{s.digest}")
        except (ValueError, KeyError, TypeError) as e:
            log.warning("tradingview: route %s: trade not logged: %s", relay.route.id, e)
            return None
        return trade.id

    def _log(self, entry: Intake, *, hold_until_ms: int | None = None) -> None:
        try:
            tv_routes.log_intake(self.services.db, entry, hold_until_ms=hold_until_ms)
        except Exception as e:  # the log must never turn an answer into a 500
            log.error("tradingview: intake log not written: %s", e)


def _short(e: BaseException) -> str:
    return (str(e) or type(e).__name__)[:120]
