"""/account through the real ccxt client against the fake OKX server: the operator sees the
account's positions with our liquidation maths next to the exchange's, cross positions judged
on the account's equity, and a key that can trade flagged; nobody else sees anything."""

from __future__ import annotations

import pytest

from chat.commands.account import Account
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from plugins.exchanges.ccxt_market import OkxMarket
from settings import Config
from settings.config import ExchangeConfig
from settings.secrets import ExchangeKeys, Secrets
from storage import open_database
from tests.fakes.okx_market import default_bases
from tests.fakes.okx_server import FakeOkx

KEY_PARTS = ("hw-key-3f9a", "hw-secret-77c1", "hw-pass-b2d0")
KEYS = Secrets(exchanges={"okx": ExchangeKeys(*KEY_PARTS)})


def okx_position(inst: str, contracts: float, side: str, entry: float, lever: float,
                 mode: str, margin: float, liq: float) -> dict:
    """One row of OKX's /api/v5/account/positions (net mode: the sign of pos is the side),
    marked at its entry."""
    pos = contracts if side == "long" else -contracts
    return {"instType": "SWAP", "instId": inst, "pos": f"{pos:g}", "posSide": "net",
            "avgPx": f"{entry:g}", "lever": f"{lever:g}", "mgnMode": mode,
            "margin": f"{margin:g}" if mode == "isolated" else "", "imr": "",
            "liqPx": f"{liq:g}", "mmr": "", "notionalUsd": "", "uTime": "1", "cTime": "1",
            "markPx": f"{entry:g}"}


@pytest.fixture
async def okx():
    async with FakeOkx(bases=default_bases(4)) as srv:
        srv.add_key(*KEY_PARTS)
        yield srv


@pytest.fixture
async def ask(okx, tmp_path):
    """``ask(text, keys=..., operator=..., chat_type=...)`` → the Reply, against the fake."""
    markets = []

    async def go(text: str = "/account", *, keys: Secrets | None = KEYS, operator: bool = True,
                 chat_type: str = "private"):
        cfg = Config().with_overrides(storage={"path": str(tmp_path / "hw.db")})
        ex = ExchangeConfig.model_validate({"api_url": okx.url, "symbols": ["BTC", "ETH"],
                                            "timeout": "2s", "max_retries": 1})
        market = OkxMarket(ex, secrets=keys, backoff_s=0.01)
        markets.append(market)
        services = Services(cfg, open_database(cfg.storage.path), market,
                            commands={"account": Account()})
        ctx = CommandContext(user_id=7, chat_id=7 if chat_type == "private" else -5,
                             services=services, chat_type=chat_type, is_operator=operator)
        return await Dispatcher([Account()]).handle(text, ctx)

    yield go
    for m in markets:
        await m.close()


def requests_to(okx: FakeOkx, path: str) -> int:
    return sum(1 for r in okx.log if r.path == path)


async def test_isolated_position_next_to_the_exchange_figure(okx, ask):
    okx.positions = [okx_position("BTC-USDT-SWAP", 600, "long", 60_000, 10, "isolated",
                                  3_600, 54_500)]
    reply = await ask()
    assert reply.ok, reply.text
    (p,) = reply.data["positions"]
    assert p["position"] == {"size": 6.0, "entry": 60_000.0, "leverage": 10.0,
                             "margin_mode": "isolated"}
    # 600 contracts is past OKX tier 1 (≤ 500): the fake's tier 2 mmr, fetched for the answer
    assert (p["tier"], p["mmr"]) == (2, 0.005)
    n, m = 6.0, 3_600.0  # the isolated formula from OKX's docs, with the report's mmr and fee
    assert p["liquidation_price"] == pytest.approx((60_000 - m / n) / (1 - p["mmr"] - p["fee"]),
                                                   rel=1e-12)
    assert p["exchange_liquidation_price"] == 54_500
    assert p["liquidation_diff_pct"] == pytest.approx(
        (p["liquidation_price"] / 54_500 - 1) * 100, abs=1e-6)
    assert reply.data["can_trade"] is False and reply.data["warnings"] == []
    text = "\n".join(reply.text)
    assert "Exchange's liquidation price 54,500" in text and "TRADE" not in text
    assert "(isolated)" in text


async def test_cross_position_judged_on_the_accounts_cross_equity(okx, ask):
    acct = okx.new_account(wallet=13_000.0)
    okx.add_key(*KEY_PARTS, account=acct)  # this key reads a ledger: OKX's own formulas
    px = okx.market.price("ETH", okx.now_ms)
    acct.open("ETH", "short", 10.0, px, 1, leverage=20, mode="cross")
    acct.open("BTC", "long", 0.05, 60_000, 2, leverage=10)  # 300 USDT isolated
    reply = await ask()
    assert reply.ok, reply.text
    eth = next(p for p in reply.data["positions"] if p["symbol"] == "ETH-USDT-SWAP")
    assert reply.data["equity"] == pytest.approx(acct.cross_equity)  # isolated margin apart
    theirs = acct.liq_price(acct.positions[("ETH", "short")])
    assert eth["exchange_liquidation_price"] == pytest.approx(theirs, rel=1e-9)
    assert abs(eth["liquidation_diff_pct"]) < 0.1  # ours within 0.1 % of OKX's
    assert any("account's equity" in w for w in eth["warnings"])
    # judged as isolated with its 20x margin it would be under 5 % away; on the account's
    # equity it has room
    assert eth["liquidation_price"] > px * 1.15 and eth["distance_pct"] > 10


async def test_a_key_that_can_trade_is_flagged(okx, ask):
    okx.account_perm = "read_only,trade"
    reply = await ask()
    assert reply.ok and reply.data["can_trade"] is True
    assert "can TRADE" in reply.text[1] and "OKX_API_PASSPHRASE" in reply.text[1]
    assert reply.data["positions"] == []


async def test_only_the_operator_sees_the_account_and_nothing_is_fetched_otherwise(okx, ask):
    okx.positions = [okx_position("BTC-USDT-SWAP", 50, "long", 60_000, 10, "isolated", 3_000,
                                  54_500)]
    reply = await ask(operator=False)
    assert reply.kind == "usage" and "operator" in reply.text[0]
    in_group = await ask(chat_type="group")
    assert in_group.kind == "usage" and "private chat" in in_group.text[0]
    assert requests_to(okx, "/api/v5/account/positions") == 0
    assert requests_to(okx, "/api/v5/account/balance") == 0


async def test_without_keys_it_says_which_variables_to_set(okx, ask):
    reply = await ask(keys=None)
    assert reply.kind == "usage"
    assert "OKX_API_KEY" in reply.text[0] and "read-only" in reply.text[0]


async def test_the_simulated_market_has_no_account(services):
    reply = await Dispatcher([Account()]).handle("/account", CommandContext.local(services))
    assert reply.kind == "usage" and "no account" in reply.text[0]
