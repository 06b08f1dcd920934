"""Symbol resolution: "BTC", "btc", "BTC-USDT-SWAP", "BTC/USDT:USDT", "BTCUSDT" → one instrument."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from core.types import Instrument
from plugins.exchanges.errors import UnknownSymbol

_SPLIT = re.compile(r"[-/:_ ]+")
QUOTES = ("USDT", "USDC", "USD")


def base_of(text: str) -> str:
    """The base asset a symbol spelling names: "btc-usdt-swap" → "BTC", "ETHUSDT" → "ETH"."""
    t = text.strip().upper()
    parts = [p for p in _SPLIT.split(t) if p]
    if not parts:
        return ""
    head = parts[0]
    if len(parts) == 1:
        for q in QUOTES:
            if head.endswith(q) and len(head) > len(q):
                return head[: -len(q)]
    return head


class SymbolResolver:
    """Resolves any common spelling to the canonical instrument id of one source."""

    def __init__(self, instruments: Mapping[str, Instrument] | Iterable[Instrument]):
        items = instruments.values() if isinstance(instruments, Mapping) else instruments
        self.instruments: dict[str, Instrument] = {i.symbol: i for i in items}
        self._by_key: dict[str, str] = {}
        for sym, inst in self.instruments.items():
            for key in (sym.upper(), inst.base.upper(), f"{inst.base}{inst.quote}".upper(),
                        f"{inst.base}/{inst.quote}:{inst.quote}".upper(),
                        f"{inst.base}-{inst.quote}-SWAP".upper(),
                        f"{inst.base}/{inst.quote}".upper()):
                self._by_key.setdefault(key, sym)

    def resolve(self, text: str) -> str:
        """Canonical symbol for ``text``; raises UnknownSymbol listing close matches."""
        key = text.strip().upper()
        if key in self._by_key:
            return self._by_key[key]
        base = base_of(key)
        if base in self._by_key:
            return self._by_key[base]
        bases = sorted({i.base.upper() for i in self.instruments.values()})
        close = difflib.get_close_matches(base or key, bases, n=3, cutoff=0.5)
        raise UnknownSymbol(text, [self._by_key[c] for c in close])

    def __contains__(self, text: str) -> bool:
        try:
            self.resolve(text)
        except UnknownSymbol:
            return False
        return True
