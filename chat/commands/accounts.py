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
from chat.grammar import side_word
from i18n import N_, _
from plugins.exchanges.account_types import APPROXIMATED, EXCHANGES
from plugins.exchanges.errors import AccountKeyError, MarketError
from settings.logs import mask_key_words
from settings.secrets import ExchangeKeys, looks_secret
from storage import accounts as store
from storage.trades import CLOSED, LIQUIDATED

OFF = N_("/{name} is off on this bot: its operator has not set ACCOUNT_ENCRYPTION_KEY, so "
         "exchange accounts cannot be connected. You can still log trades with /open.")
NONE = N_("/{name}: you have no connected exchange account. Connect one with /connect okx "
          "(or binance, bybit) and a read-only key.")
NONE_ON = N_("/{name}: you have no connected exchange account on {exchange}. Connect one "
             "with /connect okx (or binance, bybit) and a read-only key.")
EXCHANGE_NAMES = {"okx": "OKX", "binance": "Binance", "bybit": "Bybit"}  # in sentences
NEEDS = {"okx": N_("API key, secret and passphrase"), "binance": N_("API key and secret"),
         "bybit": N_("API key and secret")}


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
        return _("just now")
    if minutes < 120:
        return _("{minutes:.0f} min ago").format(minutes=minutes)
    return _("{hours:.1f} h ago").format(hours=minutes / 60)


def account_note(db: Any, trade: Any) -> str | None:
    """Why our liquidation price of a synced trade is only an estimate (its account's margin
    mode is one we approximate: portfolio margin), or None."""
    if trade.account_id is None:
        return None
    account = store.get_account(db, trade.account_id)
    return None if account is None else APPROXIMATED.get(account.mode or "")


def exchange_name(exchange: str) -> str:
    """``okx`` → ``OKX``: an exchange named in a sentence (as typed in a command line)."""
    return EXCHANGE_NAMES.get(exchange, exchange)


def exchange_names() -> str:
    """The exchanges whose accounts can be read, named: "OKX, Binance, Bybit"."""
    return ", ".join(exchange_name(x) for x in EXCHANGES)


def _exchange(word: str, example: str) -> str:
    name = word.lower()
    if name not in EXCHANGES:
        raise ArgumentError(_("I can connect {exchanges} accounts, e.g. {example}").format(
            exchanges=exchange_names(), example=example))
    return name


def key_request(exchange: str, telegram: bool = True) -> list[str]:
    """What to send, and how to make the key safe."""
    order = "KEY SECRET PASSPHRASE" if exchange == "okx" else "KEY SECRET"
    kept = (_("I delete that message at once, check the key and store it encrypted.")
            if telegram else _("I keep that line out of the console's history, check the key "
                               "and store it encrypted."))
    return [_("Send me your {exchange} read-only {parts} now, in one message: {order}").format(
                exchange=exchange, parts=_(NEEDS[exchange]), order=order),
            kept,
            _("Make the key on {exchange} with read permission only — no trading, no "
              "withdrawals, no transfers: a key that can trade or withdraw is refused."
              ).format(exchange=exchange),
            _("Changed your mind? Send /cancel.")]


class Connect(Command):
    name = "connect"
    summary = N_("connect your exchange account with a read-only key (synced into your log)")
    usage = N_("/connect <okx|binance|bybit> [KEY SECRET [PASSPHRASE]]")
    examples = ("/connect okx", "/connect binance")
    private_only = True
    holds_secrets = True

    def parse(self, args: list[str]) -> tuple[str, ExchangeKeys | None]:
        if not args:
            raise ArgumentError(_("Which exchange? /connect {exchanges}, e.g. {example}"
                                  ).format(exchanges=" | ".join(EXCHANGES),
                                           example=self.example))
        exchange = _exchange(args[0], self.example)
        words = args[1:]
        if not words:
            return exchange, None
        mask_key_words(words)  # from this moment on, never in a log line
        want = 3 if exchange == "okx" else 2
        if len(words) != want:
            raise ArgumentError(_("{exchange} needs the {parts} ({want} words, in that "
                                  "order); I got {got} word(s). Nothing was stored.").format(
                exchange=exchange, parts=_(NEEDS[exchange]), want=want, got=len(words)))
        return exchange, ExchangeKeys(words[0], words[1], words[2] if want == 3 else None)

    async def answer(self, request: tuple[str, ExchangeKeys | None], ctx: CommandContext
                     ) -> Reply:
        accounts = _service(ctx, self.name)
        exchange, keys = request
        if keys is None:
            store.request_connect(ctx.services.db, ctx.user_id, exchange, accounts.now_ms())
            return Reply(data={"exchange": exchange, "waiting_for_key": True},
                         text=key_request(exchange,
                                          ctx.extra.get("front_end") == "telegram"))
        store.cancel_connect(ctx.services.db, ctx.user_id)
        deleted = ctx.extra.get("key_message_deleted")
        note = [] if deleted is None else [
            _("I deleted your message with the key.") if deleted else
            _("⚠ I could not delete your message with the key: delete it yourself.")]
        try:
            rights, read = await accounts.check_key(exchange, keys)
        except AccountKeyError as e:
            raise ArgumentError(_("Not connected: {error}. Check that you copied the {parts}; "
                                  "nothing was stored. {note}").format(
                error=e, parts=_(NEEDS[exchange]), note=" ".join(note))) from None
        except MarketError as e:
            raise ArgumentError(_("Not connected: I could not reach {exchange} to check the "
                                  "key ({error}); nothing was stored. Try again in a minute."
                                  ).format(exchange=exchange, error=str(e)[:120])) from None
        refusal = rights.refusal()
        if refusal is not None or read is None:
            raise ArgumentError(_("Not connected: {refusal}. Nothing was stored. {note}"
                                  ).format(refusal=refusal, note=" ".join(note)).strip())
        account = accounts.connect(ctx.user_id, exchange, keys, rights)
        result = await accounts.sync.sync(account)
        opened = result.changes.opened
        listed = ", ".join(f"#{t.id} {t.symbol} {side_word(t.side)} {t.size:g}" for t in opened)
        lines = [*note, _("Connected your {exchange} account ({mode}) — read only ({rights})."
                          ).format(exchange=exchange, mode=read.state.balance.mode,
                                   rights=rights.detail),
                 _("{n} open position(s) now in your trade log: {trades}.").format(
                     n=len(opened), trades=listed) if opened else
                 _("0 open position(s) now in your trade log."),
                 _("Each cycle (and /sync) brings the exchange's opens, closes, liquidations, "
                   "fees and funding into your log; /balance shows its money, /positions and "
                   "/risk the trades. The key is stored encrypted; /disconnect {exchange} "
                   "deletes it.").format(exchange=exchange)]
        if result.error:
            lines.append(_("⚠ The first sync failed: {error}").format(error=result.error))
        return Reply(data={"exchange": exchange, "connected": True, "rights": rights.detail,
                           "mode": read.state.balance.mode,
                           "trades": [t.id for t in opened], "error": result.error},
                     text=lines)


class Cancel(Command):
    name = "cancel"
    summary = N_("stop waiting for the key a /connect asked for")
    usage = N_("/cancel")
    examples = ("/cancel",)
    private_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        store.cancel_connect(ctx.services.db, ctx.user_id)
        return Reply(data={"cancelled": True}, text=[_("OK — I am not waiting for a key.")])


class Disconnect(Command):
    name = "disconnect"
    summary = N_("delete your connected exchange account's key")
    usage = N_("/disconnect [okx|binance|bybit]")
    examples = ("/disconnect okx", "/disconnect")
    private_only = True

    def parse(self, args: list[str]) -> str | None:
        if len(args) > 1:
            raise ArgumentError(_("/disconnect takes one exchange at most, e.g. {example}"
                                  ).format(example=self.example))
        return _exchange(args[0], self.example) if args else None

    async def answer(self, request: str | None, ctx: CommandContext) -> Reply:
        gone = store.disconnect(ctx.services.db, ctx.user_id, request)
        if not gone:
            raise _no_account(self.name, request)
        return Reply(data={"disconnected": gone}, text=[
            _("Disconnected {exchanges}: the key is deleted.").format(exchanges=", ".join(gone)),
            _("The trades synced from it stay in your log, no longer synced: from now on they "
              "are judged like the trades you log yourself (close them with /close).")])


def _service(ctx: CommandContext, name: str) -> Any:
    """The accounts service, or the refusal of ``/name`` on a bot without one."""
    accounts = ctx.services.accounts
    if accounts is None or not accounts.enabled:
        raise ArgumentError(_(OFF).format(name=name))
    return accounts


def _no_account(name: str, exchange: str | None = None) -> ArgumentError:
    """The refusal of ``/name`` to a user with no connected account (on ``exchange``)."""
    return ArgumentError(_(NONE_ON).format(name=name, exchange=exchange_name(exchange))
                         if exchange
                         else _(NONE).format(name=name))


def _connected(ctx: CommandContext, name: str) -> tuple[Any, list[Any]]:
    """The accounts service and the user's connected accounts, or ``/name``'s refusal: the
    bot has no service, or the user no account (/sync, /balance)."""
    accounts = _service(ctx, name)
    mine = store.accounts_of(ctx.services.db, ctx.user_id)
    if not mine:
        raise _no_account(name)
    return accounts, mine


CLOSED_LINES = {  # a synced close, per reason (the stored word stays English in --json)
    CLOSED: N_("#{id} {symbol} closed at {exit:g}, realised {pnl:+,.2f} USDT"),
    LIQUIDATED: N_("#{id} {symbol} liquidated at {exit:g}, realised {pnl:+,.2f} USDT"),
}
CLOSED_OTHER = N_("#{id} {symbol} {reason} at {exit:g}, realised {pnl:+,.2f} USDT")


def _sync_lines(r: Any, now_ms: int) -> tuple[list[str], dict[str, Any]]:
    a = r.account
    data: dict[str, Any] = {"exchange": a.exchange, "ok": r.ok, "error": r.error,
                            "mode": a.mode, "synced_at": a.synced_at}
    if not r.ok:
        line = _("{exchange}: not synced — {error}").format(exchange=a.exchange, error=r.error) \
            if a.synced_at is None else \
            _("{exchange}: not synced — {error} (last synced {ago})").format(
                exchange=a.exchange, error=r.error, ago=ago(max(0, now_ms - a.synced_at)))
        return [line], data
    c = r.changes
    closed = [{"id": t.id, "symbol": t.symbol, "reason": t.close_reason, "exit": t.exit_price,
               "realised_pnl": t.realised_pnl} for t in c.closed]
    data.update(opened=[t.id for t in c.opened], changed=[t.id for t in c.changed],
                closed=closed, funding_payments=c.funding, warnings=list(c.warnings),
                positions=len(r.state.positions) if r.state else 0)
    lines = [_("{exchange} ({mode}): synced — {opened} opened, {resized} resized, {closed} "
               "closed, {funding} funding payment(s)").format(
        exchange=a.exchange, mode=a.mode, opened=len(c.opened), resized=len(c.changed),
        closed=len(c.closed), funding=c.funding)]
    lines += ["  " + _(CLOSED_LINES.get(x["reason"], CLOSED_OTHER)).format(
        id=x["id"], symbol=x["symbol"], reason=x["reason"], exit=x["exit"],
        pnl=x["realised_pnl"]) for x in closed]
    lines += [f"  ⚠ {w}" for w in c.warnings]
    return lines, data


class Sync(Command):
    name = "sync"
    summary = N_("bring your connected exchange accounts into your trade log now")
    usage = N_("/sync")
    examples = ("/sync",)
    private_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        accounts, _mine = _connected(ctx, self.name)
        lines: list[str] = []
        out = []
        for r in await accounts.sync_user(ctx.user_id):
            more, data = _sync_lines(r, accounts.now_ms())
            lines += more
            out.append(data)
        lines.append(_("/positions and /pnl show the log."))
        return Reply(data={"accounts": out, "as_of": accounts.now_ms()}, text=lines)


def _money(x: float | None) -> str:
    return _("n/a") if x is None else f"{x:,.2f} USDT"


class Balance(Command):
    name = "balance"
    summary = N_("each connected account's equity, margin used and free")
    usage = N_("/balance")
    examples = ("/balance",)
    private_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        accounts, mine = _connected(ctx, self.name)
        lines: list[str] = []
        out: list[dict[str, Any]] = []
        for a in mine:
            try:
                read = await accounts.read(a)
            except MarketError as e:
                out.append({"exchange": a.exchange, "error": str(e)[:200]})
                lines.append(_("{exchange}: could not read it now ({error})").format(
                    exchange=a.exchange, error=str(e)[:120]))
                continue
            b, s = read.state.balance, read.state
            row = {"exchange": a.exchange, "mode": b.mode, "equity": b.equity,
                   "cross_equity": b.cross_equity, "margin_used": b.initial,
                   "free": b.available, "maintenance": b.maintenance,
                   "positions": len(s.positions), "approximate": b.approximate,
                   "as_of": s.server_time, "error": None}
            out.append(row)
            margin = _("margin used {used} · free {free}").format(
                used=_money(b.initial), free=_money(b.available)) if b.maintenance is None \
                else _("margin used {used} · free {free} · maintenance {maintenance}").format(
                    used=_money(b.initial), free=_money(b.available),
                    maintenance=_money(b.maintenance))
            lines += [_("{exchange} ({mode}): equity {equity}").format(
                          exchange=a.exchange, mode=b.mode, equity=_money(b.equity)),
                      f"  {margin}",
                      "  " + _("{n} open position(s); read {ago}").format(
                          n=len(s.positions),
                          ago=ago(max(0, accounts.now_ms() - s.server_time)))]
            if b.approximate:
                lines.append(f"  ⚠ {b.approximate}")
        return Reply(data={"accounts": out, "as_of": accounts.now_ms()}, text=lines)
