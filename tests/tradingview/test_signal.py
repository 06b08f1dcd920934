"""Reading TradingView bodies: JSON (strategy and indicator templates) and plain text, the
implied position, what is refused (400) and what is only noted (unfilled placeholders)."""

from __future__ import annotations

import json

import pytest

from chat.tradingview.signal import SignalError, parse_body
from chat.tradingview.tickers import exchange_spelling
from plugins.exchanges.symbols import SymbolResolver


def test_a_strategy_alert_implies_the_position_after_the_order():
    s = parse_body(json.dumps({"ticker": "BTCUSDT.P", "exchange": "OKX", "close": 60000.5,
                               "action": "sell", "contracts": "0.3",
                               "position_size": "-0.7", "passphrase": "p"}).encode(),
                   "application/json")
    assert (s.implied_side, s.implied_size, s.implied_entry) == ("short", 0.7, 60000.5)
    assert s.passphrase == "p" and s.kind == "json"


def test_an_order_that_closes_the_strategys_position_is_flat():
    s = parse_body(b'{"ticker": "ETHUSDT.P", "action": "sell", "position_size": "0"}')
    assert s.implied_side == "flat"


def test_an_indicator_alert_gives_its_side_and_size_itself():
    s = parse_body(b'{"ticker": "SOLUSDT", "side": "buy", "size": 12, "entry": "150", '
                   b'"leverage": "5x", "sl": 140, "tp": 170}')
    assert (s.implied_side, s.implied_size, s.implied_entry, s.leverage) == (
        "long", 12.0, 150.0, 5.0)
    assert (s.sl, s.tp) == (140.0, 170.0)


def test_a_strategy_field_tradingview_left_unfilled_is_noted_not_refused():
    s = parse_body(b'{"ticker": "BTCUSDT.P", "side": "long", '
                   b'"position_size": "{{strategy.position_size}}"}')
    assert s.position_size is None and s.implied_side == "long"
    assert "position_size was left" in str(s.notes[0])


def test_a_text_alert_is_read_word_by_word():
    s = parse_body(b"BYBIT:ETHUSDT.P sell size=2 @3000 20x sl=3100 breakdown passphrase=xyz")
    assert (s.exchange, s.ticker, s.implied_side, s.size, s.entry, s.leverage, s.sl) == (
        "BYBIT", "ETHUSDT.P", "short", 2.0, 3000.0, 20.0, 3100.0)
    assert s.passphrase == "xyz"
    assert "xyz" not in s.message and "breakdown" in s.message


def test_the_digest_ignores_the_passphrase_and_tells_bodies_apart():
    a = parse_body(b'{"ticker": "BTCUSDT.P", "close": 1, "passphrase": "a"}')
    b = parse_body(b'{"passphrase": "b", "close": 1, "ticker": "BTCUSDT.P"}')
    c = parse_body(b'{"ticker": "BTCUSDT.P", "close": 2, "passphrase": "a"}')
    assert a.digest == b.digest != c.digest


@pytest.mark.parametrize("body, why", [
    (b"", "empty"), (b"\xff", "UTF-8"), (b"[1]", "object"),
    (b"{nope", "looks like JSON but is not"),
    (b'{"close": "nan"}', "finite"), (b'{"close": -1}', "above 0"),
    (b'{"leverage": true}', "number"), (b'{"action": "hold"}', "action"),
    (b'{"ticker": ["BTC"]}', "text"),
])
def test_what_cannot_be_read_is_refused_with_the_reason(body, why):
    with pytest.raises(SignalError, match=why):
        parse_body(body)


@pytest.mark.parametrize("ticker, spelling", [
    ("BINANCE:BTCUSDT.P", "BTCUSDT"), ("OKX:BTCUSDT.P", "BTCUSDT"), ("BTCUSDT", "BTCUSDT"),
    ("btc-usdt-swap", "BTC-USDT-SWAP"), ("BYBIT:ETHUSDTPERP", "ETHUSDT"),
    ("1000PEPEUSDT.P", "1000PEPEUSDT"), ("", ""), ("<b>", "B"),
])
def test_tradingview_tickers_become_spellings_the_resolver_reads(ticker, spelling):
    assert exchange_spelling(ticker) == spelling


async def test_the_spellings_resolve_to_the_swap_on_the_exchange(sim_market):
    await sim_market.load_instruments()
    resolver = SymbolResolver(sim_market.instruments)
    for ticker in ("BINANCE:BTCUSDT.P", "OKX:BTCUSDT.P", "BTCUSDT"):
        assert resolver.resolve(exchange_spelling(ticker)) == "BTC-USDT-SWAP"
