"""What a configuration means, checked once the types are right: durations bounded, windows
that fit in memory and are whole in bars, thresholds in order, ports, URLs, chat ids, symbol
spellings and paths. Pure (no plugins, no network). ``load_config`` runs ``config_problems``
for every command; ``plugins.preflight`` (``check-config`` and ``run``) adds the checks that
need the plugins and the exchange, ``window_problems`` among them once the exchange has the
timeframe (a window of 1d is not whole in 7m bars, but the first thing to say is that no
exchange has 7m bars).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from i18n import _
from settings.config import Config
from settings.durations import Duration

MAX_BARS = 50_000  # bars in one snapshot (slow + fast window): ~40 MB per 100 symbols
MIN_WINDOW_BARS = 2  # a correlation needs two returns
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the ports Telegram delivers webhooks to
_SYMBOL = re.compile(r"^[A-Za-z0-9]+(?:[-/:_][A-Za-z0-9]+)*$")
_CHANNEL = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{4,31}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: the dotted ``key`` it is about and what is
    wrong, in words. ``loader.describe`` adds the value (masked when it looks secret) and the
    environment variable it came from."""

    key: str
    message: str
    show_value: bool = True


def _d(text: str) -> Duration:
    return Duration.parse(text)


# (section.key, shortest, longest) for durations that are not windows
_BOUNDS = (
    ("exchange.timeframe", _d("1s"), _d("1w")),
    ("exchange.timeout", _d("1s"), _d("5m")),
    ("schedule.interval", _d("1s"), _d("1d")),
    ("schedule.cascade_interval", _d("1s"), _d("1d")),
    ("schedule.delay", _d("1ms"), _d("1h")),
    ("alerts.cooldown", _d("1s"), _d("30d")),
    ("alerts.reminder", _d("1m"), _d("30d")),
    ("tradingview.dedup_window", _d("1s"), _d("1d")),
    ("tradingview.route_period", _d("1s"), _d("1d")),
    # TradingView cancels a webhook call not answered within 3 s
    ("tradingview.enrich_timeout", _d("100ms"), _d("2500ms")),
)


def _get(config: Config, dotted: str) -> object:
    section, key = dotted.split(".")
    return getattr(getattr(config, section), key)


def config_problems(config: Config) -> list[Problem]:
    """The problems of meaning ``load_config`` refuses for every command: bounds, order,
    ports, URLs, ids, spellings, paths, and windows too large for memory. Whether windows are
    whole in bars is ``window_problems``, checked once the exchange has the timeframe."""
    timeframe = list(_durations(config))
    return [*timeframe, *([] if timeframe else _sizes(config)), *_thresholds(config),
            *_telegram(config), *_tradingview(config), *_names(config), *_paths(config)]


def _durations(config: Config) -> Iterator[Problem]:
    """Bounds of the durations that are not windows; the timeframe's come first."""
    for key, lo, hi in _BOUNDS:
        d = _get(config, key)
        assert isinstance(d, Duration)
        if not lo <= d <= hi:
            yield Problem(key, _("must be from {lo} to {hi}").format(lo=lo, hi=hi))
    tf = config.exchange.timeframe
    if _BOUNDS[0][1] <= tf <= _BOUNDS[0][2] and tf.seconds != round(tf.seconds):
        yield Problem("exchange.timeframe", _('must be a whole number of seconds, e.g. "15m"'))
    s = config.schedule
    if s.delay >= s.interval:
        yield Problem("schedule.delay", _("must be shorter than schedule.interval ({interval})"
                                          ).format(interval=s.interval))
    stale = config.alerts.stale_after * s.interval.seconds
    if stale > 7 * 86400:
        yield Problem("alerts.stale_after", _(
            "× schedule.interval ({interval}) is {days:,.0f} days; data that old must raise a "
            "data alert (at most 7 days)").format(interval=s.interval, days=stale / 86400))
    if not config.risk.horizons:
        yield Problem("risk.horizons", _('must list at least one horizon, e.g. ["1h", "24h"]'))
    for i, h in enumerate(config.risk.horizons):
        if not h <= _d("30d"):
            yield Problem(f"risk.horizons.{i}", _("{horizon} is longer than 30d").format(
                horizon=h), show_value=False)


def _sizes(config: Config) -> Iterator[Problem]:
    """Windows that would not fit in memory (checked for every command, before any fetch)."""
    e, tf = config.engine, config.exchange.timeframe
    for key in ("fast_window", "slow_window", "min_regime_time"):
        bars = getattr(e, key).seconds / tf.seconds
        if bars > MAX_BARS:
            yield Problem(f"engine.{key}", _(
                "is {bars:,.0f} bars of exchange.timeframe = {timeframe!r}; at most {most:,} "
                "bars fit in a snapshot").format(bars=bars, timeframe=str(tf), most=MAX_BARS))
    total = (e.fast_window.seconds + e.slow_window.seconds) / tf.seconds
    if e.slow_window.seconds / tf.seconds <= MAX_BARS < total:
        yield Problem("engine.slow_window", _(
            "and fast_window together are {bars:,.0f} bars of exchange.timeframe = "
            "{timeframe!r}; at most {most:,} fit in a snapshot").format(
                bars=total, timeframe=str(tf), most=MAX_BARS))
    if e.ewma_halflife > e.slow_window:
        yield Problem("engine.ewma_halflife", _("is longer than slow_window ({window})").format(
            window=e.slow_window))


def window_problems(config: Config) -> list[Problem]:
    """Windows are whole numbers of bars of the timeframe, and long enough to compute on."""
    e, tf = config.engine, config.exchange.timeframe
    out = []
    for key in ("fast_window", "slow_window", "min_regime_time"):
        bars = getattr(e, key).seconds / tf.seconds
        if abs(bars - round(bars)) > 1e-9:
            out.append(Problem(f"engine.{key}", _(
                "is {bars:.4g} bars of exchange.timeframe = {timeframe!r}; make it a whole "
                "number of bars (a multiple of {timeframe})").format(bars=bars, timeframe=str(tf))))
        elif key != "min_regime_time" and bars < MIN_WINDOW_BARS:
            out.append(Problem(f"engine.{key}", _(
                "is {bars:g} bar of exchange.timeframe = {timeframe!r}; a correlation needs at "
                "least {least} bars").format(bars=bars, timeframe=str(tf), least=MIN_WINDOW_BARS)))
    if e.ewma_halflife < tf:
        out.append(Problem("engine.ewma_halflife", _(
            "is shorter than one bar of exchange.timeframe = {timeframe!r}").format(
                timeframe=str(tf))))
    return out


def _thresholds(config: Config) -> Iterator[Problem]:
    e = config.engine
    gap = e.high_corr - e.low_corr
    if e.low_corr < e.high_corr and not e.hysteresis < gap / 2:
        yield Problem("engine.hysteresis", _(
            "must be less than half the gap between low_corr and high_corr ({half:g}), or the "
            "regimes overlap").format(half=gap / 2))


def _url(key: str, url: str | None, *, https: bool = False) -> Iterator[Problem]:
    if url is None:
        return
    try:
        u = urlparse(url)
        port = u.port
    except ValueError as e:
        yield Problem(key, _("is not a URL ({error})").format(error=e))
        return
    schemes = ("https",) if https else ("http", "https")
    if u.scheme not in schemes or not u.hostname:
        yield Problem(key, _('must be a https URL with a host, e.g. '
                             '"https://bot.example.com/telegram"') if https else
                      _('must be a http or https URL with a host, e.g. "http://127.0.0.1:8080"'))
    elif https and port not in (None, *WEBHOOK_PORTS):
        yield Problem(key, _("uses port {port}; Telegram only delivers webhooks to ports "
                             "{ports}").format(port=port, ports=", ".join(map(str, WEBHOOK_PORTS))))


def _telegram(config: Config) -> Iterator[Problem]:
    t = config.telegram
    yield from _url("exchange.api_url", config.exchange.api_url)
    yield from _url("telegram.api_url", t.api_url)
    yield from _url("telegram.webhook_url", t.webhook_url, https=True)
    if t.mode == "webhook" and not t.webhook_url:
        yield Problem("telegram.webhook_url", _(
            'is needed in webhook mode (telegram.mode = "webhook"): the public https URL '
            'Telegram posts updates to'), show_value=False)
    try:
        ipaddress.ip_address(t.webhook_listen)
    except ValueError:
        if not _HOST.match(t.webhook_listen):
            yield Problem("telegram.webhook_listen", _(
                'must be an IP address or a host name, e.g. "0.0.0.0"'))
    for i, uid in enumerate(t.admins):
        if uid <= 0:
            yield Problem(f"telegram.admins.{i}", _("is not a user id (user ids are positive)"))
    for i, cid in enumerate(t.allowed_chats):
        if cid == 0:
            yield Problem(f"telegram.allowed_chats.{i}", _("is not a chat id"))
    ch = t.signal_channel
    if (isinstance(ch, int) and ch == 0) or (isinstance(ch, str) and not _CHANNEL.match(ch)):
        yield Problem("telegram.signal_channel", _(
            'must be a chat id or a public @username (5-32 characters), e.g. '
            '"@hedgewatch_signals"'))


def _tradingview(config: Config) -> Iterator[Problem]:
    tv = config.tradingview
    try:
        ipaddress.ip_address(tv.listen)
    except ValueError:
        if not _HOST.match(tv.listen):
            yield Problem("tradingview.listen", _(
                'must be an IP address or a host name, e.g. "0.0.0.0"'))
    if tv.enabled and config.telegram.mode == "polling" and tv.port == config.metrics.port:
        yield Problem("tradingview.port", _("is also [metrics] port: give the intake its own"))


def _names(config: Config) -> Iterator[Problem]:
    ex = config.exchange
    if isinstance(ex.symbols, list):
        for i, sym in enumerate(ex.symbols):
            if not _SYMBOL.match(sym):
                yield Problem(f"exchange.symbols.{i}", _(
                    'is not a symbol, e.g. "BTC" or "BTC-USDT-SWAP"'))
    elif int(ex.symbols.partition(":")[2]) > 1000:
        yield Problem("exchange.symbols", _("asks for more than 1000 symbols"))
    for i, sym in enumerate(config.schedule.cascade_symbols):
        if not _SYMBOL.match(sym):
            yield Problem(f"schedule.cascade_symbols.{i}", _('is not a symbol, e.g. "BTC"'))


def _paths(config: Config) -> Iterator[Problem]:
    ex = config.exchange
    for key, path, is_dir in (("exchange.data_dir", ex.data_dir, True),
                              ("exchange.funding_dir", ex.funding_dir, True),
                              ("exchange.mark_dir", ex.mark_dir, True),
                              ("exchange.tiers_file", ex.tiers_file, False)):
        if path is None:
            continue
        p = Path(path).expanduser()
        if not (p.is_dir() if is_dir else p.is_file()):
            yield Problem(key, _("is not an existing folder") if is_dir
                          else _("is not an existing file"))
    db = config.storage.path
    if not db.strip():
        yield Problem("storage.path", _('must name the SQLite file, e.g. "hedgewatch.db"'))
    elif db != ":memory:" and not Path(db).expanduser().resolve().parent.is_dir():
        yield Problem("storage.path", _("is in a folder that does not exist"))
