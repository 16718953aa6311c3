"""The X API v2 as far as CareInbox's X client uses it, answering from the sample traffic.

Customer events become tweets (``x.mention``) and DM events (``x.dm``) whose ids are snowflakes
made from their time, so ids grow with time as on X. What the brand posts is recorded in the
outbox and shows up in later reads: reply tweets in its tweets timeline, DMs in its DM events.
Answers follow X's shapes: only the fields asked for, ``includes`` for expansions, ``meta``
with opaque pagination tokens, and X's problem documents for errors.
"""

import html
import math
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from channels.x.length import MAX_DM_LENGTH, MAX_TWEET_LENGTH, weighted_length
from demo.sandbox.routes import RATE_LIMITED, Request, Response, json_response, route
from demo.sandbox.state import SandboxEvent, SandboxState

# The sample brand's account, as GET /2/users/me describes it.
BRAND: dict[str, Any] = {
    "id": "1590374211871531008",
    "username": "acme_care",
    "name": "Acme Home",
    "followers": 18250,
}

TWITTER_EPOCH_MS = 1288834974657  # the zero of X's snowflake ids
DEFAULT_AVATAR = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
REQUESTS_PER_WINDOW = 900
WINDOW_SECONDS = 15 * 60
INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"


def snowflake(at: datetime, salt: str) -> str:
    """An X-style id for something that happened at ``at``: later means larger."""
    millis = int(at.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) | (zlib.crc32(salt.encode()) & 0x3FFFFF))


@dataclass
class World:
    """What X holds at the moment of a request: tweets and DM events by id, and users."""

    tweets: dict[str, dict[str, Any]]
    dm_events: dict[str, dict[str, Any]]
    users: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, state: SandboxState) -> "World":
        world = cls(tweets={}, dm_events={}, users={BRAND["id"]: BRAND})
        for event in state.visible_events("x"):
            author = event.data["author"]
            user_id = str(author["id"])
            world.users[user_id] = {
                "id": user_id,
                "username": author.get("handle") or f"user{user_id}",
                "name": author.get("name") or "",
                "followers": author.get("followers") or 0,
            }
            if event.channel == "x.mention":
                tweet = _mention(state, event)
                world.tweets[tweet["id"]] = tweet
            elif event.channel == "x.dm":
                dm = _dm_event(event.data["text"], user_id, user_id, event.at, _event_id(event))
                world.dm_events[dm["id"]] = dm
        for sent in state.sent("x"):
            store = world.tweets if sent.kind == "x.tweet" else world.dm_events
            store[sent.payload["id"]] = sent.payload
        return world


class _Invalid(Exception):
    """A request parameter X would reject with 400 Invalid Request."""

    def __init__(self, parameter: str, value: Any, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


def _x_route(method: str, pattern: str) -> Callable[[Callable[..., Response]], Callable]:
    """A route of the X API: it needs credentials, and a bad parameter answers 400."""

    def register(handler: Callable[..., Response]) -> Callable:
        def serve(request: Request) -> Response:
            if not request.headers.get("Authorization"):
                return _problem(401, "Unauthorized", "Unauthorized")
            try:
                return handler(request, **request.params)
            except _Invalid as exc:
                return _answer(
                    {
                        "errors": [
                            {"parameters": {exc.parameter: [str(exc.value)]}, "message": str(exc)}
                        ],
                        "title": "Invalid Request",
                        "detail": "One or more parameters to your request was invalid.",
                        "type": INVALID_REQUEST,
                    },
                    400,
                )

        route(method, pattern, platform="x")(serve)
        return handler

    return register


@_x_route("GET", "/2/users/me")
def users_me(request: Request) -> Response:
    return _answer({"data": _user(BRAND, _fields(request, "user.fields"))})


@_x_route("GET", r"/2/users/(?P<user_id>[0-9]+)/mentions")
def users_mentions(request: Request, user_id: str) -> Response:
    world = World.of(request.state)
    user = world.users.get(user_id)
    if user is None:
        return _answer({"meta": {"result_count": 0}})
    mention = re.compile(rf"@{re.escape(user['username'])}(?![A-Za-z0-9_])", re.IGNORECASE)
    tweets = [
        t for t in world.tweets.values() if t["author_id"] != user_id and mention.search(t["text"])
    ]
    return _tweet_page(request, world, tweets)


@_x_route("GET", r"/2/users/(?P<user_id>[0-9]+)/tweets")
def users_tweets(request: Request, user_id: str) -> Response:
    world = World.of(request.state)
    return _tweet_page(
        request, world, [t for t in world.tweets.values() if t["author_id"] == user_id]
    )


@_x_route("GET", "/2/dm_events")
def dm_events(request: Request) -> Response:
    world = World.of(request.state)
    return _dm_page(request, world, list(world.dm_events.values()))


@_x_route("GET", r"/2/dm_conversations/with/(?P<participant_id>[0-9]+)/dm_events")
def dm_conversation_events(request: Request, participant_id: str) -> Response:
    world = World.of(request.state)
    conversation = _conversation_id(participant_id)
    events = [e for e in world.dm_events.values() if e["dm_conversation_id"] == conversation]
    return _dm_page(request, world, events)


@_x_route("POST", "/2/tweets")
def create_tweet(request: Request) -> Response:
    body = _body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _Invalid("text", text, "A Tweet needs text.")
    reply = body.get("reply") or {}
    parent_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    state = request.state
    with state.lock:
        world = World.of(state)
        parent = world.tweets.get(str(parent_id)) if parent_id else None
        if parent_id and parent is None:
            return _problem(
                403,
                "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            )
        if weighted_length(text) > MAX_TWEET_LENGTH:
            return _problem(403, "Forbidden", "Your Tweet text is too long.")
        mine = [t for t in world.tweets.values() if t["author_id"] == BRAND["id"]]
        if any(t["text"] == text for t in mine):
            return _problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        at = _brand_clock(state, world)
        tweet_id = snowflake(at, f"brand-tweet-{len(mine)}")
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "author_id": BRAND["id"],
            "created_at": _time(at),
            "conversation_id": parent["conversation_id"] if parent else tweet_id,
            "edit_history_tweet_ids": [tweet_id],
        }
        if parent:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
            tweet["in_reply_to_user_id"] = parent["author_id"]
        state.record(platform="x", kind="x.tweet", payload=tweet)
    return _answer(
        {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}, 201
    )


@_x_route("POST", r"/2/dm_conversations/with/(?P<participant_id>[0-9]+)/messages")
def create_dm(request: Request, participant_id: str) -> Response:
    text = _body(request).get("text")
    if not isinstance(text, str) or not text.strip():
        raise _Invalid("text", text, "A direct message needs text or an attachment.")
    if len(text) > MAX_DM_LENGTH:
        raise _Invalid("text", text[:20], f"Text must be at most {MAX_DM_LENGTH} characters.")
    state = request.state
    with state.lock:
        world = World.of(state)
        if participant_id not in world.users or participant_id == BRAND["id"]:
            return _problem(403, "Forbidden", "You cannot send messages to this user.")
        at = _brand_clock(state, world)
        event_id = snowflake(at, f"brand-dm-{len(world.dm_events)}")
        event = _dm_event(text, BRAND["id"], participant_id, at, event_id)
        state.record(platform="x", kind="x.dm", payload=event)
    data = {"dm_conversation_id": event["dm_conversation_id"], "dm_event_id": event["id"]}
    return _answer({"data": data}, 201)


def _rate_limited(request: Request, seconds: float) -> Response:
    reset = math.ceil(time.time() + seconds)
    return json_response(
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        429,
        headers={
            "x-rate-limit-limit": str(REQUESTS_PER_WINDOW),
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )


RATE_LIMITED["x"] = _rate_limited


def _mention(state: SandboxState, event: SandboxEvent) -> dict[str, Any]:
    tweet_id = _event_id(event)
    tweet: dict[str, Any] = {
        "id": tweet_id,
        "text": event.data["text"],
        "author_id": str(event.data["author"]["id"]),
        "created_at": _time(event.at),
        "conversation_id": tweet_id,
        "edit_history_tweet_ids": [tweet_id],
    }
    parent = state.event(event.data["reply_to"]) if event.data.get("reply_to") else None
    if parent is not None and parent.channel == "x.mention":
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": _event_id(parent)}]
        tweet["in_reply_to_user_id"] = str(parent.data["author"]["id"])
        tweet["conversation_id"] = _event_id(_root(state, parent))
    return tweet


def _root(state: SandboxState, event: SandboxEvent) -> SandboxEvent:
    seen = {event.id}
    while (parent_id := event.data.get("reply_to")) and parent_id not in seen:
        parent = state.event(parent_id)
        if parent is None or parent.channel != "x.mention":
            break
        seen.add(parent_id)
        event = parent
    return event


def _dm_event(
    text: str, sender_id: str, customer_id: str, at: datetime, event_id: str
) -> dict[str, Any]:
    return {
        "id": event_id,
        "event_type": "MessageCreate",
        "text": text,
        "sender_id": sender_id,
        "dm_conversation_id": _conversation_id(customer_id),
        "created_at": _time(at),
    }


def _conversation_id(participant_id: str) -> str:
    # A one-to-one conversation is named by both user ids, the smaller first.
    return "-".join(sorted((participant_id, BRAND["id"]), key=int))


def _event_id(event: SandboxEvent) -> str:
    return snowflake(event.at, event.id)


def _brand_clock(state: SandboxState, world: World) -> datetime:
    """When the brand posts: after everything it has seen and sent, on the replay clock."""
    times = [datetime.fromisoformat(t["created_at"]) for t in world.tweets.values()]
    times += [datetime.fromisoformat(e["created_at"]) for e in world.dm_events.values()]
    after = max(times, default=datetime.now(UTC)) + timedelta(milliseconds=1)
    # Replaying at a speed, events still to come must stay newer than the brand's posts.
    return after if state.speed > 0 else max(after, datetime.now(UTC))


def _tweet_page(request: Request, world: World, tweets: list[dict[str, Any]]) -> Response:
    page, meta = _paged(request, tweets, low=5, high=100, default=10, ids_in_meta=True)
    tweet_fields = _fields(request, "tweet.fields")
    user_fields = _fields(request, "user.fields")
    expansions = _fields(request, "expansions")
    user_ids = []
    if "author_id" in expansions:
        user_ids += [t["author_id"] for t in page]
    if "in_reply_to_user_id" in expansions:
        user_ids += [t["in_reply_to_user_id"] for t in page if "in_reply_to_user_id" in t]
    referenced = []
    if "referenced_tweets.id" in expansions:
        referenced = [r["id"] for t in page for r in t.get("referenced_tweets", ())]
    includes = {
        "users": [
            _user(world.users[i], user_fields) for i in dict.fromkeys(user_ids) if i in world.users
        ],
        "tweets": [
            _tweet(world.tweets[i], tweet_fields)
            for i in dict.fromkeys(referenced)
            if i in world.tweets
        ],
    }
    return _answer(_listing([_tweet(t, tweet_fields) for t in page], includes, meta))


def _dm_page(request: Request, world: World, events: list[dict[str, Any]]) -> Response:
    kinds = _fields(request, "event_types") or {"MessageCreate"}
    events = [e for e in events if e["event_type"] in kinds]
    page, meta = _paged(request, events, low=1, high=100, default=100, ids_in_meta=False)
    fields = _fields(request, "dm_event.fields")
    senders = (
        [e["sender_id"] for e in page] if "sender_id" in _fields(request, "expansions") else []
    )
    user_fields = _fields(request, "user.fields")
    includes = {"users": [_user(world.users[i], user_fields) for i in dict.fromkeys(senders)]}
    return _answer(_listing([_dm(e, fields) for e in page], includes, meta))


def _paged(
    request: Request,
    items: list[dict[str, Any]],
    *,
    low: int,
    high: int,
    default: int,
    ids_in_meta: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A page of ``items``, newest first, after ``since_id`` and before the pagination token."""
    max_results = _number(request, "max_results", default)
    if not low <= max_results <= high:
        raise _Invalid(
            "max_results",
            max_results,
            f"The `max_results` query parameter value [{max_results}] is not between {low} "
            f"and {high}",
        )
    since = _number(request, "since_id", 0)
    until = _number(request, "until_id", 0)
    token = request.arg("pagination_token")
    below = _token_id(token) if token else 0
    ordered = sorted(items, key=lambda item: int(item["id"]), reverse=True)
    window = [
        item
        for item in ordered
        if int(item["id"]) > since
        and (not until or int(item["id"]) < until)
        and (not below or int(item["id"]) < below)
    ]
    size = min(max_results, request.state.page_size)
    page = window[:size]
    meta: dict[str, Any] = {}
    if page and ids_in_meta:
        meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
    if len(window) > size:
        meta["next_token"] = _token(int(page[-1]["id"]))
    if request.state.take_fault("x", {"duplicate"}):
        # As when new items shift a timeline while it is paged: an item already served (the
        # previous page's last, or this page's first) comes again.
        again = [item for item in ordered if below and int(item["id"]) == below] or page[:1]
        page = again + page
    if request.state.take_fault("x", {"out_of_order"}):
        page = page[::-1]
    return page, {"result_count": len(page), **meta}


def _listing(data: list[Any], includes: dict[str, list[Any]], meta: dict[str, Any]) -> dict:
    answer: dict[str, Any] = {"data": data} if data else {}
    includes = {key: value for key, value in includes.items() if value}
    if includes:
        answer["includes"] = includes
    answer["meta"] = meta
    return answer


def _tweet(tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    shown = {
        "id": tweet["id"],
        # X escapes &, < and > in tweet text.
        "text": html.escape(tweet["text"], quote=False),
        "edit_history_tweet_ids": tweet["edit_history_tweet_ids"],
    }
    optional = ("author_id", "created_at", "conversation_id", "in_reply_to_user_id")
    for name in (*optional, "referenced_tweets"):
        if name in fields and name in tweet:
            shown[name] = tweet[name]
    return shown


def _dm(event: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    shown = {"id": event["id"], "event_type": event["event_type"], "text": event["text"]}
    for name in ("created_at", "sender_id", "dm_conversation_id"):
        if name in fields:
            shown[name] = event[name]
    return shown


def _user(user: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": user["id"], "name": user["name"], "username": user["username"]}
    if "public_metrics" in fields:
        shown["public_metrics"] = {
            "followers_count": user["followers"],
            "following_count": 0,
            "tweet_count": 0,
            "listed_count": 0,
            "like_count": 0,
        }
    if "profile_image_url" in fields:
        shown["profile_image_url"] = DEFAULT_AVATAR
    return shown


def _answer(data: dict[str, Any], status: int = 200) -> Response:
    return json_response(
        data,
        status,
        headers={
            "x-rate-limit-limit": str(REQUESTS_PER_WINDOW),
            "x-rate-limit-remaining": str(REQUESTS_PER_WINDOW - 1),
            "x-rate-limit-reset": str(int(time.time()) + WINDOW_SECONDS),
        },
    )


def _problem(status: int, title: str, detail: str) -> Response:
    return _answer(
        {"title": title, "detail": detail, "type": "about:blank", "status": status}, status
    )


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise _Invalid("body", "", "The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise _Invalid("body", "", "The request body is not a JSON object.")
    return body


def _fields(request: Request, name: str) -> set[str]:
    return {part for part in (request.arg(name) or "").split(",") if part}


def _number(request: Request, name: str, default: int) -> int:
    value = request.arg(name)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit():
        raise _Invalid(name, value, f"The `{name}` query parameter value [{value}] is not valid")
    return int(value)


_TOKEN_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _token(item_id: int) -> str:
    # Opaque to clients, as X's are: the id of the last item served, in base 36.
    digits = ""
    while item_id:
        item_id, rest = divmod(item_id, 36)
        digits = _TOKEN_DIGITS[rest] + digits
    return digits or "0"


def _token_id(token: str) -> int:
    try:
        return int(token, 36)
    except ValueError:
        raise _Invalid(
            "pagination_token",
            token,
            f"The `pagination_token` query parameter value [{token}] is not valid",
        ) from None


def _time(at: datetime) -> str:
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
