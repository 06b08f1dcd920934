"""Binance USDⓈ-M and Bybit unified accounts read through real ccxt against the fakes' signed
private endpoints; our liquidation price against each exchange's in every margin mode."""

from __future__ import annotations

import pytest

from plugins.exchanges.account_binance import BinanceAccountReader
from plugins.exchanges.account_bybit import BybitAccountReader
from plugins.exchanges.account_liquidation import check_liquidations
from plugins.exchanges.ccxt_market import BinanceMarket, BybitMarket
from plugins.exchanges.errors import AccountKeyError
from settings.config import ExchangeConfig
from settings.secrets import ExchangeKeys
from tests.fakes.binance_bybit import FakeBinance, FakeBybit
from tests.fakes.bybit_private import ISOLATED, PORTFOLIO, REGULAR

KEY = ExchangeKeys("user-key-7Qz", "user-secret-9Xw")
T0 = 1_767_225_600_000


def config(srv) -> ExchangeConfig:
    return ExchangeConfig.model_validate({"api_url": srv.url, "symbols": ["BTC", "ETH"],
                                          "timeout": "2s", "max_retries": 1})


@pytest.fixture
async def binance():
    async with FakeBinance(bases=["BTC", "ETH", "SOL"]) as srv:
        m = BinanceMarket(config(srv), backoff_s=0.01)
        yield srv, m
        await m.close()


@pytest.fixture
async def bybit():
    async with FakeBybit(bases=["BTC", "ETH", "SOL"]) as srv:
        m = BybitMarket(config(srv), backoff_s=0.01)
        yield srv, m
        await m.close()


async def read(reader_class, market, keys=KEY, since=None):
    reader = reader_class(market, keys)
    try:
        return await reader.read(since), await reader.rights()
    finally:
        await reader.close()


# --- Binance ----------------------------------------------------------------------------------


async def test_binance_refuses_a_bad_signature(binance):
    srv, market = binance
    srv.add_key(KEY.api_key, KEY.secret, account=srv.new_account())
    with pytest.raises(AccountKeyError) as e:
        await read(BinanceAccountReader, market, ExchangeKeys(KEY.api_key, "wrong"))
    assert "Signature" in str(e.value) and "wrong" not in str(e.value).replace("wrong", "", 0)


@pytest.mark.parametrize(("rights", "trade", "withdraw"), [
    ({}, False, False), ({"enableFutures": True}, True, False),
    ({"enableWithdrawals": True}, False, True)])
async def test_binance_rights(binance, rights, trade, withdraw):
    srv, market = binance
    srv.add_key(KEY.api_key, KEY.secret, account=srv.new_account(), **rights)
    _state, r = await read(BinanceAccountReader, market)
    assert (r.read, r.trade, r.withdraw) == (True, trade, withdraw)


async def test_binance_positions_fills_funding_and_insurance_clear(binance):
    srv, market = binance
    acct = srv.new_account(wallet=50_000)
    srv.add_key(KEY.api_key, KEY.secret, account=acct)
    acct.open("BTC", "long", 0.5, 60_000, T0 + 1, leverage=10)
    acct.fund("BTC", 0.0001, T0 + 2)
    acct.open("ETH", "short", 10, 3_000, T0 + 3, leverage=20)
    acct.liquidate("ETH", "short", T0 + 4)
    state, _ = await read(BinanceAccountReader, market, since=T0)
    (btc,) = state.positions
    assert (btc.symbol, btc.side, btc.size, btc.margin) == ("BTCUSDT", "long", 0.5, 3_000)
    kinds = {(f.symbol, f.kind) for f in state.fills}
    assert kinds == {("BTCUSDT", "trade"), ("ETHUSDT", "trade"), ("ETHUSDT", "liquidation")}
    assert [f.amount for f in state.funding] == pytest.approx([-3.0])
    (pen,) = state.penalties
    assert pen.symbol == "ETHUSDT" and pen.amount == pytest.approx(acct.life("ETH", "short")
                                                                   .penalty)


async def test_binance_liquidation_price_within_a_tenth_of_a_percent(binance):
    srv, market = binance
    acct = srv.new_account(wallet=30_000)
    srv.add_key(KEY.api_key, KEY.secret, account=acct)
    acct.open("BTC", "long", 5.0, 60_000, T0 + 1, leverage=20)  # 300,000: bracket 3
    acct.open("ETH", "short", 50.0, 3_000, T0 + 2, leverage=10, mode="cross")
    acct.open("SOL", "long", 400.0, 150.0, T0 + 3, leverage=10, mode="cross")
    acct.marks.update(ETH=3_020.0, SOL=148.0)
    state, _ = await read(BinanceAccountReader, market)
    checks = check_liquidations("binance", state.balance, state.positions, market.instruments)
    assert {c.position.margin_mode for c in checks} == {"isolated", "cross"}
    for c in checks:
        assert c.theirs is not None and abs(c.diff_pct) < 0.1, (c.position.symbol, c)


# --- Bybit ------------------------------------------------------------------------------------


async def test_bybit_refuses_a_bad_signature(bybit):
    srv, market = bybit
    srv.add_key(KEY.api_key, KEY.secret, account=srv.new_account())
    with pytest.raises(AccountKeyError):
        await read(BybitAccountReader, market, ExchangeKeys(KEY.api_key, "wrong"))


@pytest.mark.parametrize(("kwargs", "trade", "withdraw"), [
    ({}, False, False),
    ({"read_only": False, "ContractTrade": ["Order", "Position"]}, True, False),
    ({"read_only": False, "Wallet": ["AccountTransfer", "Withdraw"]}, False, True)])
async def test_bybit_rights(bybit, kwargs, trade, withdraw):
    srv, market = bybit
    srv.add_key(KEY.api_key, KEY.secret, account=srv.new_account(), **kwargs)
    _state, r = await read(BybitAccountReader, market)
    assert (r.trade, r.withdraw) == (trade, withdraw)


async def test_bybit_positions_executions_and_funding(bybit):
    srv, market = bybit
    acct = srv.new_account(ISOLATED)
    srv.add_key(KEY.api_key, KEY.secret, account=acct)
    acct.open("BTC", "long", 0.5, 60_000, T0 + 1, leverage=10)
    acct.fund("BTC", 0.0001, T0 + 2)
    acct.open("ETH", "short", 10, 3_000, T0 + 3, leverage=20)
    acct.liquidate("ETH", "short", T0 + 4)
    state, _ = await read(BybitAccountReader, market, since=T0)
    (btc,) = state.positions
    assert (btc.symbol, btc.margin_mode, btc.margin) == ("BTCUSDT", "isolated", 3_000)
    assert sorted(f.kind for f in state.fills) == ["liquidation", "trade", "trade"]
    assert [f.amount for f in state.funding] == pytest.approx([-3.0])
    assert state.balance.mode == "unified isolated margin"


@pytest.mark.parametrize("mode", [ISOLATED, REGULAR])
async def test_bybit_liquidation_price_within_a_tenth_of_a_percent(bybit, mode):
    srv, market = bybit
    acct = srv.new_account(mode, wallet=40_000)
    srv.add_key(KEY.api_key, KEY.secret, account=acct)
    acct.open("BTC", "long", 3.0, 60_000, T0 + 1, leverage=20)  # 180,000: tier 2
    acct.open("ETH", "short", 50.0, 3_000, T0 + 2, leverage=10)
    acct.marks.update(ETH=3_020.0, BTC=59_500.0)
    state, _ = await read(BybitAccountReader, market)
    checks = check_liquidations("bybit", state.balance, state.positions, market.instruments)
    assert len(checks) == 2
    for c in checks:
        assert c.theirs is not None and abs(c.diff_pct) < 0.1, (c.position.symbol, c)
        assert c.approximate is None


async def test_bybit_portfolio_margin_is_approximated_and_says_so(bybit):
    srv, market = bybit
    acct = srv.new_account(PORTFOLIO, wallet=30_000)
    srv.add_key(KEY.api_key, KEY.secret, account=acct)
    acct.open("ETH", "short", 50.0, 3_000, T0 + 1, leverage=10)
    state, _ = await read(BybitAccountReader, market)
    (c,) = check_liquidations("bybit", state.balance, state.positions, market.instruments)
    assert c.approximate and "portfolio margin" in c.approximate
    assert abs(c.diff_pct) < 2.0
