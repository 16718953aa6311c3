"""Reads one Facebook page event: a visitor post, a comment, or a Messenger message.

A payload is a page webhook body holding exactly one event, so a webhook delivery split per
event reads the same as what the poller assembles from Graph API answers
(https://developers.facebook.com/docs/graph-api/webhooks/reference/page):

- ``{"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed", "value":
  {"item": "post"|"status"|"comment", "verb": "add", "post_id", "comment_id", "parent_id",
  "from": {"id", "name"}, "message", "created_time"}}]}]}``; the poller adds ``"post":
  {"id", "message", "from"}``, the post a comment sits under, for context.
- ``{"object": "page", "entry": [{"id": PAGE_ID, "messaging": [{"sender": {"id"},
  "recipient": {"id"}, "timestamp": MS, "message": {"mid", "text", "attachments": [{"type",
  "payload": {"url"}}]}}]}]}``; the poller adds the sender's ``name``, ``"conversation":
  {"id"}`` and each attachment's ``name``, ``mime_type`` and ``size``.
"""

import json
import math
import mimetypes
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from channels.errors import MalformedPayload, UnsupportedEvent
from channels.facebook.graph import graph_time
from channels.inbound import InboundAttachment, InboundAuthor, InboundMessage

# Feed items that are a post on the page; comments are the other item read.
POST_ITEMS = {"post", "status", "photo", "video", "share"}
# Graph ids (digits and underscores, "m_…" message ids, "t_…" conversations) are printable
# ASCII; anything else is not an id and must not reach the database.
_ID = re.compile(r"^[!-~]{1,200}$")
_LARGEST_SIZE = 2**53


def normalise(raw: bytes) -> InboundMessage:
    """Read one page event. Raises ``MalformedPayload`` or ``UnsupportedEvent`` naming the
    item and what is wrong."""
    body = _load(raw)
    if body.get("object") != "page":
        raise UnsupportedEvent(f"Webhook object {body.get('object')!r} is not a Facebook page.")
    entries = body.get("entry")
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        raise MalformedPayload("A Facebook payload holds exactly one entry object.")
    entry = entries[0]
    page_id = _id(entry, "id", "The entry")
    changes = entry.get("changes") or []
    messaging = entry.get("messaging") or []
    if not isinstance(changes, list) or not isinstance(messaging, list):
        raise MalformedPayload(f"Entry of page {page_id}: changes and messaging must be lists.")
    if len(changes) + len(messaging) != 1:
        raise MalformedPayload(
            f"Entry of page {page_id} holds {len(changes) + len(messaging)} events; "
            "split a delivery into one payload per event."
        )
    if changes:
        return _feed_change(_object(changes[0], f"Change on page {page_id}"), page_id, raw)
    return _messaging(_object(messaging[0], f"Messaging event on page {page_id}"), page_id, raw)


def _feed_change(change: dict[str, Any], page_id: str, raw: bytes) -> InboundMessage:
    if change.get("field") != "feed":
        raise UnsupportedEvent(
            f"Page {page_id}: change field {change.get('field')!r} is not read."
        )
    value = _object(change.get("value"), f"Feed change on page {page_id}")
    item = value.get("item")
    if item == "comment":
        external_id = _id(value, "comment_id", "A feed comment")
        what = f"Comment {external_id}"
        post_id = _id(value, "post_id", what)
        parent_id = _id(value, "parent_id", what) if value.get("parent_id") else post_id
        channel = "facebook.comment"
        in_reply_to: tuple[str, ...] = tuple(dict.fromkeys((parent_id, post_id)))
        context = _post_text(value.get("post"), post_id)
    elif isinstance(item, str) and item in POST_ITEMS:
        external_id = _id(value, "post_id", f"A feed {item}")
        what = f"Post {external_id}"
        channel = "facebook.post"
        in_reply_to = ()
        context = ""
    else:
        raise UnsupportedEvent(f"Feed item {item!r} on page {page_id} is not a post or comment.")
    if value.get("verb", "add") != "add":
        raise UnsupportedEvent(f"{what}: verb {value.get('verb')!r} is not read, only 'add'.")
    author = _author(value.get("from"), what)
    if author.external_id == page_id:
        raise UnsupportedEvent(f"{what} is the page's own, not a customer's.")
    return InboundMessage(
        channel=channel,
        external_id=external_id,
        author=author,
        sent_at=_time(value.get("created_time"), what, millis=False),
        text=_text(value.get("message"), what),
        in_reply_to=in_reply_to,
        context=context,
        raw=raw,
    )


def _post_text(post: Any, post_id: str) -> str:
    """The text of the post a comment sits under, when the payload carries it: the poller
    adds it; a page webhook gives the post's id and status but not its words. Only shown
    as a reminder, so a post without usable text leaves it out rather than the comment."""
    if not isinstance(post, dict) or str(post.get("id", post_id)) != post_id:
        return ""
    message = post.get("message")
    return message if isinstance(message, str) else ""


def _messaging(event: dict[str, Any], page_id: str, raw: bytes) -> InboundMessage:
    if "message" not in event:
        kinds = sorted(set(event) - {"sender", "recipient", "timestamp"})
        raise UnsupportedEvent(f"Messenger event {kinds} on page {page_id} is not a message.")
    message = _object(event["message"], f"Messenger event on page {page_id}")
    external_id = _id(message, "mid", "A Messenger message")
    what = f"Messenger message {external_id}"
    if message.get("is_echo"):
        raise UnsupportedEvent(f"{what} is an echo of the page's own message.")
    sender = _object(event.get("sender"), f"{what}: sender")
    author = _author(sender, what)
    if author.external_id == page_id:
        raise UnsupportedEvent(f"{what} was sent by the page, not a customer.")
    text = _text(message.get("text"), what)
    specs = message.get("attachments") or []
    if not isinstance(specs, list):
        raise MalformedPayload(f"{what}: attachments must be a list.")
    attachments = tuple(_attachment(spec, what, n) for n, spec in enumerate(specs, start=1))
    if not text and not attachments:
        raise UnsupportedEvent(f"{what} has neither text nor attachments.")
    reply_to = message.get("reply_to")
    in_reply_to = (_id(reply_to, "mid", f"{what}: reply_to"),) if reply_to else ()
    return InboundMessage(
        channel="facebook.message",
        external_id=external_id,
        author=author,
        sent_at=_time(event.get("timestamp"), what, millis=True),
        text=text,
        in_reply_to=in_reply_to,
        attachments=attachments,
        raw=raw,
    )


def _load(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"Not a JSON Facebook payload: {exc}.") from None
    if not isinstance(body, dict):
        raise MalformedPayload(f"Expected a JSON object, got {type(body).__name__}.")
    return body


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is not an object.")
    return value


def _id(obj: Any, name: str, what: str) -> str:
    value = obj.get(name) if isinstance(obj, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID.match(value):
        raise MalformedPayload(f"{what}: {name} {value!r} is missing or not a Graph id.")
    return value


def _author(value: Any, what: str) -> InboundAuthor:
    author = _object(value, f"{what}: author")
    name = author.get("name") or ""
    if not isinstance(name, str):
        raise MalformedPayload(f"{what}: author name is not text.")
    return InboundAuthor(external_id=_id(author, "id", f"{what}: author"), display_name=name)


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"{what}: message text is not a string.")
    return value


def _time(value: Any, what: str, *, millis: bool) -> datetime:
    """Webhooks give Unix times (seconds on the feed, milliseconds in Messenger); Graph API
    reads give ``2021-02-04T15:16:24+0000``."""
    try:
        if isinstance(value, str):
            return graph_time(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if millis else value
            if not math.isfinite(seconds):
                raise ValueError(seconds)
            return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedPayload(f"{what}: {value!r} is not a time.") from None
    raise MalformedPayload(f"{what}: the time is missing.")


def _attachment(spec: Any, what: str, n: int) -> InboundAttachment:
    """Metadata only: the content sits behind a short-lived CDN URL, not in the payload."""
    spec = _object(spec, f"{what}: attachment {n}")
    filename = _clean(
        _string(spec, "name") or _url_name(_string(spec.get("payload"), "url")) or f"file-{n}"
    )
    content_type = _clean(_string(spec, "mime_type") or mimetypes.guess_type(filename)[0] or "")
    size = spec.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _LARGEST_SIZE:
        raise MalformedPayload(f"{what}: attachment {filename!r} has size {size!r}.")
    return InboundAttachment(
        filename=filename, content_type=content_type or "application/octet-stream", size=size
    )


def _string(obj: Any, name: str) -> str:
    value = obj.get(name) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def _url_name(url: str) -> str:
    try:
        return PurePosixPath(urlsplit(url).path).name
    except ValueError:
        return ""


def _clean(value: str) -> str:
    # Stored in 255-character columns; PostgreSQL text cannot hold NUL.
    return value.replace("\x00", "\ufffd")[:255]
