"""Channel credentials encrypted at rest.

The keys come from ``CAREINBOX_ENCRYPTION_KEYS``: Fernet keys, newest first. The first
encrypts; every one of them decrypts, so a key can be rotated in: put the new key first, run
``manage.py rotate_channel_secrets`` to re-encrypt every account under it, then drop the old
one. Without the setting the key is derived from ``SECRET_KEY``.
"""

import base64
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

logger = logging.getLogger(__name__)


def _fernet() -> MultiFernet:
    keys = settings.CAREINBOX_ENCRYPTION_KEYS or [_derived_key()]
    return MultiFernet([Fernet(key) for key in keys])


def _derived_key() -> str:
    digest = hashlib.sha256(f"careinbox-channel-credentials:{settings.SECRET_KEY}".encode())
    return base64.urlsafe_b64encode(digest.digest()).decode()


def encrypt(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, Any]:
    """Raises ``InvalidToken`` when none of the keys opens ``token``."""
    return json.loads(_fernet().decrypt(token.encode()))


def rotate(token: str) -> str:
    """``token`` encrypted again under the first key."""
    return _fernet().rotate(token.encode()).decode()


if TYPE_CHECKING:  # a dict in Python, whatever the column holds
    _TextColumn = models.TextField[dict[str, Any], dict[str, Any]]
else:
    _TextColumn = models.TextField


class EncryptedJSONField(_TextColumn):
    """A JSON object kept encrypted in a text column. A value none of the keys can open
    reads as empty (the account then fails to connect, saying what it misses), and the
    failure is logged, so that a key left out by mistake cannot take every page down."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        try:
            return decrypt(value)
        except InvalidToken:
            logger.error(
                "The %s of a %s cannot be decrypted with CAREINBOX_ENCRYPTION_KEYS; "
                "add the key it was encrypted with.",
                self.name,
                self.model.__name__,
            )
            return {}

    def to_python(self, value: Any) -> Any:
        return value if isinstance(value, dict) else {}

    def get_prep_value(self, value: Any) -> Any:
        return encrypt(value or {})
