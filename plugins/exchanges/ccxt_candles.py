"""Candle helpers of ``CcxtMarket``: checking a fetched page and trimming what is returned."""

from __future__ import annotations

import numpy as np

from plugins.exchanges.candle_sync import Page
from plugins.exchanges.retry import BadPayload
from plugins.exchanges.source import Candles


def nonempty_tail(bars: tuple[np.ndarray, np.ndarray], page: Page
                  ) -> tuple[np.ndarray, np.ndarray]:
    """An empty answer for the newest bars is a bad answer (a malformed body parses to [])."""
    if page.tail and not bars[0].size:
        raise BadPayload("no candles returned for the latest bars")
    return bars


def last_bars(c: Candles, n: int) -> Candles:
    """The newest ``n`` bars of ``c``."""
    return Candles(c.times[-n:], c.open[-n:], c.high[-n:], c.low[-n:], c.close[-n:],
                   c.volume[-n:])
