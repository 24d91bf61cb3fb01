"""Encryption at rest for per-user vendor credentials (Fernet: AES-128-CBC + HMAC).

``MultiFernet`` decrypts with the current key or any old one, so ``timebot keys rotate`` can
re-encrypt rows one by one while the bot keeps running.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class UndecryptableSecret(ValueError):
    """A stored secret none of the configured keys opens (a key was dropped too soon)."""


class SecretBox:
    def __init__(self, key: str, old_keys: list[str] | None = None) -> None:
        self._fernet = MultiFernet([Fernet(key), *(Fernet(k) for k in old_keys or [])])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise UndecryptableSecret("stored secret cannot be decrypted with TIMEBOT_SECRET_KEY") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt under the current key (whatever key it was written with)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:  # `timebot keys rotate` counts these; a traceback helps nobody
            raise UndecryptableSecret("stored secret cannot be decrypted with TIMEBOT_SECRET_KEY") from exc

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
