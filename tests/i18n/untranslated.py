"""Finding English a reader of another language would still see: in Simplified Chinese, a
run of two or more English words (a sentence left untranslated); in the pseudo-locale, any
plain ASCII word at all (a string nobody marked for translation, since every marked one comes
back accented). What may stay as it is: commands, symbols, numbers with units, identifiers a
user types (alert kinds, arguments), names of products and exchanges."""

from __future__ import annotations

import re

# words a user types as arguments or that name things; they stay English in every language
KEPT_WORDS = frozenset(str.split("""
long short isolated cross full all off on auto info warning critical new here log revoke
delete distance prob cascade high reset move trade with none hedge severity ring quiet tz
market en zh btc eth sol xrp doge bnb ewma okx binance bybit sim csv json tradingview
telegram hedgewatch english liquidation regime funding rebalance take_profit data config
account rule below above price static counterweight
"""))
# command names, kept where they follow a command as its argument (/help risk)
COMMAND_NAMES = frozenset(str.split("""
start help hedge risk whatif corr market status open close positions hedged log account
connect cancel disconnect sync balance pnl daily weekly monthly performance stats export
subscribe unsubscribe mute unmute settings lang backtest alert alerts threshold tvroute tvlog
"""))
KEPT_NAMES = re.compile(r"(?:python )?bot\.py(?: [a-z][a-z\-]*)?|"  # a shell command
                        r"\b(?:hedgewatch|Telegram|TradingView|Binance|Bybit|OKX|English|"
                        r"IANA|Europe/Berlin|Asia/Shanghai|Ctrl-D|make demo|USD[TⓈ]?-?M?)\b")
KEPT_TOKENS = re.compile(
    # a random URL-safe token (a route's secret or passphrase): 20+ characters of
    # [A-Za-z0-9_-] with both cases; its hyphen-split pieces are not words
    r"(?<![\w-])(?=[\w-]{20,}(?![\w-]))(?=[\w-]*[a-z])(?=[\w-]*[A-Z])[\w-]+|"
    r"https?://\S+|@\w+|"  # links, usernames
    r"\"\w+\"\s*:|\{\{[\w.]+\}\}|"  # JSON keys a user pastes, TradingView {{placeholders}}
    r"\b\w*\d\w*\b|"  # anything with a digit: 10x, 4h, 2026-03-01, v5
    r"\b\w+_\w+\b|"  # identifiers: min_variance, take_profit
    r"\b\w*[a-z][A-Z]\w*\b|"  # mixed case inside a word: a random token, not English
    r"\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)*\b|"  # symbols and acronyms: BTC-USDT-SWAP, UTC
    r"\b[A-Z]\b")  # a lone capital letter (a unit, a grade)
_ARG = (r"(?:\b(?:" + "|".join(sorted(KEPT_WORDS | COMMAND_NAMES, key=len, reverse=True))
        + r")\b"
        r"|[^\s\w]*[\w.]*[\d@$%<>\[\]|+][^\s]*|[A-Z][A-Z0-9\-]+|<[^>]*>|\[[^\]]*\])")
KEPT_WORD = re.compile(r"\b(?:" + "|".join(sorted(KEPT_WORDS, key=len, reverse=True))
                       + r")\b", re.IGNORECASE)
COMMAND_LINE = re.compile(r"/[a-z_]+(?:[ \t]+" + _ARG + r")*")  # a command as typed
WORD = re.compile(r"[A-Za-z][A-Za-z']*")
SENTENCE = re.compile(r"[A-Za-z][A-Za-z']+(?:[ \t,;:\-]+[A-Za-z][A-Za-z']+)+")


URL_OR_FILE = re.compile(r"https?://\S+|[\w.\-]+\.(?:csv|png|json|md|toml|db)\b")


def _strip(text: str, *, kept_words: bool = False) -> str:
    text = URL_OR_FILE.sub(" | ", text)  # first: a URL's path is not a command
    text = COMMAND_LINE.sub(" | ", text)
    text = KEPT_NAMES.sub(" | ", text)
    text = KEPT_TOKENS.sub(" | ", text)
    if kept_words:
        text = KEPT_WORD.sub(" | ", text)
    return text


def english_runs(text: str) -> list[str]:
    """Runs of two or more English words (what a Chinese reader would see untranslated)."""
    out = []
    for line in text.splitlines():
        out += [m.group() for m in SENTENCE.finditer(_strip(line))
                if len(WORD.findall(m.group())) >= 2  # a list of kinds a user types is not
                and not all(w.lower() in KEPT_WORDS for w in WORD.findall(m.group()))]
    return out


def plain_words(text: str) -> list[str]:
    """ASCII words of three letters or more left in pseudo-locale text (unmarked strings);
    the words users type as arguments pass anywhere."""
    return [w for w in WORD.findall(_strip(text, kept_words=True)) if len(w) >= 3]
