"""A position opened, resized, partly closed, closed, liquidated and deleveraged on the fake
OKX, Binance and Bybit is in the trade log after the next sync with the exchange's exit, close
reason, fees and funding — real ccxt, signed requests, a real SQLite log; one critical message
per liquidation; hand-logged trades untouched; a second sync changes nothing."""

from __future__ import annotations

import pytest

from storage import trades as log
from tests.accounts.venues import KEYS, USER, VENUES, venue


def rows(v, base: str):
    """The user's trade rows in ``base`` (every part): closed ones first, by close time, then
    the open one."""
    return sorted((t for t in log.list_trades(v.db, USER) if t.symbol == v.symbol(base)),
                  key=lambda t: (t.closed_at is None, t.closed_at or 0, t.id))


def deliveries(v) -> list[tuple[str, str, int]]:
    return [(r[0], r[1], r[2]) for r in v.db.execute(
        "select a.kind, a.severity, d.chat_id from alerts a join deliveries d "
        "on d.alert_id = a.id order by a.id").fetchall()]


@pytest.mark.parametrize("name", VENUES)
async def test_open_resize_fund_and_close_are_the_exchanges(tmp_path, name):
    async with venue(name, tmp_path) as v:
        v.connect()
        await v.run()  # first sync: nothing held
        t0 = v.now
        v.account.open("BTC", "long", 0.4, 60_000, t0 + 1_000, leverage=10)
        (r,) = await v.run()
        assert r.ok, r.error
        (t,) = rows(v, "BTC")
        assert (t.side, t.size, t.entry, t.leverage, t.source) == ("long", 0.4, 60_000, 10,
                                                                    "exchange")
        assert t.fees == pytest.approx(v.account.life("BTC", "long").fees)
        assert t.margin == pytest.approx(2_400) and t.exchange == name
        assert t.exchange_liq_price == pytest.approx(v.account.liq_price(
            v.account.life("BTC", "long")), rel=1e-9)
        assert abs(t.liq_price / t.exchange_liq_price - 1) < 0.001  # ours within 0.1 %

        t1 = v.now
        v.account.open("BTC", "long", 0.2, 63_000, t1 + 1_000)  # resize up
        v.account.fund("BTC", 0.0001, t1 + 2_000)
        await v.run()
        (t,) = rows(v, "BTC")
        life = v.account.life("BTC", "long")
        assert t.size == pytest.approx(0.6) and t.entry == pytest.approx(61_000)
        assert t.entry == pytest.approx(life.entry) and t.fees == pytest.approx(life.fees)
        assert t.funding == pytest.approx(life.funding) and t.funding < 0
        assert len(log.funding_payments(v.db, t.id)) == 1

        v.account.reduce("BTC", "long", 0.15, 64_000, v.now + 1_000)  # part closed
        await v.run()
        part, rest = rows(v, "BTC")
        assert (part.size, part.exit_price, rest.size, rest.is_open) == (0.15, 64_000, 0.45,
                                                                          True)
        v.account.reduce("BTC", "long", 0.2, 65_000, v.now + 1_000)  # the rest, two orders
        v.account.reduce("BTC", "long", 0.25, 66_000, v.now + 2_000)
        await v.run()
        part, rest = rows(v, "BTC")  # two orders between syncs: one close at their average
        assert (part.size, part.exit_price, part.close_reason) == (0.15, 64_000, "closed")
        assert (rest.size, rest.close_reason) == (0.45, "closed")
        assert rest.exit_price == pytest.approx((0.2 * 65_000 + 0.25 * 66_000) / 0.45)
        life = v.account.life("BTC", "long")
        assert part.fees + rest.fees == pytest.approx(life.fees)
        assert part.funding + rest.funding == pytest.approx(life.funding)
        assert part.realised_pnl + rest.realised_pnl == pytest.approx(life.pnl - life.fees)
        assert deliveries(v) == []  # closing a trade yourself is no news

        again = await v.run()  # the same fills read again change nothing
        assert again[0].ok and rows(v, "BTC") == [part, rest]


@pytest.mark.parametrize("name", VENUES)
async def test_a_liquidation_is_the_exchanges_with_one_critical_message(tmp_path, name):
    async with venue(name, tmp_path) as v:
        v.connect()
        await v.run()
        mine = log.open_trade(v.db, user_id=USER, chat_id=USER, symbol=v.symbol("ETH"),
                              side="short", size=5, entry=3_000, leverage=20, opened_at=v.now,
                              fee_rate=0.0005, exchange=name)  # hand-logged, same symbol
        t0 = v.now
        opened = v.account.open("ETH", "short", 5.0, 3_000, t0 + 1_000, leverage=20)
        v.account.fund("ETH", -0.0002, t0 + 2_000)  # shorts pay a negative rate
        await v.run()
        t1 = v.now
        liq_fill = v.account.liquidate("ETH", "short", t1 + 1_000)
        (r,) = await v.run()
        assert r.ok and r.alerts == 1
        synced = [t for t in rows(v, "ETH") if t.synced]
        (t,) = synced
        life = v.account.life("ETH", "short")
        assert t.close_reason == "liquidated" and t.exit_price == pytest.approx(liq_fill.price)
        assert t.fees == pytest.approx(life.fees)  # the penalty (insurance) included
        assert t.funding == pytest.approx(life.funding) and t.funding < 0
        assert t.realised_pnl == pytest.approx(life.pnl - life.fees)
        # an isolated liquidation loses its margin, and the opening fee was paid before
        assert t.realised_pnl == pytest.approx(-750.0 - opened.fee)
        assert deliveries(v) == [("liquidation", "critical", USER)]
        assert log.get_trade(v.db, USER, mine.id) == mine  # the hand-logged one untouched
        await v.run()
        assert deliveries(v) == [("liquidation", "critical", USER)]  # told once


@pytest.mark.parametrize("name", VENUES)
async def test_auto_deleveraging_closes_as_adl(tmp_path, name):
    async with venue(name, tmp_path) as v:
        v.connect()
        await v.run()
        v.account.open("SOL", "long", 20.0, 150.0, v.now + 1_000, leverage=5)
        await v.run()
        v.account.adl("SOL", "long", 171.0, v.now + 1_000)
        await v.run()
        (t,) = rows(v, "SOL")
        assert (t.close_reason, t.exit_price) == ("adl", 171.0)
        assert t.realised_pnl == pytest.approx(20 * 21.0 - t.fees)
        assert deliveries(v) == [("liquidation", "warning", USER)]


@pytest.mark.parametrize("name", VENUES)
async def test_a_position_held_before_connecting_becomes_a_trade(tmp_path, name):
    async with venue(name, tmp_path) as v:
        v.account.open("BTC", "short", 0.3, 60_000, v.now - 3_600_000, leverage=5)
        v.account.fund("BTC", 0.0001, v.now - 1_000)
        v.connect()
        (r,) = await v.run()
        assert r.ok and not r.changes.warnings
        (t,) = rows(v, "BTC")
        assert (t.side, t.size, t.entry, t.is_open) == ("short", 0.3, 60_000, True)
        if name == "okx":  # OKX says what the position paid so far
            life = v.account.life("BTC", "short")
            assert t.fees == pytest.approx(life.fees)
            assert t.funding == pytest.approx(life.funding)


@pytest.mark.parametrize("name", VENUES)
async def test_a_revoked_key_is_told_once_and_nothing_is_lost_when_it_works_again(tmp_path,
                                                                                name):
    async with venue(name, tmp_path) as v:
        v.connect()
        await v.run()
        key = KEYS[name].api_key
        revoked = v.server.keys.pop(key)  # the trader deleted the key on the exchange
        v.account.open("BTC", "long", 0.2, 60_000, v.now + 1_000, leverage=10)
        (r,) = await v.run()
        assert not r.ok and "refused the key" in r.error
        assert not any(p and p in r.error for p in (KEYS[name].secret, KEYS[name].passphrase))
        await v.run()  # still failing: not told again
        assert deliveries(v) == [("account", "warning", USER)]
        assert rows(v, "BTC") == []  # nothing invented meanwhile

        v.server.keys[key] = revoked  # a working key again
        v.account.reduce("BTC", "long", 0.05, 61_000, v.now + 1_000)
        (r,) = await v.run()
        assert r.ok, r.error
        assert deliveries(v) == [("account", "warning", USER), ("account", "info", USER)]
        part, rest = rows(v, "BTC")  # what happened during the outage is in the log
        assert (part.size, part.exit_price, part.close_reason) == (0.05, 61_000, "closed")
        assert (rest.size, rest.is_open) == (pytest.approx(0.15), True)
