"""Each trader's own exchange account: /connect, /disconnect, /sync, /balance (private chats
only, each user's own account alone).

``/connect okx`` asks for a read-only key; the next message (or ``/connect okx KEY SECRET
PASSPHRASE`` at once) is the key. Telegram deletes that message before anything else happens
(``chat.telegram.keys``); the key is checked — it must read the account and must neither trade
nor withdraw — then stored encrypted and used only for its owner's answers and alerts. No reply,
error or log line ever repeats it. The operator's keys in the environment stay ``/account``'s.
"""

from __future__ import annotations

from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext
from chat.dispatch import split_command
from plugins.exchanges.account_types import APPROXIMATED, EXCHANGES
from plugins.exchanges.errors import AccountKeyError, MarketError
from settings.logs import mask_key_words
from settings.secrets import ExchangeKeys, looks_secret
from storage import accounts as store

OFF = ("/{name} is off on this bot: its operator has not set ACCOUNT_ENCRYPTION_KEY, so "
       "exchange accounts cannot be connected. You can still log trades with /open.")
NONE = ("/{name}: you have no connected exchange account{on}. Connect one with /connect okx "
        "(or binance, bybit) and a read-only key.")
NEEDS = {"okx": "API key, secret and passphrase", "binance": "API key and secret",
         "bybit": "API key and secret"}


def holds_secret(text: str) -> bool:
    """Whether a line may hold an API key (``/connect okx KEY ...``, or anything shaped like
    a key): the console keeps it out of its history file."""
    parts = split_command(text)
    if parts is not None and parts[0] == "connect" and len(parts[1]) >= 2:
        return True
    return looks_secret(text)


def key_words(line: str) -> list[str]:
    """The words of ``line`` that may be key material: all of them, but the command and the
    exchange of a ``/connect okx KEY ...``."""
    parts = split_command(line)
    return line.split()[2:] if parts is not None and parts[0] == "connect" else line.split()


def as_key_line(db: Any, user_id: int, now_ms: int, line: str, commands: Any) -> str | None:
    """In the console, where a line is a command with or without its slash: when a
    ``/connect`` waits for this user's key and ``line`` is no command, the line is the key —
    the ``/connect <exchange> KEY ...`` it stands for; else None."""
    parts = split_command(line)
    if parts is not None and (line.startswith("/") or parts[0] in commands):
        return None
    exchange = store.pending_connect(db, user_id, now_ms)
    return None if exchange is None else f"/connect {exchange} {line}"


def ago(ms: int) -> str:
    """How long ago, in words: "just now", "5 min ago", "2.5 h ago"."""
    minutes = ms / 60_000
    if minutes < 1:
        return "just now"
    return f"{minutes:.0f} min ago" if minutes < 120 else f"{minutes / 60:.1f} h ago"


def account_note(db: Any, trade: Any) -> str | None:
    """Why our liquidation price of a synced trade is only an estimate (its account's margin
    mode is one we approximate: portfolio margin), or None."""
    if trade.account_id is None:
        return None
    account = store.get_account(db, trade.account_id)
    return None if account is None else APPROXIMATED.get(account.mode or "")


def _exchange(word: str, example: str) -> str:
    name = word.lower()
    if name not in EXCHANGES:
        raise ArgumentError(f"I can connect {', '.join(EXCHANGES)} accounts, e.g. {example}")
    return name


def key_request(exchange: str, telegram: bool = True) -> list[str]:
    """What to send, and how to make the key safe."""
    parts = NEEDS[exchange]
    order = "KEY SECRET PASSPHRASE" if exchange == "okx" else "KEY SECRET"
    kept = ("I delete that message at once" if telegram else
            "I keep that line out of the console's history")
    return [f"Send me your {exchange} read-only {parts} now, in one message: {order}",
            f"{kept}, check the key and store it encrypted.",
            f"Make the key on {exchange} with read permission only — no trading, no "
            "withdrawals, no transfers: a key that can trade or withdraw is refused.",
            "Changed your mind? Send /cancel."]


class Connect(Command):
    name = "connect"
    summary = "connect your exchange account with a read-only key (synced into your log)"
    usage = "/connect <okx|binance|bybit> [KEY SECRET [PASSPHRASE]]"
    examples = ("/connect okx", "/connect binance")
    private_only = True
    holds_secrets = True

    def parse(self, args: list[str]) -> tuple[str, ExchangeKeys | None]:
        if not args:
            raise ArgumentError(f"Which exchange? /connect {' | '.join(EXCHANGES)}, "
                                f"e.g. {self.example}")
        exchange = _exchange(args[0], self.example)
        words = args[1:]
        if not words:
            return exchange, None
        mask_key_words(words)  # from this moment on, never in a log line
        want = 3 if exchange == "okx" else 2
        if len(words) != want:
            raise ArgumentError(f"{exchange} needs the {NEEDS[exchange]} ({want} words, in "
                                f"that order); I got {len(words)} word(s). Nothing was stored.")
        return exchange, ExchangeKeys(words[0], words[1], words[2] if want == 3 else None)

    async def answer(self, request: tuple[str, ExchangeKeys | None], ctx: CommandContext
                     ) -> Reply:
        accounts = ctx.services.accounts
        if accounts is None or not accounts.enabled:
            raise ArgumentError(OFF.format(name=self.name))
        exchange, keys = request
        if keys is None:
            store.request_connect(ctx.services.db, ctx.user_id, exchange, accounts.now_ms())
            return Reply(data={"exchange": exchange, "waiting_for_key": True},
                         text=key_request(exchange,
                                          ctx.extra.get("front_end") == "telegram"))
        store.cancel_connect(ctx.services.db, ctx.user_id)
        deleted = ctx.extra.get("key_message_deleted")
        note = [] if deleted is None else [
            "I deleted your message with the key." if deleted else
            "⚠ I could not delete your message with the key: delete it yourself."]
        try:
            rights, read = await accounts.check_key(exchange, keys)
        except AccountKeyError as e:
            raise ArgumentError(f"Not connected: {e}. Check that you copied the "
                                f"{NEEDS[exchange]}; nothing was stored. {' '.join(note)}"
                                ) from None
        except MarketError as e:
            raise ArgumentError(f"Not connected: I could not reach {exchange} to check the key "
                                f"({str(e)[:120]}); nothing was stored. Try again in a minute."
                                ) from None
        refusal = rights.refusal()
        if refusal is not None or read is None:
            raise ArgumentError(f"Not connected: {refusal}. Nothing was stored. "
                                f"{' '.join(note)}".strip())
        account = accounts.connect(ctx.user_id, exchange, keys, rights)
        result = await accounts.sync.sync(account)
        opened = result.changes.opened
        lines = [*note, f"Connected your {exchange} account ({read.state.balance.mode}) — read "
                 f"only ({rights.detail}).",
                 f"{len(opened)} open position(s) now in your trade log"
                 + (": " + ", ".join(f"#{t.id} {t.symbol} {t.side} {t.size:g}" for t in opened)
                    if opened else "") + ".",
                 "Each cycle (and /sync) brings the exchange's opens, closes, liquidations, "
                 "fees and funding into your log; /balance shows its money, /positions and "
                 f"/risk the trades. The key is stored encrypted; /disconnect {exchange} "
                 "deletes it."]
        if result.error:
            lines.append(f"⚠ The first sync failed: {result.error}")
        return Reply(data={"exchange": exchange, "connected": True, "rights": rights.detail,
                           "mode": read.state.balance.mode,
                           "trades": [t.id for t in opened], "error": result.error},
                     text=lines)


class Cancel(Command):
    name = "cancel"
    summary = "stop waiting for the key a /connect asked for"
    usage = "/cancel"
    examples = ("/cancel",)
    private_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        store.cancel_connect(ctx.services.db, ctx.user_id)
        return Reply(data={"cancelled": True}, text=["OK — I am not waiting for a key."])


class Disconnect(Command):
    name = "disconnect"
    summary = "delete your connected exchange account's key"
    usage = "/disconnect [okx|binance|bybit]"
    examples = ("/disconnect okx", "/disconnect")
    private_only = True

    def parse(self, args: list[str]) -> str | None:
        if len(args) > 1:
            raise ArgumentError(f"/disconnect takes one exchange at most, e.g. {self.example}")
        return _exchange(args[0], self.example) if args else None

    async def answer(self, request: str | None, ctx: CommandContext) -> Reply:
        gone = store.disconnect(ctx.services.db, ctx.user_id, request)
        if not gone:
            raise ArgumentError(NONE.format(name=self.name,
                                            on=f" on {request}" if request else ""))
        return Reply(data={"disconnected": gone}, text=[
            f"Disconnected {', '.join(gone)}: the key is deleted.",
            "The trades synced from it stay in your log, no longer synced: from now on they "
            "are judged like the trades you log yourself (close them with /close)."])


def _sync_lines(r: Any, now_ms: int) -> tuple[list[str], dict[str, Any]]:
    a = r.account
    data: dict[str, Any] = {"exchange": a.exchange, "ok": r.ok, "error": r.error,
                            "mode": a.mode, "synced_at": a.synced_at}
    if not r.ok:
        since = "" if a.synced_at is None else \
            f" (last synced {ago(max(0, now_ms - a.synced_at))})"
        return [f"{a.exchange}: not synced — {r.error}{since}"], data
    c = r.changes
    closed = [{"id": t.id, "symbol": t.symbol, "reason": t.close_reason, "exit": t.exit_price,
               "realised_pnl": t.realised_pnl} for t in c.closed]
    data.update(opened=[t.id for t in c.opened], changed=[t.id for t in c.changed],
                closed=closed, funding_payments=c.funding, warnings=list(c.warnings),
                positions=len(r.state.positions) if r.state else 0)
    parts = [f"{len(c.opened)} opened", f"{len(c.changed)} resized", f"{len(c.closed)} closed",
             f"{c.funding} funding payment(s)"]
    lines = [f"{a.exchange} ({a.mode}): synced — {', '.join(parts)}"]
    lines += [f"  #{x['id']} {x['symbol']} {x['reason']} at {x['exit']:g}, realised "
              f"{x['realised_pnl']:+,.2f} USDT" for x in closed]
    lines += [f"  ⚠ {w}" for w in c.warnings]
    return lines, data


class Sync(Command):
    name = "sync"
    summary = "bring your connected exchange accounts into your trade log now"
    usage = "/sync"
    examples = ("/sync",)
    private_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        accounts = ctx.services.accounts
        if accounts is None or not accounts.enabled:
            raise ArgumentError(OFF.format(name=self.name))
        if not store.accounts_of(ctx.services.db, ctx.user_id):
            raise ArgumentError(NONE.format(name=self.name, on=""))
        lines: list[str] = []
        out = []
        for r in await accounts.sync_user(ctx.user_id):
            more, data = _sync_lines(r, accounts.now_ms())
            lines += more
            out.append(data)
        lines.append("/positions and /pnl show the log.")
        return Reply(data={"accounts": out, "as_of": accounts.now_ms()}, text=lines)


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f} USDT"


class Balance(Command):
    name = "balance"
    summary = "each connected account's equity, margin used and free"
    usage = "/balance"
    examples = ("/balance",)
    private_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        accounts = ctx.services.accounts
        if accounts is None or not accounts.enabled:
            raise ArgumentError(OFF.format(name=self.name))
        mine = store.accounts_of(ctx.services.db, ctx.user_id)
        if not mine:
            raise ArgumentError(NONE.format(name=self.name, on=""))
        lines: list[str] = []
        out: list[dict[str, Any]] = []
        for a in mine:
            try:
                read = await accounts.read(a)
            except MarketError as e:
                out.append({"exchange": a.exchange, "error": str(e)[:200]})
                lines.append(f"{a.exchange}: could not read it now ({str(e)[:120]})")
                continue
            b, s = read.state.balance, read.state
            row = {"exchange": a.exchange, "mode": b.mode, "equity": b.equity,
                   "cross_equity": b.cross_equity, "margin_used": b.initial,
                   "free": b.available, "maintenance": b.maintenance,
                   "positions": len(s.positions), "approximate": b.approximate,
                   "as_of": s.server_time, "error": None}
            out.append(row)
            lines += [f"{a.exchange} ({b.mode}): equity {_money(b.equity)}",
                      f"  margin used {_money(b.initial)} · free {_money(b.available)}"
                      + ("" if b.maintenance is None else
                         f" · maintenance {_money(b.maintenance)}"),
                      f"  {len(s.positions)} open position(s); read "
                      f"{ago(max(0, accounts.now_ms() - s.server_time))}"]
            if b.approximate:
                lines.append(f"  ⚠ {b.approximate}")
        return Reply(data={"accounts": out, "as_of": accounts.now_ms()}, text=lines)
