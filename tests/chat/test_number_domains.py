"""Numbers have domains: sizes, prices and leverage the exchange could have filled; nothing
non-finite is computed on, stored, shown or put in JSON."""

from __future__ import annotations

import json
import math

import pytest

from storage import trades as store

ONE_LINE_CASES = [
    ("/risk btc 1e308",
     "size 1e308 is larger than BTC-USDT-SWAP allows (at most 105,263 BTC ≈ 10,000,000,000 "
     "USDT); example: /risk btc long 0.5 @60000 10x"),
    ("/hedge btc 1e308",
     "size 1e308 is larger than BTC-USDT-SWAP allows (at most 105,263 BTC ≈ 10,000,000,000 "
     "USDT); example: /hedge btc 0.5 10x"),
    ("/hedge btc $1e300",
     "size $1e300 is larger than BTC-USDT-SWAP allows (at most 105,263 BTC ≈ 10,000,000,000 "
     "USDT); example: /hedge btc 0.5 10x"),
    ("/risk btc 0.000001",
     "size 0.000001 is smaller than the smallest BTC-USDT-SWAP order (0.0001 BTC); example: "
     "/risk btc long 0.5 @60000 10x"),
    ("/risk btc 0.5 150x",
     "leverage 150x is more than BTC-USDT-SWAP allows at this size (tier 1): at most 100x; "
     "example: /risk btc long 0.5 @60000 10x"),
    ("/risk btc 0.5 @1e-9",
     "entry @1e-9 is more than 1000× below BTC-USDT-SWAP's mark (95,000); example: /risk btc "
     "long 0.5 @60000 10x"),
    ("/open btc long 1e200 @1e200 10x",
     "entry @1e200 is more than 1000× above BTC-USDT-SWAP's mark (95,000); example: /open btc "
     "long 0.5 @60000 10x"),
    ("/open btc long 1e9 @60000 10x",
     "size 1e9 is larger than BTC-USDT-SWAP allows (at most 166,667 BTC ≈ 10,000,000,000 "
     "USDT); example: /open btc long 0.5 @60000 10x"),
]


@pytest.mark.parametrize("line,message", ONE_LINE_CASES, ids=[c[0] for c in ONE_LINE_CASES])
async def test_out_of_range_numbers_get_one_message(chat, line, message) -> None:
    reply = await chat(line)
    assert reply.kind == "usage" and reply.text == [message]


async def test_closing_at_an_absurd_price_is_refused_and_nothing_is_stored(chat, services):
    await chat("/open btc long 0.5 @60000 10x")
    reply = await chat("/close 1 @1e300")
    assert reply.text == ["exit @1e300 is more than 1000× above trade #1's entry (60,000); "
                          "example: /close 3 @61000"]
    assert store.get_trade(services.db, 1, 1).is_open
    pnl = await chat("/pnl")
    assert "inf" not in " ".join(pnl.text) and "nan" not in " ".join(pnl.text)
    json.dumps(pnl.data, allow_nan=False)


def test_the_trade_log_never_stores_a_non_finite_number(services):
    db = services.db
    with pytest.raises(ValueError, match="notional must be a finite number"):
        store.open_trade(db, user_id=1, chat_id=1, symbol="BTC-USDT-SWAP", side="long",
                         size=1e200, entry=1e200, leverage=10, opened_at=0, fee_rate=0.0005)
    t = store.open_trade(db, user_id=1, chat_id=1, symbol="BTC-USDT-SWAP", side="long",
                         size=1.0, entry=60000, leverage=10, opened_at=0, fee_rate=0.0005)
    with pytest.raises(ValueError, match="exit_price must be a finite number"):
        store.close_trade(db, 1, t.id, math.inf, 1, 0.0005)
    assert store.get_trade(db, 1, t.id).is_open
    assert all(math.isfinite(r["fees"]) for r in db["trades"].rows)


async def test_the_default_leverage_is_checked_too(chat, services) -> None:
    services.config = services.config.with_overrides(risk={"leverage": 150.0})
    reply = await chat("/risk btc 0.5")
    assert reply.text == ["leverage 150x ([risk] leverage) is more than BTC-USDT-SWAP allows at "
                          "this size (tier 1): at most 100x; example: /risk btc long 0.5 "
                          "@60000 10x"]


async def test_sizes_within_the_domain_still_answer(chat) -> None:
    for line in ("/risk btc 100000 5x", "/risk btc 0.0001", "/hedge btc $5000 20x",
                 "/open btc long 0.5 @60000 100x", "/risk btc @100 0.5"):
        reply = await chat(line)
        assert reply.ok, (line, reply.text)
