"""Traders' keys at rest: Fernet with the key from ``ACCOUNT_ENCRYPTION_KEY`` (rotatable),
never shown; ``check-config`` says when it is missing (``/connect`` off) and refuses a bad one;
a decrypted key is masked in every log line."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from cryptography.fernet import Fernet

from plugins.manager import PluginManager
from plugins.preflight import preflight
from settings import Config
from settings.logs import setup_logging
from settings.secrets import ExchangeKeys, Secrets
from settings.show import render_effective
from storage.key_vault import KeyVault, VaultError, vault_from

KEYS = ExchangeKeys("vault-test-key-0123456789", "vault-test-secret-ABCDEFGH", "pass-9876543")


def test_keys_round_trip_encrypted_and_the_vault_never_shows_them():
    vault = KeyVault(Fernet.generate_key().decode())
    token = vault.encrypt(KEYS)
    assert all(part not in token for part in (KEYS.api_key, KEYS.secret, KEYS.passphrase))
    back = vault.decrypt(token)
    assert (back.api_key, back.secret, back.passphrase) == (KEYS.api_key, KEYS.secret,
                                                            KEYS.passphrase)
    assert "***" in repr(vault) and "***" in repr(back)


def test_the_encryption_key_can_be_rotated():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = KeyVault(old).encrypt(KEYS)
    rotated = KeyVault(f"{new},{old}")  # the first encrypts, every one decrypts
    assert rotated.decrypt(token).secret == KEYS.secret
    with pytest.raises(VaultError, match="cannot be decrypted"):
        KeyVault(new).decrypt(token)


def test_a_malformed_key_is_refused_without_echoing_it():
    with pytest.raises(VaultError) as e:
        KeyVault("not-a-fernet-key-at-all")
    assert "not-a-fernet-key" not in str(e.value) and "Fernet" in str(e.value)
    assert vault_from(None) is None and vault_from("") is None


def test_check_config_says_whether_connect_is_on():
    off = render_effective(Config(), {})
    assert "ACCOUNT_ENCRYPTION_KEY = (not set: /connect is off" in off
    key = Fernet.generate_key().decode()
    on = render_effective(Config(), {"ACCOUNT_ENCRYPTION_KEY": key})
    assert "ACCOUNT_ENCRYPTION_KEY = *** (set" in on and key not in on


def test_preflight_refuses_a_malformed_encryption_key():
    secrets = Secrets(account_key="short-and-wrong")
    cfg = Config().with_overrides(exchange={"name": "sim"})

    class NoMarket:
        async def load_instruments(self):
            return {}

        def resolve(self, name):
            return name

        async def close(self):
            pass

    result = asyncio.run(preflight(cfg, PluginManager(entry_points=False), secrets, {},
                                   NoMarket))
    assert any(p.startswith("ACCOUNT_ENCRYPTION_KEY:") for p in result.problems)
    assert not any("short-and-wrong" in p for p in result.problems)


def test_a_decrypted_key_is_masked_in_the_logs():
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream, verbose=1)
    try:
        vault = KeyVault(Fernet.generate_key().decode())
        keys = vault.decrypt(vault.encrypt(KEYS))
        logging.getLogger("hedgewatch.test").debug("oops %s %s %s", keys.api_key, keys.secret,
                                                   keys.passphrase)
    finally:
        setup_logging("INFO")
    out = stream.getvalue()
    assert "oops *** *** ***" in out
    assert all(part not in out for part in (KEYS.api_key, KEYS.secret, KEYS.passphrase))
