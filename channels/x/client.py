"""The X API v2 through tweepy: an account's client, and polling its mentions and DMs.

Each payload the poller yields is one tweet or DM event with the users and tweets it refers to,
in the shape X gives a single object (``{"data": ..., "includes": {...}}``), so the normaliser
reads it alone and a webhook delivery can be given the same shape.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1

from channels.errors import FetchError, RateLimited
from channels.models import ChannelAccount
from channels.plug import FetchedPage, dump_payload

DEFAULT_API_BASE = "https://api.x.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
PAGE_SIZE = 100
# When X rate-limits without saying until when; its windows are 15 minutes.
RATE_LIMIT_FALLBACK = timedelta(minutes=15)

MENTIONS_CURSOR = "mentions_since_id"
DMS_CURSOR = "dm_events_newest_id"

TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "referenced_tweets",
    "in_reply_to_user_id",
    "author_id",
]
USER_FIELDS = ["public_metrics", "profile_image_url", "username", "name"]
TWEET_EXPANSIONS = ["author_id", "referenced_tweets.id", "in_reply_to_user_id"]
DM_EVENT_FIELDS = [
    "created_at",
    "sender_id",
    "dm_conversation_id",
    "participant_ids",
    "text",
    "attachments",
]


class _ApiBaseAdapter(HTTPAdapter):
    """Sends tweepy's requests to the account's API base instead of the host tweepy names.

    tweepy's ``Client`` builds every URL on its own fixed host; this transport is the one seam
    that points it elsewhere (the sandbox, a proxy), while tweepy's request building, paging
    and parsing run unchanged. It also applies the account's request timeout, which tweepy
    does not set.
    """

    def __init__(self, api_base: str, timeout: float, oauth1: OAuth1 | None) -> None:
        super().__init__()
        self._base = urlsplit(api_base.rstrip("/"))
        self._timeout = timeout
        self._oauth1 = oauth1

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")
        request.url = urlunsplit(
            (self._base.scheme, self._base.netloc, self._base.path + url.path, url.query, "")
        )
        if self._oauth1 is not None:
            # An OAuth 1.0a signature covers the URL, so sign again for the host it goes to.
            request = self._oauth1(request)
        kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class XApi:
    """A tweepy ``Client`` for one account, answering dicts, and the brand it acts as."""

    def __init__(self, account: ChannelAccount) -> None:
        settings = account.settings or {}
        credentials = account.credentials or {}
        self.account = account
        # OAuth 1.0a user context when its four keys are given, else an OAuth 2.0 bearer token.
        oauth1_keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        self.user_auth = all(credentials.get(key) for key in oauth1_keys)
        self.client = tweepy.Client(
            bearer_token=credentials.get("bearer_token"),
            **{key: credentials.get(key) for key in oauth1_keys},
            return_type=dict,
        )
        oauth1 = OAuth1(*(credentials[key] for key in oauth1_keys)) if self.user_auth else None
        adapter = _ApiBaseAdapter(
            settings.get("api_base") or DEFAULT_API_BASE,
            float(settings.get("timeout") or DEFAULT_TIMEOUT_SECONDS),
            oauth1,
        )
        self.client.session.mount("https://", adapter)
        self.client.session.mount("http://", adapter)
        self._brand_id = str(settings.get("user_id") or "")

    def brand_id(self) -> str:
        """The brand's X user id: the ``user_id`` setting, else asked of ``GET /2/users/me``."""
        if not self._brand_id:
            with _reading(self.account, "GET /2/users/me"):
                me = self.client.get_me(user_auth=self.user_auth)
            user_id = _object(me.get("data"), "GET /2/users/me").get("id")
            if not isinstance(user_id, str) or not user_id:
                raise FetchError(f"X did not say which user {self.account} is.")
            self._brand_id = user_id
        return self._brand_id

    def mention_pages(self, *, since_id: str | None) -> Iterator[dict[str, Any]]:
        """The brand's mentions after ``since_id``, newest first, a response per page."""
        pages = tweepy.Paginator(
            self.client.get_users_mentions,
            self.brand_id(),
            since_id=since_id,
            max_results=PAGE_SIZE,
            expansions=TWEET_EXPANSIONS,
            tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS,
            user_auth=self.user_auth,
        )
        return self._pages(pages, "GET /2/users/:id/mentions")

    def brand_tweet_pages(self, *, since_id: str) -> Iterator[dict[str, Any]]:
        """The brand's own tweets after ``since_id``, newest first, a response per page."""
        pages = tweepy.Paginator(
            self.client.get_users_tweets,
            self.brand_id(),
            since_id=since_id,
            max_results=PAGE_SIZE,
            tweet_fields=TWEET_FIELDS,
            user_auth=self.user_auth,
        )
        return self._pages(pages, "GET /2/users/:id/tweets")

    def dm_event_pages(self, *, participant_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Direct message events, newest first, a response per page: all of the brand's, or
        those of its one-to-one conversation with ``participant_id``."""
        pages = tweepy.Paginator(
            self.client.get_direct_message_events,
            participant_id=participant_id,
            dm_event_fields=DM_EVENT_FIELDS,
            event_types="MessageCreate",
            expansions=["sender_id"],
            user_fields=USER_FIELDS,
            max_results=PAGE_SIZE,
            user_auth=self.user_auth,
        )
        if participant_id:
            return self._pages(pages, "GET /2/dm_conversations/with/:id/dm_events")
        return self._pages(pages, "GET /2/dm_events")

    def _pages(self, pages: Iterable[Any], what: str) -> Iterator[dict[str, Any]]:
        iterator = iter(pages)
        while True:
            with _reading(self.account, what):
                try:
                    response = next(iterator)
                except StopIteration:
                    return
            yield _object(response, f"the answer to {what}")


@contextmanager
def _reading(account: ChannelAccount, what: str) -> Iterator[None]:
    """Turn what can go wrong talking to X into ``RateLimited`` or ``FetchError``."""
    try:
        yield
    except tweepy.TooManyRequests as exc:
        raise RateLimited(
            f"X rate-limited {what} for {account}.", retry_at=reset_time(exc.reset_time)
        ) from exc
    except tweepy.HTTPException as exc:
        raise FetchError(f"X refused {what} for {account}: {_describe(exc)}") from exc
    except requests.RequestException as exc:
        # Timeouts, refused connections and answers that are not JSON.
        raise FetchError(f"Could not read {what} from X for {account}: {exc}") from exc


def probe(account: ChannelAccount) -> str:
    """Who the credentials sign in as, and how many recent mentions they can read."""
    api = XApi(account)
    with _reading(account, "GET /2/users/me"):
        me = _object(api.client.get_me(user_auth=api.user_auth).get("data"), "GET /2/users/me")
    first = next(api.mention_pages(since_id=None), {})
    mentions = len(first.get("data") or [])
    return (
        f"Signed in to X as @{me.get('username')} (user id {me.get('id')}); "
        f"{mentions} recent mention{'s' * (mentions != 1)} readable."
    )


def poll(account: ChannelAccount) -> Iterator[FetchedPage]:
    """Yield pages of new mentions, then of new DM events, from the account's cursors on.

    Both come newest first, so only the last page of each carries its advanced cursor: a poll
    cut short reads the same items again. The brand's own tweets and DMs and retweets are
    skipped. Raises ``FetchError`` or ``RateLimited``.
    """
    api = XApi(account)
    brand = api.brand_id()
    cursors = dict(account.poll_cursors or {})
    yield from _mention_pages(api, brand, cursors)
    yield from _dm_pages(api, brand, cursors)


def _mention_pages(api: XApi, brand: str, cursors: dict[str, str]) -> Iterator[FetchedPage]:
    since_id = cursors.get(MENTIONS_CURSOR)
    newest = int(since_id) if since_id else 0
    for response in api.mention_pages(since_id=since_id):
        tweets = _items(response, "mentions")
        includes = _includes(response)
        newest = max([newest, *(_snowflake(t, "tweet") for t in tweets)])
        payloads = [
            tweet_payload(tweet, includes)
            for tweet in tweets
            if tweet.get("author_id") != brand and not _is_retweet(tweet)
        ]
        if not _next_token(response) and newest:
            cursors[MENTIONS_CURSOR] = str(newest)
        yield FetchedPage(payloads=payloads, cursors=dict(cursors))


def _dm_pages(api: XApi, brand: str, cursors: dict[str, str]) -> Iterator[FetchedPage]:
    # GET /2/dm_events has no since_id: read back until an event already seen.
    seen = int(cursors.get(DMS_CURSOR) or 0)
    newest = seen
    for response in api.dm_event_pages():
        events = _items(response, "DM events")
        includes = _includes(response)
        fresh = [e for e in events if _snowflake(e, "DM event") > seen]
        newest = max([newest, *(_snowflake(e, "DM event") for e in fresh)])
        payloads = [dm_event_payload(e, includes) for e in fresh if e.get("sender_id") != brand]
        caught_up = len(fresh) < len(events) or not _next_token(response)
        if caught_up and newest:
            cursors[DMS_CURSOR] = str(newest)
        yield FetchedPage(payloads=payloads, cursors=dict(cursors))
        if caught_up:
            return


def tweet_payload(tweet: dict[str, Any], includes: dict[str, Any]) -> bytes:
    """One tweet of a timeline page with its author, the user it replies to and the tweets it
    references, taken from the page's ``includes``."""
    user_ids = {tweet.get("author_id"), tweet.get("in_reply_to_user_id")}
    tweet_ids = {
        ref.get("id") for ref in tweet.get("referenced_tweets") or () if isinstance(ref, dict)
    }
    return _payload(
        tweet,
        users=[
            u
            for u in includes.get("users") or ()
            if isinstance(u, dict) and u.get("id") in user_ids
        ],
        tweets=[
            t
            for t in includes.get("tweets") or ()
            if isinstance(t, dict) and t.get("id") in tweet_ids
        ],
    )


def dm_event_payload(event: dict[str, Any], includes: dict[str, Any]) -> bytes:
    """One DM event of a page with its sender, taken from the page's ``includes``."""
    sender = event.get("sender_id")
    users = [
        u for u in includes.get("users") or () if isinstance(u, dict) and u.get("id") == sender
    ]
    return _payload(event, users=users, tweets=[])


def _payload(item: dict[str, Any], *, users: list[Any], tweets: list[Any]) -> bytes:
    includes = {key: value for key, value in (("users", users), ("tweets", tweets)) if value}
    body = {"data": item, "includes": includes} if includes else {"data": item}
    return dump_payload(body)


def _items(response: dict[str, Any], what: str) -> list[dict[str, Any]]:
    data = response.get("data") or []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise FetchError(f"X answered a page of {what} whose data is not a list of objects.")
    return data


def _includes(response: dict[str, Any]) -> dict[str, Any]:
    includes = response.get("includes") or {}
    return includes if isinstance(includes, dict) else {}


def _next_token(response: dict[str, Any]) -> str | None:
    meta = response.get("meta")
    return meta.get("next_token") if isinstance(meta, dict) else None


def _snowflake(item: dict[str, Any], what: str) -> int:
    value = item.get("id")
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise FetchError(f"X answered a {what} whose id {value!r} is not a numeric string.")
    return int(value)


def _is_retweet(tweet: dict[str, Any]) -> bool:
    references = tweet.get("referenced_tweets") or ()
    return any(isinstance(ref, dict) and ref.get("type") == "retweeted" for ref in references)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FetchError(f"X answered something other than a JSON object for {what}.")
    return value


def reset_time(reset: int | None) -> datetime:
    """When X's rate limit lifts, from its ``x-rate-limit-reset`` (epoch seconds)."""
    if reset is None:
        return datetime.now(UTC) + RATE_LIMIT_FALLBACK
    return datetime.fromtimestamp(reset, UTC)


def _describe(exc: tweepy.HTTPException) -> str:
    return "; ".join(exc.api_messages) or str(exc)
