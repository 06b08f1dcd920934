"""Exchange keys at rest: encrypted with Fernet (``cryptography``), the key from the
environment only (``ACCOUNT_ENCRYPTION_KEY``), never written in clear anywhere.

``ACCOUNT_ENCRYPTION_KEY`` may hold several Fernet keys separated by commas: the first encrypts,
all decrypt (``MultiFernet``), so the key can be rotated without losing connected accounts.
Generate one with ``python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"``.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from i18n import _
from settings.logs import mask_secrets
from settings.secrets import ExchangeKeys
from settings.show import GENERATE_KEY as GENERATE


class VaultError(Exception):
    """The encryption key is malformed, or a stored key cannot be decrypted with it."""


class KeyVault:
    """Encrypts and decrypts one account's ``ExchangeKeys``. Never shows a key in its repr."""

    def __init__(self, secret: str) -> None:
        parts = [p.strip() for p in secret.split(",") if p.strip()]
        if not parts:
            raise VaultError(_("the account encryption key is empty"))
        try:
            self._fernet = MultiFernet([Fernet(p.encode()) for p in parts])
        except (ValueError, TypeError):
            raise VaultError(_("the account encryption key is not a Fernet key (32 url-safe "
                               "base64-encoded bytes); generate one with {command}").format(
                                   command=GENERATE)) from None
        mask_secrets(*parts)

    def __repr__(self) -> str:
        return "KeyVault(***)"

    def encrypt(self, keys: ExchangeKeys) -> str:
        plain = json.dumps({"key": keys.api_key, "secret": keys.secret,
                            "passphrase": keys.passphrase})
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> ExchangeKeys:
        """The keys in ``token``; each part is masked in every log line from now on."""
        try:
            d = json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError):
            raise VaultError(_("a stored exchange key cannot be decrypted with the account "
                               "encryption key (was it changed?)")) from None
        keys = ExchangeKeys(d["key"], d["secret"], d.get("passphrase"))
        mask_secrets(keys.api_key, keys.secret, keys.passphrase or "")
        return keys


def vault_from(secret: str | None) -> KeyVault | None:
    """The vault for ``ACCOUNT_ENCRYPTION_KEY``, None when it is not set (``/connect`` off)."""
    return KeyVault(secret) if secret else None
