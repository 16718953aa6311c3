"""Webhook deliveries beside polling: who may call, how a signature is checked, and how a
verified delivery is read (``deliveries`` keeps it and ingests it on a worker).

Each platform's ``webhook`` module knows its handshake, its signature header and how to split
a delivery into its normaliser's payloads; this module holds what they share. Polling stays
the safety net: a delivery that never came is read by the next poll, and one that came too is
stored once (ingest is idempotent on the platform's message id).
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.errors import MalformedPayload
from channels.models import ChannelAccount


class WebhookRefused(Exception):
    """A call that cannot be shown to come from the platform for this account; answer 403."""


@dataclass(frozen=True)
class Delivery:
    """A verified delivery split into its normaliser's payloads, and the parts that belong to
    no connected account (``(payload, why)``), which are kept in quarantine."""

    payloads: list[bytes]
    misrouted: list[tuple[bytes, str]] = field(default_factory=list)


# Reads a delivery's parsed JSON body for the account it was sent to; raises MalformedPayload
# when the body as a whole is not a delivery of that platform.
Converter = Callable[[Any, ChannelAccount], Delivery]


def hmac_sha256(secret: str, message: bytes) -> bytes:
    """The HMAC-SHA256 of ``message`` keyed with ``secret`` (UTF-8), as raw bytes."""
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def same_secret(expected: str, given: str | None) -> bool:
    """Whether ``given`` equals ``expected``, compared in constant time; None never matches."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def webhook_account(*, platform: str, account_id: int) -> ChannelAccount:
    """The enabled ``platform`` account a webhook URL names. Raises ``WebhookRefused``."""
    account = ChannelAccount.objects.filter(pk=account_id, platform=platform).first()
    if account is None:
        raise WebhookRefused(f"no {platform} channel account has id {account_id}")
    if not account.enabled:
        raise WebhookRefused(f"{platform} channel account {account_id} is disabled")
    return account


def account_secret(account: ChannelAccount, name: str) -> str:
    """A webhook secret from the account's credentials. Raises ``WebhookRefused`` when unset,
    so an account that is not set up for webhooks accepts nothing."""
    value = (account.credentials or {}).get(name)
    if not isinstance(value, str) or not value:
        raise WebhookRefused(
            f"{account.platform} channel account {account.pk} has no {name} credential"
        )
    return value


def parse_body(body: bytes) -> Any:
    """A delivery's JSON body. Raises ``MalformedPayload`` when it is not JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedPayload(f"the body is not JSON ({exc})") from None
