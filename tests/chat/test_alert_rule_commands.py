"""/alert, /alerts and /threshold through the dispatcher: what is stored, what each user
sees, and one clear line for every bad input."""

from __future__ import annotations

import json

from storage import thresholds, user_alerts


def one_line(reply) -> str:
    assert reply.kind == "usage", reply.text
    (line,) = reply.text
    return line


async def test_a_price_alert_is_stored_and_spelled_back_with_the_price_now(chat, services):
    r = await chat("/alert btc < 60000")
    assert r.ok, r.text
    assert r.text[0] == "Alert #1 set: BTC < 60,000"
    assert "back above 60,300" in r.text[1]  # the hysteresis margin, said up front
    assert r.text[2].startswith("BTC ") and "data " in r.text[2]  # its price and data age
    assert r.buttons == [[("Delete #1", "/alerts delete 1")]]
    (rule,) = user_alerts.user_rules(services.db, 1)
    assert (rule.kind, rule.symbol, rule.op, rule.value) == ("price", "BTC-USDT-SWAP", "<",
                                                             60000.0)
    json.dumps(r.data, allow_nan=False)


async def test_move_and_trade_distance_alerts(chat, services):
    r = await chat("/alert eth move 5% 1h")
    assert r.ok and r.text[0] == "Alert #1 set: ETH move 5% 1h"
    assert user_alerts.user_rules(services.db, 1)[0].window_ms == 3_600_000
    await chat("/open btc long 0.5 @60000 10x")
    r = await chat("/alert trade 1 distance < 3%")
    assert r.ok and r.text[0] == "Alert #2 set: trade #1 distance < 3%"
    assert r.data["rule"]["trade_id"] == 1


async def test_a_trade_alert_needs_your_own_open_trade(chat):
    await chat("/open btc long 0.5 @60000 10x", user=1)
    assert "no open trade #1" in one_line(await chat("/alert trade 1 distance < 3%", user=2))
    assert "no open trade #9" in one_line(await chat("/alert trade 9 distance < 3%"))


async def test_bad_alerts_get_one_line_with_an_example(chat):
    assert "/alert btc < 60000" in one_line(await chat("/alert"))
    assert "can't read" in one_line(await chat("/alert btc sideways"))
    assert "not a level" in one_line(await chat("/alert btc < 0"))
    assert "Did you mean" in one_line(await chat("/alert btcc < 60000"))
    assert "at most 100%" in one_line(await chat("/alert eth move 500% 1h"))
    assert "at most 7d" in one_line(await chat("/alert eth move 5% 30d"))
    assert "whole" in one_line(await chat("/alert eth move 5% 20m"))  # 15m bars
    assert "at most 100%" in one_line(await chat("/alert trade 1 distance < 300%"))


async def test_alerts_are_private_to_their_owner(chat, services):
    await chat("/alert btc < 60000", user=1)
    await chat("/alert eth > 5000", user=2)
    mine = await chat("/alerts", user=1)
    assert [a["text"] for a in mine.data["alerts"]] == ["BTC < 60,000"]
    assert "ETH" not in "\n".join(mine.text)
    # user 2 names user 1's alert: nothing is deleted
    assert "no such alert" in one_line(await chat("/alerts delete 1", user=2))
    assert len(user_alerts.user_rules(services.db, 1)) == 1
    r = await chat("/alerts delete 1", user=1)
    assert r.text[0] == "Deleted #1." and r.data["alerts"] == []
    assert "private" in one_line(await chat("/alert btc < 1", chat=-100, chat_type="group"))
    assert "private" in one_line(await chat("/alerts", chat=-100, chat_type="group"))


async def test_alerts_list_says_which_fired_and_when_they_rearm(chat, services):
    await chat("/alert btc < 60000")
    await chat("/alert eth move 5% 1h")
    services.db.execute("insert into rule_state (rule, key, value, updated_at) values "
                        "('user_rules', '1', ?, 0)",
                        [json.dumps({"armed": False, "fired": 1, "at": 5})])
    services.db.conn.commit()
    r = await chat("/alerts")
    assert r.text[1] == "#1 BTC < 60,000 — fired; re-arms when BTC is back above 60,300"
    assert r.text[2] == "#2 ETH move 5% 1h — armed"
    assert r.data["alerts"][0]["armed"] is False and r.data["alerts"][0]["fired"] == 1
    assert r.buttons == [[("Delete #1", "/alerts delete 1"), ("Delete #2", "/alerts delete 2")]]
    r = await chat("/alerts delete all")
    assert r.text[0] == "Deleted #1, #2."


async def test_threshold_per_user_and_per_chat(chat, services):
    r = await chat("/threshold")
    assert r.text[0] == "Cascade alerts: every level change (default)"
    assert "(default)" in r.text[1]
    r = await chat("/threshold liquidation distance 5%")
    assert r.ok and r.text[0] == "Saved."
    await chat("/threshold liquidation prob 20%")
    r = await chat("/threshold cascade high")
    assert r.data["thresholds"] == {"cascade.level": "high", "liquidation.distance": "5",
                                    "liquidation.prob": "0.2"}
    assert "at high or above" in r.text[1] and "over 20%" in r.text[2]
    assert "within 5% of it" in r.text[3]
    assert thresholds.liquidation_thresholds(services.db) == {1: {"distance": 5.0,
                                                                  "prob": 0.2}}
    # another user is untouched; a group's admins set the group's cascade level only
    assert (await chat("/threshold", user=2)).data["thresholds"] == {}
    assert "in our private chat" in one_line(
        await chat("/threshold liquidation distance 5%", chat=-100, chat_type="group"))
    assert "admins" in one_line(await chat("/threshold cascade high", chat=-100,
                                           chat_type="group", is_admin=False))
    r = await chat("/threshold cascade cascade", chat=-100, chat_type="group")
    assert r.data["thresholds"] == {"cascade.level": "cascade"}
    r = await chat("/threshold reset liquidation")
    assert r.data["thresholds"] == {"cascade.level": "high"}


async def test_bad_thresholds(chat):
    assert "calm" not in one_line(await chat("/threshold cascade calm")).split("one of")[1]
    assert "outside" in one_line(await chat("/threshold liquidation distance 80%"))
    assert "not a percentage" in one_line(await chat("/threshold liquidation prob lots"))
    assert "can't read" in one_line(await chat("/threshold funding 5"))
