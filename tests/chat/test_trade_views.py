"""Acceptance of the trade log's views: /daily, /performance, /stats and /export against a
hand-computed log of five trades (a win, a loss, a liquidation, a hedged trade with a leg,
one still open; BTC and ETH; funding payments; 1-5 March 2026).

Every expected figure below is worked out by hand in the comments, not by the code under
test. Fees are 0.05 % of the notional at the open and again at the close.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from chat.context import Services
from storage import chats, open_database
from storage.trades import add_funding, close_trade, open_trade
from tests.chat.conftest import Chat, sim_config

BTC, ETH = "BTC-USDT-SWAP", "ETH-USDT-SWAP"


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


NOW = ms("2026-03-05T12:00")  # a Thursday


@pytest.fixture
def chat(tmp_path, sim_market, commands):
    cfg = sim_config(tmp_path / "hw.db")
    services = Services(cfg, open_database(cfg.storage.path), sim_market,
                        commands={c.name: c for c in commands}, clock=lambda: NOW / 1000)
    return Chat(services, commands)


def trade(db, **kw):
    args = {"user_id": 1, "chat_id": 1, "fee_rate": 0.0005, "exchange": "okx", **kw}
    return open_trade(db, **args)


def log_five_trades(db) -> None:
    # 1 — a win. BTC long 0.1 @ 60,000 10x (margin 600) → 62,000 on 2 March.
    #   fees 3.00 + 3.10 = 6.10; realised 0.1 × 2,000 − 6.10 = 193.90;
    #   funding: pays 0.01 % of 0.1 × 61,000 = −0.61; net 193.29
    t1 = trade(db, symbol=BTC, side="long", size=0.1, entry=60_000.0, leverage=10.0,
               opened_at=ms("2026-03-01T08:00"))
    add_funding(db, t1.id, ms("2026-03-01T16:00"), 0.0001, 61_000.0, -0.61)
    close_trade(db, 1, t1.id, 62_000.0, ms("2026-03-02T10:00"))
    # 2 — a loss. ETH short 2 @ 3,000 5x (margin 1,200) → 3,100 on 3 March, 15:00 UTC.
    #   fees 3.00 + 3.10 = 6.10; realised −2 × 100 − 6.10 = −206.10;
    #   funding +2 × 3,050 × 0.02 % = +1.22, then −2 × 3,080 × 0.01 % = −0.616: +0.604;
    #   net −205.496. Its note would be a formula in a spreadsheet.
    t2 = trade(db, symbol=ETH, side="short", size=2.0, entry=3000.0, leverage=5.0,
               opened_at=ms("2026-03-02T09:00"), note='=HYPERLINK("http://evil","x")')
    add_funding(db, t2.id, ms("2026-03-03T00:00"), 0.0002, 3050.0, 1.22)
    add_funding(db, t2.id, ms("2026-03-03T08:00"), -0.0001, 3080.0, -0.616)
    close_trade(db, 1, t2.id, 3100.0, ms("2026-03-03T15:00"))
    # 3 — liquidated. BTC long 0.05 @ 64,000 20x: margin 0.05 × 64,000 / 20 = 160.
    #   fees 1.60 + 0.05 × 61,000 × 0.05 % = 1.525 → 3.125; realised −160 − 3.125 = −163.125;
    #   funding −0.05 × 63,000 × 0.03 % = −0.945; net −164.07
    t3 = trade(db, symbol=BTC, side="long", size=0.05, entry=64_000.0, leverage=20.0,
               opened_at=ms("2026-03-03T10:00"))
    add_funding(db, t3.id, ms("2026-03-03T16:00"), 0.0003, 63_000.0, -0.945)
    close_trade(db, 1, t3.id, 61_000.0, ms("2026-03-04T02:00"), reason="liquidated")
    # 4 — hedged. BTC long 0.2 @ 62,000 10x (margin 1,240) → 61,000:
    #   fees 6.20 + 6.10 = 12.30; realised −200 − 12.30 = −212.30; funding −1.23; net −213.53
    # 5 — its leg. ETH short 3 @ 3,100 10x (margin 930) → 3,000:
    #   fees 4.65 + 4.50 = 9.15; realised +300 − 9.15 = 290.85; funding +0.915; net 291.765
    #   the trade with its leg: net −213.53 + 291.765 = 78.235 (a win)
    t4 = trade(db, symbol=BTC, side="long", size=0.2, entry=62_000.0, leverage=10.0,
               opened_at=ms("2026-03-04T06:00"))
    t5 = trade(db, symbol=ETH, side="short", size=3.0, entry=3100.0, leverage=10.0,
               opened_at=ms("2026-03-04T06:05"), parent_id=t4.id)
    add_funding(db, t4.id, ms("2026-03-05T00:00"), 0.0001, 61_500.0, -1.23)
    add_funding(db, t5.id, ms("2026-03-05T00:00"), 0.0001, 3050.0, 0.915)
    close_trade(db, 1, t4.id, 61_000.0, ms("2026-03-05T09:00"))
    close_trade(db, 1, t5.id, 3000.0, ms("2026-03-05T09:00"))
    # 6 — still open: ETH long 1 @ 3,000 5x, entry fee 1.50
    trade(db, symbol=ETH, side="long", size=1.0, entry=3000.0, leverage=5.0,
          opened_at=ms("2026-03-05T10:00"))
    # someone else's big win, closed on 4 March: never in user 1's views
    other = trade(db, user_id=2, chat_id=2, symbol=BTC, side="long", size=1.0,
                  entry=60_000.0, leverage=10.0, opened_at=ms("2026-03-03T00:00"))
    close_trade(db, 2, other.id, 70_000.0, ms("2026-03-04T12:00"))


ZERO = {"realised": 0.0, "fees": 0.0, "funding": 0.0, "net": 0.0, "trade_count": 0,
        "leg_count": 0, "liquidations": 0}


def assert_money(got: dict, expected: dict) -> None:
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


async def test_daily_matches_the_hand_computed_log(chat):
    log_five_trades(chat.services.db)
    r = await chat("/daily")
    assert r.ok and r.data["unit"] == "day" and r.data["timezone"] == "UTC"
    days = r.data["periods"]
    assert [d["date"] for d in days] == ["2026-03-05", "2026-03-04", "2026-03-03",
                                         "2026-03-02", "2026-03-01", "2026-02-28",
                                         "2026-02-27"]
    # 5 March: trade 4 and its leg 5. realised −212.30 + 290.85, fees 12.30 + 9.15,
    # funding −1.23 + 0.915
    assert_money(days[0], {"realised": 78.55, "fees": 21.45, "funding": -0.315,
                           "net": 78.235, "trade_count": 1, "leg_count": 1,
                           "liquidations": 0})
    assert_money(days[1], {"realised": -163.125, "fees": 3.125, "funding": -0.945,
                           "net": -164.07, "trade_count": 1, "liquidations": 1})
    assert_money(days[2], {"realised": -206.1, "fees": 6.1, "funding": 0.604,
                           "net": -205.496, "trade_count": 1})
    assert_money(days[3], {"realised": 193.9, "fees": 6.1, "funding": -0.61, "net": 193.29,
                           "trade_count": 1})
    for empty in days[4:]:
        assert_money(empty, ZERO)
    assert days[0]["start_ms"] == ms("2026-03-05T00:00")
    assert days[0]["end_ms"] == ms("2026-03-06T00:00")
    # 78.55 − 163.125 − 206.10 + 193.90 = −96.775; fees 21.45 + 3.125 + 6.10 + 6.10
    assert_money(r.data["total"], {"realised": -96.775, "fees": 36.775, "funding": -1.266,
                                   "net": -98.041, "trade_count": 4, "leg_count": 1,
                                   "liquidations": 1})
    assert r.text[1] == ("2026-03-05: +78.24 USDT · 1 trade + 1 hedge leg · realised +78.55 · "
                         "funding -0.31 · fees 21.45")
    assert r.text[5] == "2026-03-01: 0.00 USDT · no trade closed"
    assert r.text[-1] == "From your trade log as of 2026-03-05 12:00 UTC."
    json.dumps(r.data, allow_nan=False)


async def test_daily_follows_the_chats_timezone(chat):
    log_five_trades(chat.services.db)
    chats.set_timezone(chat.services.db, 1, "Asia/Tokyo")
    r = await chat("/daily 3")
    days = r.data["periods"]
    # Tokyo is UTC+9: now is 5 March 21:00. Trade 2 closed 3 March 15:00 UTC = 4 March
    # 00:00 in Tokyo, so it joins trade 3 (4 March 11:00): −205.496 − 164.07 = −369.566.
    # Trade 1 (2 March 19:00 in Tokyo) is before the three days.
    assert [d["date"] for d in days] == ["2026-03-05", "2026-03-04", "2026-03-03"]
    assert days[0]["start_ms"] == ms("2026-03-04T15:00")
    assert_money(days[0], {"net": 78.235, "trade_count": 1, "leg_count": 1})
    assert_money(days[1], {"net": -369.566, "trade_count": 2, "liquidations": 1})
    assert_money(days[2], ZERO)
    assert_money(r.data["total"], {"net": 78.235 - 369.566, "trade_count": 3})
    assert r.data["timezone"] == "Asia/Tokyo" and "21:00 Asia/Tokyo" in r.text[-1]


async def test_weekly_and_monthly(chat):
    log_five_trades(chat.services.db)
    # 5 March 2026 is a Thursday: the week began on Monday 2 March and holds every close
    r = await chat("/weekly 2")
    assert [w["date"] for w in r.data["periods"]] == ["2026-03-02", "2026-02-23"]
    assert_money(r.data["periods"][0], {"net": -98.041, "trade_count": 4, "leg_count": 1})
    assert_money(r.data["periods"][1], ZERO)
    assert r.text[1].startswith("week of 2026-03-02: -98.04 USDT")
    r = await chat("/monthly")
    assert [m["date"] for m in r.data["periods"]] == [
        "2026-03-01", "2026-02-01", "2026-01-01", "2025-12-01", "2025-11-01", "2025-10-01"]
    assert_money(r.data["periods"][0], {"net": -98.041, "fees": 36.775})
    assert r.text[1].startswith("2026-03: -98.04 USDT")
    assert len((await chat("/weekly")).data["periods"]) == 8


async def test_performance_per_symbol_with_the_leg_as_a_hedge(chat):
    log_five_trades(chat.services.db)
    r = await chat("/performance")
    eth, btc = r.data["symbols"]
    # ETH: trade 2 (−205.496) and leg 5 (+291.765): net 86.269; realised −206.10 + 290.85;
    # fees 6.10 + 9.15; funding 0.604 + 0.915; margin 1,200 + 930
    assert eth["symbol"] == ETH
    assert_money(eth, {"realised": 84.75, "fees": 15.25, "funding": 1.519, "net": 86.269,
                       "trade_count": 1, "leg_count": 1, "hedge_net": 291.765,
                       "margin": 2130.0, "return_pct": 86.269 / 2130 * 100,
                       "liquidations": 0})
    # BTC: trades 1, 3, 4: 193.29 − 164.07 − 213.53 = −184.31; margin 600 + 160 + 1,240
    assert btc["symbol"] == BTC
    assert_money(btc, {"realised": -181.525, "fees": 21.525, "funding": -2.785,
                       "net": -184.31, "trade_count": 3, "leg_count": 0, "hedge_net": 0.0,
                       "margin": 2000.0, "return_pct": -9.2155, "liquidations": 1})
    assert r.text[1] == ("ETH-USDT-SWAP: +86.27 USDT (+4.05 % of margin) · 1 trade + 1 hedge "
                         "leg · hedges +291.77 · funding +1.52 · fees 15.25")


async def test_stats_match_the_hand_computed_log(chat):
    log_five_trades(chat.services.db)
    r = await chat("/stats")
    st = r.data
    # four closed trades (4 counts with its leg): +193.29, −205.496, −164.07, +78.235
    assert (st["trades"], st["wins"], st["losses"], st["draws"]) == (4, 2, 2, 0)
    assert st["win_rate"] == 0.5
    assert st["average_win"] == pytest.approx((193.29 + 78.235) / 2)  # 135.7625
    assert st["average_loss"] == pytest.approx((-205.496 - 164.07) / 2)  # −184.783
    assert st["average_net"] == pytest.approx(-98.041 / 4)
    assert st["profit_factor"] == pytest.approx(271.525 / 369.566)  # 0.7347
    assert (st["best_trade"]["id"], st["worst_trade"]["id"]) == (1, 2)
    assert st["best_trade"]["net"] == pytest.approx(193.29)
    assert st["worst_trade"]["net"] == pytest.approx(-205.496)
    # realised equity by close: +193.29 (2 Mar), −12.206, −176.276 (4 Mar 02:00), −98.041
    # peak 193.29 → trough −176.276: 369.566 USDT, 191.2 % of the peak
    assert st["max_drawdown"] == pytest.approx(369.566)
    assert st["max_drawdown_pct"] == pytest.approx(369.566 / 193.29 * 100)
    assert st["max_drawdown_start"] == ms("2026-03-02T10:00")
    assert st["max_drawdown_end"] == ms("2026-03-04T02:00")
    assert (st["liquidations"], st["legs"], st["open_trades"]) == (1, 1, 1)
    assert_money(st, {"realised": -96.775, "fees": 36.775, "funding": -1.266,
                      "net": -98.041})
    text = "\n".join(r.text)
    assert "Win rate 50.0 % (2 won, 2 lost)" in text and "Profit factor 0.73" in text
    assert "Max drawdown 369.57 USDT, 191.2 % of the peak" in text
    assert "Liquidations: 1" in text
    json.dumps(st, allow_nan=False)


async def test_export_is_a_csv_of_every_trade_and_leg(chat):
    log_five_trades(chat.services.db)
    r = await chat("/export")
    doc = r.document
    assert doc.filename == "hedgewatch-trades-20260305.csv" and doc.mime_type == "text/csv"
    raw = doc.content.decode("utf-8")
    assert raw.startswith("id,parent_id,exchange,symbol,side,size,entry,exit_price,leverage,"
                          "margin_mode,margin,opened_at,closed_at,close_reason,fees,funding,"
                          "funding_payments,realised_pnl,net_pnl,note\r\n")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [row["id"] for row in rows] == ["1", "2", "3", "4", "5", "6"]  # no user 2's
    exact = {  # the text cells, as written
        "1": {"parent_id": "", "symbol": BTC, "side": "long", "size": "0.1",
              "entry": "60000.0", "exit_price": "62000.0", "leverage": "10.0",
              "margin_mode": "isolated", "margin": "600.0",
              "opened_at": "2026-03-01T08:00:00.000Z", "closed_at": "2026-03-02T10:00:00.000Z",
              "close_reason": "closed", "funding_payments": "1", "note": "", "exchange": "okx"},
        "2": {"side": "short", "funding_payments": "2",
              "note": "'=HYPERLINK(\"http://evil\",\"x\")"},  # defused, not escaped otherwise
        "3": {"margin": "160.0", "close_reason": "liquidated"},
        "5": {"parent_id": "4", "symbol": ETH, "side": "short", "margin": "930.0",
              "opened_at": "2026-03-04T06:05:00.000Z"},
        "6": {"exit_price": "", "closed_at": "", "close_reason": "", "realised_pnl": "",
              "net_pnl": "", "funding_payments": "0"},
    }
    money = {  # fees, funding, realised, net — worked out in log_five_trades
        "1": (6.1, -0.61, 193.9, 193.29), "2": (6.1, 0.604, -206.1, -205.496),
        "3": (3.125, -0.945, -163.125, -164.07), "4": (12.3, -1.23, -212.3, -213.53),
        "5": (9.15, 0.915, 290.85, 291.765),
    }
    by_id = {row["id"]: row for row in rows}
    for trade_id, cells in exact.items():
        for column, value in cells.items():
            assert by_id[trade_id][column] == value, (trade_id, column)
    for trade_id, (fees, funding, realised, net) in money.items():
        row = by_id[trade_id]
        assert [float(row[c]) for c in ("fees", "funding", "realised_pnl", "net_pnl")] == \
            pytest.approx([fees, funding, realised, net])
    assert float(by_id["6"]["fees"]) == pytest.approx(1.5)
    assert r.data["columns"][0] == "id" and len(r.data["rows"]) == 6
    assert r.data["rows"][4]["parent_id"] == 4
    assert "5 trade(s) and 1 hedge leg(s)" in r.text[0]


async def test_no_user_sees_another_users_trades(chat):
    log_five_trades(chat.services.db)
    # user 2: one trade, BTC long 1 @ 60,000 → 70,000; fees 30 + 35; realised 9,935
    st = (await chat("/stats", user=2)).data
    assert st["trades"] == 1 and st["net"] == pytest.approx(9935.0)
    (perf,) = (await chat("/performance", user=2)).data["symbols"]
    assert perf["trade_count"] == 1 and perf["net"] == pytest.approx(9935.0)
    days = (await chat("/daily", user=2)).data["periods"]
    assert [d["trade_count"] for d in days] == [0, 1, 0, 0, 0, 0, 0]
    assert [row["id"] for row in (await chat("/export", user=2)).data["rows"]] == [7]
    assert (await chat("/pnl", user=2)).data["closed_trades"] == 1
    empty = await chat("/export", user=3)
    assert empty.document is None and "empty" in empty.text[0]
    assert "no closed trade" in (await chat("/stats", user=3)).text[0]
    assert (await chat("/daily", user=3)).data["total"]["trade_count"] == 0


async def test_views_are_private_and_check_their_arguments(chat):
    for text in ("/pnl", "/daily", "/weekly", "/monthly", "/performance", "/stats",
                 "/export"):
        r = await chat(text, chat=-100, chat_type="group")
        assert r.kind == "usage" and "private" in r.text[0] and r.document is None
    assert "from 1 to 60" in (await chat("/daily 61")).text[0]
    assert "from 1 to 60" in (await chat("/weekly 0")).text[0]
    assert "one number at most" in (await chat("/monthly 1 2")).text[0]
    assert "takes no arguments" in (await chat("/stats all")).text[0]


async def test_pnl_per_trade_counts_the_legs(chat):
    log_five_trades(chat.services.db)
    r = await chat("/pnl")
    mark = (await chat.services.snapshot([ETH])).last_price(ETH)
    unreal = max(mark - 3000.0, -600.0)  # ETH long 1 @ 3,000, isolated margin 600
    by_id = {t["id"]: t for t in r.data["trades"]}
    assert sorted(by_id) == [1, 2, 3, 4, 6]  # leg 5 is inside trade 4
    assert by_id[4]["legs"] == [5] and by_id[4]["status"] == "closed"
    assert_money(by_id[4], {"realised": 78.55, "fees": 21.45, "funding": -0.315,
                            "net": 78.235, "unrealised": 0.0})
    assert by_id[6]["status"] == "open" and by_id[6]["realised"] == 0.0
    assert by_id[6]["unrealised"] == pytest.approx(unreal)
    assert by_id[6]["net"] == pytest.approx(unreal - 1.5)  # the entry fee is paid
    assert_money(r.data, {"realised": -96.775, "unrealised": unreal, "funding": -1.266,
                          "fees": 36.775 + 1.5, "net": -96.775 + unreal - 1.266 - 1.5,
                          "closed_trades": 4, "open_trades": 1, "legs": 1})
    assert r.data["unpriced_trades"] == [] and r.data["data_age_ms"] is not None
    text = "\n".join(r.text)
    assert "#4 BTC-USDT-SWAP long 0.2 + 1 hedge leg: realised +78.55" in text
    assert "#3 BTC-USDT-SWAP long 0.05 (liquidated)" in text and "Marks: data" in text


async def test_pnl_still_answers_when_the_market_fails(chat, monkeypatch):
    from plugins.exchanges.errors import SourceUnavailable

    log_five_trades(chat.services.db)

    async def down(*args, **kwargs):
        raise SourceUnavailable("okx: 503 Service Unavailable")

    monkeypatch.setattr(chat.services, "snapshot", down)
    r = await chat("/pnl")
    assert r.ok and r.data["unpriced_trades"] == [6] and r.data["unrealised"] == 0.0
    assert r.data["realised"] == pytest.approx(-96.775)  # the closed trades, by hand above
    assert {t["id"]: t["net"] for t in r.data["trades"]}[6] is None
    text = "\n".join(r.text)
    assert "no current price for #6" in text and "503 Service Unavailable" in text
