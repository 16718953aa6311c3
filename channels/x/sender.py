"""Sending replies on X: a reply tweet for a mention, a direct message for a DM."""

import html
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import tweepy

from channels.errors import FetchError, PermanentSendError, SendRateLimited, TransientSendError
from channels.models import ChannelAccount
from channels.plug import OutboundReply
from channels.x.client import TWEET_FIELDS, XApi, reset_time
from channels.x.length import url_spans, validate_reply_text

# How far back find_sent reads the brand's tweets or the DM conversation, in pages of 100.
FIND_SENT_PAGES = 5


def send(account: ChannelAccount, reply: OutboundReply) -> str:
    """Post ``reply`` and return X's id for it: the reply tweet's, or the DM event's.

    Raises ``PermanentSendError`` for what X refuses (``ReplyTooLong`` before asking it) and
    ``TransientSendError`` when X is unavailable, slow or rate-limiting.
    """
    validate_reply_text(reply.text, channel=reply.channel)
    api = XApi(account)
    if reply.channel == "x.mention":
        with _sending(f"reply tweet for reply {reply.message_id}"):
            answer = api.client.create_tweet(
                text=reply.text, in_reply_to_tweet_id=reply.in_reply_to, user_auth=api.user_auth
            )
        return _created_id(answer, "id", reply)
    if reply.channel == "x.dm":
        with _sending(f"direct message for reply {reply.message_id}"):
            answer = api.client.create_direct_message(
                participant_id=reply.recipient, text=reply.text, user_auth=api.user_auth
            )
        return _created_id(answer, "dm_event_id", reply)
    raise PermanentSendError(
        f"Reply {reply.message_id} is for channel {reply.channel!r}; X answers only x.mention "
        "and x.dm."
    )


def find_sent(account: ChannelAccount, reply: OutboundReply) -> str | None:
    """X's id for ``reply`` if the brand already posted it: a reply tweet to the same tweet, or
    a DM in the same conversation after the customer's message, with the same text.

    Raises ``TransientSendError`` when X cannot be read; the send is then retried later.
    """
    if reply.channel not in ("x.mention", "x.dm") or not _is_id(reply.in_reply_to):
        return None  # nothing can have been posted in answer to it
    api = XApi(account)
    try:
        if reply.channel == "x.mention":
            return _find_reply_tweet(api, reply)
        return _find_direct_message(api, reply)
    except FetchError as exc:
        raise TransientSendError(
            f"Could not check X for reply {reply.message_id} already sent: {exc}"
        ) from exc


def _find_reply_tweet(api: XApi, reply: OutboundReply) -> str | None:
    wanted = _comparable(reply.text)
    # Snowflake ids grow with time: the reply is newer than the tweet it answers.
    pages = api.brand_tweet_pages(since_id=reply.in_reply_to)
    for _, response in zip(range(FIND_SENT_PAGES), pages, strict=False):
        for tweet in _data(response):
            if _replies_to(tweet, reply.in_reply_to) and _same(tweet, wanted):
                return str(tweet["id"])
    return None


def _find_direct_message(api: XApi, reply: OutboundReply) -> str | None:
    wanted = _comparable(reply.text)
    brand = api.brand_id()
    after = int(reply.in_reply_to)
    pages = api.dm_event_pages(participant_id=reply.recipient)
    for _, response in zip(range(FIND_SENT_PAGES), pages, strict=False):
        events = _data(response)
        for event in events:
            newer = _id(event) > after
            if newer and event.get("sender_id") == brand and _same(event, wanted):
                return str(event["id"])
        if any(_id(event) <= after for event in events):
            return None  # newest first: the rest is older than the customer's message
    return None


def post_public(account: ChannelAccount, text: str) -> str:
    """Tweet ``text`` from the brand's account, in answer to no one; returns the tweet's id.

    Raises ``PermanentSendError`` for what X refuses (too long, or the same text as a tweet
    the brand already posted) and ``TransientSendError`` when X is unavailable, slow or
    rate-limiting.
    """
    validate_reply_text(text, channel="x.post")
    api = XApi(account)
    with _sending("tweet"):
        answer = api.client.create_tweet(text=text, user_auth=api.user_auth)
    data = answer.get("data") if isinstance(answer, dict) else None
    value = data.get("id") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise TransientSendError("X accepted the tweet without giving its id.")
    return value


def find_public(account: ChannelAccount, text: str) -> str | None:
    """The id of a tweet of the brand's with this text answering no one, among its latest
    100, or None. Raises ``TransientSendError`` when X cannot be read."""
    api = XApi(account)
    wanted = _comparable(text)
    try:
        answer = api.client.get_users_tweets(
            api.brand_id(), max_results=100, tweet_fields=TWEET_FIELDS, user_auth=api.user_auth
        )
    except (tweepy.TweepyException, requests.RequestException, FetchError) as exc:
        raise TransientSendError(f"Could not check X for the tweet already posted: {exc}") from exc
    for tweet in _data(answer if isinstance(answer, dict) else {}):
        if not tweet.get("referenced_tweets") and _same(tweet, wanted):
            return str(tweet["id"])
    return None


@contextmanager
def _sending(what: str) -> Iterator[None]:
    try:
        yield
    except tweepy.TooManyRequests as exc:
        retry_at = reset_time(exc.reset_time)
        raise SendRateLimited(
            f"X rate-limited the {what} until {retry_at:%H:%M:%S %Z}.", retry_at=retry_at
        ) from exc
    except tweepy.TwitterServerError as exc:
        raise TransientSendError(f"X could not take the {what} now: {exc}") from exc
    except tweepy.HTTPException as exc:
        messages = "; ".join(exc.api_messages) or str(exc)
        raise PermanentSendError(f"X refused the {what}: {messages}") from exc
    except requests.RequestException as exc:
        # A timeout may come after X posted it; the retry asks find_sent first.
        raise TransientSendError(f"Sending the {what} to X failed: {exc}") from exc


def _created_id(answer: Any, key: str, reply: OutboundReply) -> str:
    data = answer.get("data") if isinstance(answer, dict) else None
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        # X accepted the post but did not say its id; find_sent will find it on a retry.
        raise TransientSendError(f"X accepted reply {reply.message_id} without giving its id.")
    return value


def _data(response: dict[str, Any]) -> list[dict[str, Any]]:
    data = response.get("data") or []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _replies_to(tweet: dict[str, Any], tweet_id: str) -> bool:
    return any(
        isinstance(ref, dict) and ref.get("type") == "replied_to" and ref.get("id") == tweet_id
        for ref in tweet.get("referenced_tweets") or ()
    )


def _same(item: dict[str, Any], wanted: str) -> bool:
    text = item.get("text")
    return isinstance(text, str) and _comparable(text) == wanted


def _comparable(text: str) -> str:
    # X escapes &, < and > in tweets and swaps each link for a t.co link: compare what is left.
    text = unicodedata.normalize("NFC", html.unescape(text))
    for start, end in reversed(url_spans(text)):
        text = f"{text[:start]}\x00{text[end:]}"
    return re.sub(r"\s+", " ", text).strip()


def _id(item: dict[str, Any]) -> int:
    value = item.get("id")
    return int(value) if isinstance(value, str) and _is_id(value) else 0


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit()
