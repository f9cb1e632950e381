"""Keys for what the hotline must keep about a person: encrypted numbers and keyed hashes.

A number that must be used again (to pass on the helpline's reply) is stored encrypted
with Fernet; where only "is it the same person?" matters, a keyed hash is stored instead.
NUMBER_ENCRYPTION_KEY may list several Fernet keys, comma-separated: the first encrypts,
all decrypt (MultiFernet), so a key can be rotated without losing open cases.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)


def keyed_hash(secret: str, value: str, length: int = 24) -> str:
    """An identifier that groups events of one call without revealing the call or number."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:length]

KEY_FILE = "number_encryption_key"


class NumberKeyError(ValueError):
    """NUMBER_ENCRYPTION_KEY is not a list of Fernet keys."""


def parse_keys(text: str) -> list[Fernet]:
    """Fernet keys from a comma-separated setting; raises NumberKeyError naming the bad position."""
    keys = []
    for position, part in enumerate(p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            keys.append(Fernet(part))
        except (ValueError, TypeError) as exc:
            raise NumberKeyError(f"NUMBER_ENCRYPTION_KEY: key {position + 1} is not a Fernet key "
                            "(make one with `ivr db new-key`)") from exc
    if not keys:
        raise NumberKeyError("NUMBER_ENCRYPTION_KEY is empty")
    return keys


def local_key(instance_path: str | Path) -> str:
    """Local mode: a Fernet key kept in instance/ (made on first use, readable by us only)."""
    path = Path(instance_path) / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class NumberVault:
    """Encrypts phone numbers for storage and computes keyed hashes for identity."""

    fernet: MultiFernet
    hash_secret: str

    @classmethod
    def from_settings(cls, keys: str, hash_secret: str) -> NumberVault:
        return cls(MultiFernet(parse_keys(keys)), hash_secret)

    def encrypt(self, number: str) -> str:
        return self.fernet.encrypt(number.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        """The number, or None when no configured key opens it (a key was dropped too early)."""
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            log.warning("a stored number could not be decrypted with the configured keys")
            return None

    def rotate(self, token: str) -> str:
        """Re-encrypt with the first (newest) key."""
        return self.fernet.rotate(token.encode()).decode()

    def identity(self, number: str) -> str:
        """A keyed hash of a number: the same person gives the same value; it reveals nothing."""
        return keyed_hash(self.hash_secret, "number:" + number)
