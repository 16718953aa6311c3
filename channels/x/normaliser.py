"""Reads one X payload into an ``InboundMessage``.

A payload is ``{"data": <tweet or DM event>, "includes": {"users": [...], "tweets": [...]}}``,
X API v2's shape for a single object with its expansions (see ``client.tweet_payload``). A
tweet is a mention of the brand (``x.mention``); a ``MessageCreate`` DM event is ``x.dm``.
"""

import html
import json
from datetime import datetime
from typing import Any

from channels.errors import MalformedPayload, UnsupportedEvent
from channels.inbound import InboundAuthor, InboundMessage

MAX_AVATAR_URL = 1000


def normalise(raw: bytes) -> InboundMessage:
    """Read one tweet or DM event payload. Raises ``MalformedPayload`` naming the item and
    what is wrong, or ``UnsupportedEvent`` for retweets and DM events other than messages."""
    body = _load(raw)
    item = body.get("data")
    if not isinstance(item, dict):
        raise MalformedPayload("The X payload has no tweet or DM event in its 'data' object.")
    includes = body.get("includes") or {}
    if not isinstance(includes, dict):
        raise MalformedPayload("The X payload's 'includes' is not an object.")
    if "event_type" in item:
        return _direct_message(item, includes, raw)
    return _tweet(item, includes, raw)


def _tweet(tweet: dict[str, Any], includes: dict[str, Any], raw: bytes) -> InboundMessage:
    tweet_id = _snowflake(tweet, "id", "A tweet")
    label = f"Tweet {tweet_id}"
    references = tweet.get("referenced_tweets") or []
    if not isinstance(references, list) or not all(isinstance(r, dict) for r in references):
        raise MalformedPayload(f"{label}: 'referenced_tweets' is not a list of objects.")
    kinds = {r["type"]: r.get("id") for r in references if isinstance(r.get("type"), str)}
    if "retweeted" in kinds:
        raise UnsupportedEvent(
            f"{label} is a retweet of {kinds['retweeted']}; a retweet is not a message to answer."
        )
    parent = _snowflake(kinds, "replied_to", label) if "replied_to" in kinds else ""
    root = _snowflake(tweet, "conversation_id", label) if "conversation_id" in tweet else ""
    text = _field(tweet, "text", str, label)
    return InboundMessage(
        channel="x.mention",
        external_id=tweet_id,
        author=_author(includes, _snowflake(tweet, "author_id", label), label),
        sent_at=_timestamp(tweet, label),
        # X escapes &, < and > in tweet text (not in DMs).
        text=html.unescape(text),
        # The tweet answered, then the conversation's first tweet when that is another one.
        in_reply_to=tuple(dict.fromkeys(i for i in (parent, root) if i and i != tweet_id)),
        raw=raw,
    )


def _direct_message(event: dict[str, Any], includes: dict[str, Any], raw: bytes) -> InboundMessage:
    event_id = _snowflake(event, "id", "A DM event")
    label = f"DM event {event_id}"
    kind = event.get("event_type")
    if kind != "MessageCreate":
        raise UnsupportedEvent(f"{label} is a {kind!r} event; only MessageCreate is a message.")
    text = event.get("text")
    if text is None and event.get("attachments"):
        text = ""  # a picture sent alone
    return InboundMessage(
        channel="x.dm",
        external_id=event_id,
        author=_author(includes, _snowflake(event, "sender_id", label), label),
        sent_at=_timestamp(event, label),
        text=_field({"text": text}, "text", str, label),
        raw=raw,
    )


def _author(includes: dict[str, Any], user_id: str, label: str) -> InboundAuthor:
    users = includes.get("users") or []
    if not isinstance(users, list):
        raise MalformedPayload(f"{label}: 'includes.users' is not a list.")
    user = next((u for u in users if isinstance(u, dict) and u.get("id") == user_id), None)
    if user is None:
        raise MalformedPayload(
            f"{label} is from user {user_id}, whose profile is not in the payload's "
            "includes.users."
        )
    who = f"{label}: user {user_id}"
    metrics = user.get("public_metrics") or {}
    if not isinstance(metrics, dict):
        raise MalformedPayload(f"{who} has 'public_metrics' that is not an object.")
    followers = metrics.get("followers_count")
    if followers is not None and (not isinstance(followers, int) or isinstance(followers, bool)):
        raise MalformedPayload(f"{who} has a follower count that is not a number.")
    avatar = user.get("profile_image_url")
    # A broken picture link never costs a message: the profile is shown without it.
    if not isinstance(avatar, str) or not avatar.startswith("https://"):
        avatar = ""
    avatar = avatar if len(avatar) <= MAX_AVATAR_URL else ""
    return InboundAuthor(
        external_id=user_id,
        handle=_field(user, "username", str, who),
        display_name=_field(user, "name", str, who),
        follower_count=followers,
        avatar_url=avatar,
    )


def _load(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedPayload(f"The X payload is not JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise MalformedPayload(f"The X payload is a JSON {type(body).__name__}, not an object.")
    return body


def _field(obj: dict[str, Any], name: str, kind: type, label: str) -> Any:
    value = obj.get(name)
    if value is None:
        raise MalformedPayload(f"{label} has no '{name}'.")
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedPayload(f"{label}: '{name}' is not a {kind.__name__}.")
    return value


def _snowflake(obj: dict[str, Any], name: str, label: str) -> str:
    value = obj.get(name)
    if value is None:
        raise MalformedPayload(f"{label} has no '{name}'.")
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise MalformedPayload(f"{label}: '{name}' is {value!r}, not an X id (a numeric string).")
    return value


def _timestamp(obj: dict[str, Any], label: str) -> datetime:
    value = _field(obj, "created_at", str, label)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPayload(f"{label}: created_at {value!r} is not an ISO 8601 time.") from None
    if at.tzinfo is None:
        raise MalformedPayload(f"{label}: created_at {value!r} has no time zone.")
    return at
