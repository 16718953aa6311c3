"""X webhooks (Account Activity API): the challenge-response check, a delivery's signature, and
a delivery's tweets and DMs as the payloads the poller yields.

X signs with the app's consumer secret: the CRC answer and the ``x-twitter-webhooks-signature``
header are both ``sha256=`` + base64 of an HMAC-SHA256 (of the ``crc_token``, of the raw body)
(https://developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/securing-webhooks).
A delivery carries v1.1 objects: ``tweet_create_events`` are v1.1 tweets, and
``direct_message_events`` are ``message_create`` events whose senders are in ``users``.
"""

import base64
from datetime import UTC, datetime
from typing import Any

from channels.errors import MalformedPayload
from channels.models import ChannelAccount
from channels.x.client import dm_event_payload, tweet_payload
from intake.webhooks import Delivery, WebhookRefused, account_secret, hmac_sha256, same_secret

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
SECRET = "consumer_secret"
V1_TIME = "%a %b %d %H:%M:%S %z %Y"  # "Wed Oct 10 20:19:24 +0000 2018"


def crc_response(account: ChannelAccount, crc_token: str | None) -> dict[str, str]:
    """The answer to X's challenge-response check for ``crc_token``. Raises
    ``WebhookRefused`` without a token or a consumer secret."""
    if not crc_token:
        raise WebhookRefused("the challenge-response check has no crc_token")
    return {"response_token": _signature(account_secret(account, SECRET), crc_token.encode())}


def verify(account: ChannelAccount, body: bytes, signature: str | None) -> None:
    """Check the ``x-twitter-webhooks-signature`` of a delivery's raw body. Raises
    ``WebhookRefused`` naming what is missing or wrong."""
    secret = account_secret(account, SECRET)
    if not signature:
        raise WebhookRefused(f"the delivery has no {SIGNATURE_HEADER} header")
    if not same_secret(_signature(secret, body), signature):
        raise WebhookRefused(f"the {SIGNATURE_HEADER} header does not match the body")


def delivery(body: Any, account: ChannelAccount) -> Delivery:
    """A delivery's customer tweets and DMs as payloads in the poller's shape; the brand's own
    and retweets are left out, as the poller leaves them out, and so are other events (likes,
    follows, typing). Raises ``MalformedPayload`` when the body is not a delivery for the
    account's user."""
    if not isinstance(body, dict):
        raise MalformedPayload(f"an X delivery is a JSON object, not a {type(body).__name__}")
    brand = _delivered_for(body, account)
    tweets = _list(body, "tweet_create_events")
    events = _list(body, "direct_message_events")
    users = _object(body, "users")
    payloads = [
        _tweet_payload(tweet)
        for tweet in tweets
        if not _is_retweet(tweet) and _user_id(_tweet_author(tweet)) != brand
    ]
    payloads += [
        _dm_payload(event, users)
        for event in events
        if not _is_other_dm_event(event) and _dm_sender(event) != brand
    ]
    return Delivery(payloads=payloads)


def _delivered_for(body: dict[str, Any], account: ChannelAccount) -> str:
    """The brand's user id: the account's ``user_id`` setting, which ``for_user_id`` names."""
    brand = str((account.settings or {}).get("user_id") or "")
    for_user = body.get("for_user_id")
    for_user = str(for_user) if isinstance(for_user, str | int) else ""
    if brand and for_user and for_user != brand:
        raise MalformedPayload(
            f"it is for X user {for_user}, but the account is user {brand}; point that user's "
            "subscription at its own account's webhook URL"
        )
    if not brand and not for_user:
        raise MalformedPayload("it names no for_user_id, and the account has no user_id setting")
    return brand or for_user


def _tweet_payload(tweet: Any) -> bytes:
    """A v1.1 tweet as the v2 tweet the mentions timeline gives, with its author in includes.

    Fields are carried as they come, so an odd tweet reaches the normaliser (and quarantine,
    with its reason) rather than being lost here.
    """
    if not isinstance(tweet, dict):
        return tweet_payload({"tweet_create_event": tweet}, {})
    data: dict[str, Any] = {
        "id": _id(tweet, "id"),
        "text": _full_text(tweet),
        "author_id": _user_id(_tweet_author(tweet)),
        "created_at": _created_at(tweet),
    }
    references = []
    if tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id"):
        references.append({"type": "replied_to", "id": _id(tweet, "in_reply_to_status_id")})
        data["in_reply_to_user_id"] = _id(tweet, "in_reply_to_user_id")
    if tweet.get("quoted_status_id_str") or tweet.get("quoted_status_id"):
        references.append({"type": "quoted", "id": _id(tweet, "quoted_status_id")})
    if references:
        data["referenced_tweets"] = references
    author = _tweet_author(tweet)
    users = [_user(author)] if isinstance(author, dict) else []
    return tweet_payload({k: v for k, v in data.items() if v is not None}, {"users": users})


def _dm_payload(event: Any, users: dict[str, Any]) -> bytes:
    """A v1.1 ``message_create`` event as the v2 DM event ``GET /2/dm_events`` gives."""
    if not isinstance(event, dict):
        return dm_event_payload({"direct_message_event": event}, {})
    create = _object(event, "message_create")
    message = _object(create, "message_data")
    target = _object(create, "target")
    sender = _dm_sender(event)
    data: dict[str, Any] = {
        "id": _id(event, "id"),
        "event_type": "MessageCreate",
        "text": message.get("text"),
        "sender_id": sender,
        "created_at": _millis_time(event.get("created_timestamp")),
    }
    recipient = target.get("recipient_id")
    if isinstance(sender, str) and isinstance(recipient, str | int):
        # v2 names a one-to-one conversation by both user ids, the smaller first.
        pair = sorted((sender, str(recipient)), key=lambda i: (len(i), i))
        data["dm_conversation_id"] = "-".join(pair)
    profile = users.get(sender) if isinstance(sender, str) else None
    includes = {"users": [_user(profile)]} if isinstance(profile, dict) else {}
    return dm_event_payload({k: v for k, v in data.items() if v is not None}, includes)


def _user(user: dict[str, Any]) -> dict[str, Any]:
    """A v1.1 user as a v2 user with the fields the poller asks for."""
    v2: dict[str, Any] = {
        "id": _user_id(user),
        "username": user.get("screen_name"),
        "name": user.get("name"),
        "profile_image_url": user.get("profile_image_url_https"),
    }
    if "followers_count" in user:
        v2["public_metrics"] = {"followers_count": user["followers_count"]}
    return {k: v for k, v in v2.items() if v is not None}


def _full_text(tweet: dict[str, Any]) -> Any:
    # A tweet over 140 characters comes truncated, its whole text in extended_tweet.
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and extended.get("full_text") is not None:
        return extended["full_text"]
    return tweet.get("full_text", tweet.get("text"))


def _created_at(tweet: dict[str, Any]) -> Any:
    # timestamp_ms keeps the milliseconds that created_at rounds away.
    if tweet.get("timestamp_ms") is not None:
        return _millis_time(tweet["timestamp_ms"])
    value = tweet.get("created_at")
    try:
        return datetime.strptime(value, V1_TIME).isoformat() if isinstance(value, str) else value
    except ValueError:
        return value  # the normaliser quarantines it, naming the tweet


def _millis_time(value: Any) -> Any:
    try:
        at = datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return value
    return at.isoformat(timespec="milliseconds")


def _id(obj: dict[str, Any], name: str) -> Any:
    """An id as v2 gives it, a string: v1.1's ``<name>_str``, else ``<name>`` (a string in DM
    events, a number in tweets and users)."""
    value = obj.get(f"{name}_str", obj.get(name))
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _tweet_author(tweet: dict[str, Any]) -> Any:
    return tweet.get("user") if isinstance(tweet, dict) else None


def _user_id(user: Any) -> Any:
    return _id(user, "id") if isinstance(user, dict) else None


def _dm_sender(event: Any) -> Any:
    create = event.get("message_create") if isinstance(event, dict) else None
    sender = create.get("sender_id") if isinstance(create, dict) else None
    return str(sender) if isinstance(sender, int) and not isinstance(sender, bool) else sender


def _is_retweet(tweet: Any) -> bool:
    return isinstance(tweet, dict) and tweet.get("retweeted_status") is not None


def _is_other_dm_event(event: Any) -> bool:
    return isinstance(event, dict) and event.get("type", "message_create") != "message_create"


def _object(obj: dict[str, Any], name: str) -> dict[str, Any]:
    value = obj.get(name)
    return value if isinstance(value, dict) else {}


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name) or []
    if not isinstance(value, list):
        raise MalformedPayload(f"its {name} is not a list")
    return value


def _signature(secret: str, message: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(secret, message)).decode()
