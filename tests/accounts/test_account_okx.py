"""An OKX account read through real ccxt against the fake OKX's signed private endpoints: key
rights, balance per account level, positions, fills, funding, penalties; our liquidation price
against the fake's ``liqPx`` (OKX's formulas) in every margin mode."""

from __future__ import annotations

import pytest

from plugins.exchanges.account_liquidation import check_liquidations
from plugins.exchanges.account_okx import OkxAccountReader
from plugins.exchanges.ccxt_market import OkxMarket
from plugins.exchanges.errors import AccountKeyError
from settings.config import ExchangeConfig
from settings.secrets import ExchangeKeys, Secrets
from tests.fakes.okx_private import MULTI, PORTFOLIO, SINGLE
from tests.fakes.okx_server import FakeOkx

KEY = ExchangeKeys("okx-user-key-1", "okx-user-secret-1", "okx-user-pass-1")
T0 = 1_767_225_600_000


@pytest.fixture
async def okx():
    async with FakeOkx(bases=["BTC", "ETH", "SOL"]) as srv:
        market = OkxMarket(ExchangeConfig.model_validate(
            {"api_url": srv.url, "symbols": ["BTC", "ETH"], "timeout": "2s",
             "max_retries": 1}), backoff_s=0.01)
        try:
            yield srv, market
        finally:
            await market.close()


async def read(market, keys=KEY, since=None):
    reader = OkxAccountReader(market, keys)
    try:
        return await reader.read(since), await reader.rights()
    finally:
        await reader.close()


async def test_a_wrong_secret_is_refused_by_the_signature_check(okx):
    srv, market = okx
    srv.add_key(KEY.api_key, KEY.secret, KEY.passphrase, account=srv.new_account())
    with pytest.raises(AccountKeyError) as e:
        await read(market, ExchangeKeys(KEY.api_key, "not-the-secret", KEY.passphrase))
    assert "Invalid Sign" in str(e.value) and "not-the-secret" not in str(e.value)
    assert srv.count("/api/v5/account/config", status=401) == 1


async def test_a_traders_refused_key_leaves_the_bots_own_key_alone(okx):
    """The readers share the bot's market: a trader's key that OKX refuses must not mark the
    operator's key rejected (which would blank it) nor count against the exchange's health."""
    srv, _ = okx
    operator = ExchangeKeys("okx-operator-key", "okx-operator-secret", "okx-operator-pass")
    srv.add_key(*operator.__dict__.values(), account=srv.new_account())
    market = OkxMarket(ExchangeConfig.model_validate(
        {"api_url": srv.url, "symbols": ["BTC", "ETH"], "timeout": "2s", "max_retries": 1}),
        secrets=Secrets(exchanges={"okx": operator}), backoff_s=0.01)
    try:
        with pytest.raises(AccountKeyError, match="refused the key"):
            await read(market, ExchangeKeys("okx-stranger-key", "okx-stranger-secret",
                                            "okx-stranger-pass"))
        assert market.key_rejected is None and market.exchange.apiKey == operator.api_key
        assert market.tracker.errors == 0
        _state, rights = await read(market, operator)  # the operator's key still reads
        assert rights.read and not rights.trade
    finally:
        await market.close()


@pytest.mark.parametrize(("perm", "trade", "withdraw"), [
    ("read_only", False, False), ("read_only,trade", True, False),
    ("read_only,withdraw", False, True)])
async def test_rights_are_the_keys_perm(okx, perm, trade, withdraw):
    srv, market = okx
    srv.add_key(*KEY.__dict__.values(), perm=perm, account=srv.new_account())
    _state, rights = await read(market)
    assert (rights.read, rights.trade, rights.withdraw) == (True, trade, withdraw)
    assert (rights.refusal() is None) == (not trade and not withdraw)


async def test_positions_fills_funding_and_penalties(okx):
    srv, market = okx
    acct = srv.new_account(SINGLE)
    srv.add_key(*KEY.__dict__.values(), account=acct)
    acct.open("BTC", "long", 0.5, 60_000, T0 + 1, leverage=10)
    acct.open("ETH", "short", 3.0, 3_000, T0 + 2, leverage=5, mode="cross")
    acct.fund("BTC", 0.0001, T0 + 3)
    acct.open("SOL", "long", 10.0, 150.0, T0 + 4, leverage=20)
    acct.liquidate("SOL", "long", T0 + 5)
    state, _ = await read(market, since=T0)
    btc = next(p for p in state.positions if p.symbol == "BTC-USDT-SWAP")
    assert (btc.side, btc.size, btc.entry, btc.margin_mode) == ("long", 0.5, 60_000, "isolated")
    assert btc.margin == pytest.approx(3_000) and btc.fees == pytest.approx(15.0)
    assert btc.funding == pytest.approx(-0.5 * acct.mark("BTC") * 0.0001)
    assert [p.symbol for p in state.positions if p.margin_mode == "cross"] == ["ETH-USDT-SWAP"]
    assert sorted(f.kind for f in state.fills) == ["liquidation", "trade", "trade", "trade"]
    (liq,) = [f for f in state.fills if f.kind == "liquidation"]
    assert liq.symbol == "SOL-USDT-SWAP" and liq.size == pytest.approx(10.0)
    assert [f.amount for f in state.funding] == pytest.approx(
        [-0.5 * acct.mark("BTC") * 0.0001])
    (pen,) = state.penalties
    assert pen.amount == pytest.approx(acct.life("SOL", "long").penalty)
    assert state.balance.mode == "single-currency margin"
    assert state.balance.cross_equity == pytest.approx(acct.cross_equity)


def _check(state, market):
    return check_liquidations("okx", state.balance, state.positions, market.instruments)


@pytest.mark.parametrize("mode", [SINGLE, MULTI])
async def test_our_liquidation_price_is_okx_s_within_a_tenth_of_a_percent(okx, mode):
    srv, market = okx
    acct = srv.new_account(mode, wallet=60_000)
    if mode == MULTI:
        acct.collateral["BTC"] = (0.05, 2_850.0)  # counted in adjEq at its discounted value
    srv.add_key(*KEY.__dict__.values(), account=acct)
    acct.open("BTC", "long", 6.0, 60_000, T0 + 1, leverage=10)  # 600 contracts: tier 2
    acct.open("ETH", "short", 40.0, 3_000, T0 + 2, leverage=10, mode="cross")
    acct.open("SOL", "long", 200.0, 150, T0 + 3, leverage=5, mode="cross")
    acct.marks.update(ETH=3_050.0, SOL=147.0)
    state, _ = await read(market)
    checks = _check(state, market)
    assert len(checks) == 3
    for c in checks:
        assert c.theirs is not None and c.ours is not None, c
        assert abs(c.diff_pct) < 0.1, (c.position.symbol, c.ours, c.theirs)
        assert c.approximate is None
    btc = next(c for c in checks if c.position.symbol == "BTC-USDT-SWAP")
    assert btc.mmr == 0.005  # the tier by contracts, fetched for the check


async def test_portfolio_margin_is_approximated_and_says_so(okx):
    srv, market = okx
    acct = srv.new_account(PORTFOLIO, wallet=20_000)
    srv.add_key(*KEY.__dict__.values(), account=acct)
    acct.open("ETH", "short", 40.0, 3_000, T0 + 1, leverage=10, mode="cross")
    state, _ = await read(market)
    (c,) = _check(state, market)
    assert c.approximate is not None and "portfolio margin" in c.approximate
    assert abs(c.diff_pct) < 2.0  # close, not exact: OKX stresses the maintenance margin
