"""Normaliser for the sample traffic format (see the demo data's README): one JSON event a line.

The ``truth`` object of an event is test labelling, never product input: it is dropped before
anything else reads the event, and is not kept in the stored raw payload.
"""

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from channels.errors import MalformedPayload
from channels.inbound import InboundAttachment, InboundAuthor, InboundMessage
from channels.kinds import KINDS
from channels.models import ChannelAccount, Platform

# The demo's traffic: a week of a home-goods brand's care inbox.
DEMO_TRAFFIC = Path(__file__).parent / "sample_data" / "traffic.jsonl"

# Where sample traffic loaded from a file lands: named apart from the accounts a real
# connection (or the sandbox) creates, which see the same traffic under the platforms' ids.
SAMPLE_ACCOUNTS = {
    Platform.X: "Sample file: @acme_care",
    Platform.FACEBOOK: "Sample file: Acme Home",
    Platform.EMAIL: "Sample file: care@acme-home.example",
}


def accounts() -> dict[str, ChannelAccount]:
    """The channel accounts sample traffic arrives on, created on first use. They are not
    connected to any platform, so they are never polled."""
    return {
        platform: ChannelAccount.objects.get_or_create(
            platform=platform, name=name, defaults={"enabled": False}
        )[0]
        for platform, name in SAMPLE_ACCOUNTS.items()
    }


def normalise(raw: bytes) -> InboundMessage:
    """Read one sample event. Raises ``MalformedPayload`` naming what is wrong."""
    event = _load(raw)
    event.pop("truth", None)
    channel = _field(event, "channel", str)
    if channel not in KINDS:
        raise MalformedPayload(f"Event {event.get('id')!r} has unknown channel {channel!r}.")
    author = _field(event, "author", dict)
    if channel == "email":
        author_identity = InboundAuthor(
            external_id=_field(author, "email", str).lower(),
            handle=_field(author, "email", str).lower(),
            display_name=author.get("name") or "",
        )
    else:
        author_identity = InboundAuthor(
            external_id=str(_field(author, "id", (str, int))),
            handle=author.get("handle") or "",
            display_name=author.get("name") or "",
            follower_count=author.get("followers"),
        )
    event_id = _field(event, "id", str)
    return InboundMessage(
        channel=channel,
        external_id=event_id,
        author=author_identity,
        sent_at=_timestamp(_field(event, "at", str), event_id),
        text=_field(event, "text", str),
        subject=event.get("subject") or "",
        html=event.get("html") or "",
        in_reply_to=(event["reply_to"],) if event.get("reply_to") else (),
        attachments=tuple(_attachment(a, event_id) for a in _list(event, "attachments")),
        # ASCII-escaped: whatever the strings hold, the stored payload is valid JSON.
        raw=json.dumps(event, sort_keys=True).encode(),
    )


def _load(raw: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw)
    except ValueError as exc:  # not UTF-8, not JSON, or numbers too long to read
        raise MalformedPayload(f"Not a JSON event: {exc}.") from None
    if not isinstance(event, dict):
        raise MalformedPayload(f"Expected a JSON object, got {type(event).__name__}.")
    return event


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(name)
    if value is None or not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedPayload(
            f"Event {obj.get('id', '(no id)')!r}: field {name!r} is missing or not "
            f"{getattr(kind, '__name__', 'of the expected type')}."
        )
    return value


def _list(obj: dict[str, Any], name: str) -> list[Any]:
    value = obj.get(name) or []
    if not isinstance(value, list):
        raise MalformedPayload(f"Event {obj.get('id')!r}: field {name!r} is not a list.")
    return value


def _timestamp(value: str, event_id: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPayload(f"Event {event_id!r}: {value!r} is not an ISO 8601 time.") from None
    if at.tzinfo is None:
        raise MalformedPayload(f"Event {event_id!r}: time {value!r} has no time zone.")
    return at


def _attachment(spec: Any, event_id: str) -> InboundAttachment:
    if not isinstance(spec, dict):
        raise MalformedPayload(f"Event {event_id!r}: an attachment is not an object.")
    filename = _field(spec, "filename", str)
    size = _field(spec, "size", int)
    # Content past the attachment limit would be thrown away at ingest: never make it.
    storable = 0 <= size <= settings.CAREINBOX_ATTACHMENT_MAX_BYTES
    return InboundAttachment(
        filename=filename,
        content_type=spec.get("content_type") or "application/octet-stream",
        size=size,
        content=generated_content(f"{event_id}/{filename}", size) if storable else b"",
    )


def generated_content(seed: str, size: int) -> bytes:
    """Deterministic stand-in bytes: the sample format carries sizes, not contents."""
    block = hashlib.sha256(seed.encode()).digest()
    return (block * (size // len(block) + 1))[:size]
