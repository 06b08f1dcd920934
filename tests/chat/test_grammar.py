"""The shared argument grammar: forms in any order, one short message for anything wrong."""

from __future__ import annotations

import pytest

from chat.grammar import (
    ArgumentError,
    Size,
    parse_count,
    parse_position,
    parse_price,
    parse_trade_id,
)

EX = "/risk btc long 0.5 @60000 10x"


def test_every_form_in_any_order():
    a = parse_position(["BTC", "10x", "@60000", "0.5", "short"], EX)
    assert (a.symbol, a.side, a.size, a.entry, a.leverage) == (
        "BTC", "short", Size(0.5, "base"), 60000.0, 10.0)


@pytest.mark.parametrize("token, size", [
    ("0.5", Size(0.5, "base")), ("5ct", Size(5, "contracts")),
    ("5000usdt", Size(5000, "usdt")), ("$5000", Size(5000, "usdt")),
    ("5000USDT", Size(5000, "usdt")),
])
def test_sizes(token, size):
    assert parse_position(["btc", token], EX).size == size


def test_defaults_are_left_to_the_command():
    a = parse_position(["BTC/USDT:USDT"], EX)
    assert (a.side, a.size, a.entry, a.leverage, a.hedges) == ("long", None, None, None, ())


def test_hedges_after_with():
    assert parse_position(["btc", "0.5", "with", "ETH", "sol"], EX).hedges == ("ETH", "sol")


def test_size_conversion():
    assert Size(5, "contracts").base_units(0.01, 60000) == pytest.approx(0.05)
    assert Size(6000, "usdt").base_units(0.01, 60000) == pytest.approx(0.1)


@pytest.mark.parametrize("args, words", [
    (["btc", "long", "0.5", "@60000", "10xx"], ["'10xx'", "leverage is a number followed by x",
                                               EX]),
    (["btc", "0.5", "0.7"], ["Two sizes", "'0.5'", "'0.7'"]),
    (["btc", "long", "short"], ["Two sides"]),
    (["btc", "300x"], ["too high", "200x"]),
    (["btc", "0x"], ["positive"]),
    (["btc", "@abc"], ["'@abc'", "entry price"]),
    (["btc", "nan"], ["'nan'"]),
    (["btc", "inf"], ["'inf'"]),
    (["btc", "1e999"], ["positive"]),
    (["btc", "with"], ["'with' needs"]),
    ([], ["Which market"]),
    (["10x"], ["not a symbol"]),
])
def test_wrong_arguments_get_one_short_message_with_an_example(args, words):
    with pytest.raises(ArgumentError) as e:
        parse_position(args, EX)
    msg = str(e.value)
    assert "\n" not in msg and "Traceback" not in msg and len(msg) < 200
    for w in words:
        assert w in msg


def test_note_after_the_position_when_asked():
    a = parse_position(["btc", "long", "0.5", "@60000", "10x", "swing", "trade"], EX,
                       keep_rest=True)
    assert a.rest == ("swing", "trade") and a.leverage == 10


def test_prices_and_ids():
    assert parse_price("@61000", EX) == parse_price("61000", EX) == 61000
    assert parse_trade_id("#12", EX) == parse_trade_id("12", EX) == 12
    for bad in ("x", "0", "#-1", "²", "#³", "1²", "0" * 13):
        with pytest.raises(ArgumentError):
            parse_trade_id(bad, EX)


def test_counts_are_whole_numbers_not_any_digit_character():
    """``str.isdigit`` accepts superscripts that ``int`` refuses; those must be a clear error."""
    assert parse_count("20", EX) == 20
    for bad in ("²", "1²", "0", "1001", "-3", "2.5"):
        with pytest.raises(ArgumentError):
            parse_count(bad, EX)
