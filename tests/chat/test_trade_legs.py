"""Hedges are part of a trade in chat: /open … hedge N, /positions groups the legs, /risk N
shows the trade with its legs, /hedge N knows what is held, /close offers the legs."""

from __future__ import annotations

from tests.chat.test_commands import one_line


async def test_a_leg_is_logged_under_its_trade_and_shown_with_it(chat):
    main = await chat("/open btc long 0.5 @60000 10x")
    assert main.buttons == [[("Hedge it", "/hedge 1"), ("Risk", "/risk 1")]]
    leg = await chat("/open eth short 2 @3000 10x hedge 1")
    assert leg.data["trade"]["parent_id"] == 1 and "(hedge of #1)" in leg.text[0]
    assert "no open trade #7 of yours" in one_line(await chat("/open eth short 2 @3000 hedge 7"))
    assert "no open trade #1 of yours" in one_line(
        await chat("/open eth short 2 @3000 hedge 1", user=2))  # not someone else's trade

    pos = await chat("/positions")
    assert [p["id"] for p in pos.data["positions"]] == [1]
    assert [x["id"] for x in pos.data["positions"][0]["legs"]] == [2]
    assert pos.text[1].strip().startswith("└ #2 ETH-USDT-SWAP short 2")

    risk = await chat("/risk 1 full")
    assert [r["trade_id"] for r in risk.data["reports"]] == [1, 2]
    main_report = risk.data["reports"][0]
    assert main_report["legs"] == [2]
    assert main_report["with_hedge_unrealised_pnl"] == (
        main_report["unrealised_pnl"] + risk.data["reports"][1]["unrealised_pnl"])
    assert any(line.startswith("#1 with its hedge: unrealised ") for line in risk.text)

    hedge = await chat("/hedge 1")
    assert hedge.data["held"][0]["id"] == 2 and hedge.text[1].startswith("Held: #2 short 2 ETH")

    closed = await chat("/close 1")
    assert closed.data["trade"]["close_reason"] == "closed"
    assert [x["id"] for x in closed.data["open_legs"]] == [2]
    assert closed.buttons == [[("Close #2 too", "/close 2")]]
    assert [p["id"] for p in (await chat("/positions")).data["positions"]] == [2]


async def test_hedge_and_risk_of_a_trade_are_private(chat):
    await chat("/open btc long 0.5 @60000 10x")
    assert "private" in one_line(await chat("/hedge 1", chat=-100, chat_type="group"))
    assert "private" in one_line(await chat("/risk 1", chat=-100, chat_type="group"))


async def test_risk_of_all_trades_starts_with_the_nearest_to_liquidation(chat):
    await chat("/open btc long 0.5 @60000 5x")
    await chat("/open btc long 0.5 @60000 50x")
    short = await chat("/risk")
    full = await chat("/risk full")
    assert short.data == full.data and short.more == "/risk full"
    assert short.text[0].startswith("#2 BTC long 50x: ")  # 50x is nearer than 5x
    assert short.text[1].startswith("#1 BTC long 5x: ") and len(short.text) == 3
