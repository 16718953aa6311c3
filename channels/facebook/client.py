"""Polling a Facebook page through the Graph API: visitor posts and the comments under every
post on the page's feed, and its Messenger conversations.

Cursors: ``feed_since`` and ``messages_since`` hold the creation time (ISO 8601, Facebook's
clock) of the newest customer item read from each. Graph lists newest first, so only the last
page of a stream carries its advanced cursor; a poll that dies half-way starts again from the
old one, and ingest stores what it reads twice only once. Each poll reads again ``OVERLAP``
before a cursor, for items that reach Graph's listings late.

Comments arrive under old posts, so the feed is read back ``POST_LOOKBACK`` before the cursor;
a comment under an older post is not polled. Conversations, which have no time filter, are
read most recently updated first until one was last updated before the cursor. Without a
cursor, a poll reads the whole feed and every conversation.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import facebook

from channels.errors import FetchError
from channels.facebook.graph import GRAPH_BASE, GRAPH_VERSION, TIMEOUT_SECONDS, Graph, graph_time
from channels.models import ChannelAccount
from channels.plug import FetchedPage, dump_payload

OVERLAP = timedelta(minutes=10)
POST_LOOKBACK = timedelta(days=28)
PAGE_LIMIT = 50

COMMENT_FIELDS = "id,message,created_time,from,parent,attachment"
# ``filter(stream)`` lists replies to comments too, each naming its ``parent``; newest first,
# so a post's new comments come on the first page.
FEED_FIELDS = (
    "id,message,created_time,updated_time,from,"
    f"comments.filter(stream).order(reverse_chronological).limit({PAGE_LIMIT}){{{COMMENT_FIELDS}}}"
)
MESSAGE_FIELDS = "id,message,created_time,from,to,attachments"
CONVERSATION_FIELDS = (
    f"id,participants,updated_time,messages.limit({PAGE_LIMIT}){{{MESSAGE_FIELDS}}}"
)


@dataclass(frozen=True)
class Page:
    """A connected Facebook page and a Graph client holding its page access token."""

    id: str
    graph: Graph


def connect(account: ChannelAccount) -> Page:
    """The account's page. Raises ``ValueError`` naming the missing or bad setting."""
    settings, credentials = account.settings or {}, account.credentials or {}
    page_id = str(settings.get("page_id") or "").strip()
    token = str(credentials.get("page_access_token") or "").strip()
    if not page_id or not token:
        missing = "the page_id setting" if not page_id else "a page_access_token credential"
        raise ValueError(f"Facebook account {account.name!r} has no {missing}; reconnect it.")
    try:
        timeout = float(settings.get("timeout") or TIMEOUT_SECONDS)
    except (TypeError, ValueError):
        raise ValueError(
            f"Facebook account {account.name!r}: timeout {settings.get('timeout')!r} is not "
            "a number of seconds."
        ) from None
    graph = Graph(
        access_token=token,
        base_url=str(settings.get("graph_base") or GRAPH_BASE),
        version=str(settings.get("graph_version") or GRAPH_VERSION),
        timeout=timeout,
    )
    return Page(id=page_id, graph=graph)


def probe(account: ChannelAccount) -> str:
    """The page the token opens, and how many posts of its feed it can read."""
    try:
        page = connect(account)
        found = page.graph.get_object(page.id, fields="id,name")
        feed = _listing(page.graph.get_connections(page.id, "feed", limit=25), "feed")
    except ValueError as exc:
        raise FetchError(str(exc)) from None
    except facebook.GraphAPIError as exc:
        raise FetchError(f"Graph refused reading page {page.id}: {exc}") from exc
    posts = len(_items(feed))
    return (
        f"Connected to the Facebook page {found.get('name')!r} (id {found.get('id')}); "
        f"{posts} recent post{'s' * (posts != 1)} on its feed readable."
    )


def poll(account: ChannelAccount) -> Iterator[FetchedPage]:
    """Pages of new visitor posts, comments and Messenger messages, the page's own left out.

    Raises ``RateLimited`` or ``FetchError``, also when Graph refuses (e.g. an expired token).
    """
    try:
        page = connect(account)
    except ValueError as exc:
        raise FetchError(str(exc)) from None
    cursors = account.poll_cursors or {}
    streams = (("feed_since", _feed_pages), ("messages_since", _conversation_pages))
    for key, read in streams:
        since = _cursor_time(cursors.get(key))
        newest = since
        try:
            for payloads, page_newest, last in read(page, since):
                newest = max(filter(None, (newest, page_newest)), default=None)
                advanced = {key: newest.isoformat()} if last and newest and newest != since else {}
                yield FetchedPage(payloads=payloads, cursors=advanced)
        except facebook.GraphAPIError as exc:
            raise FetchError(f"Graph refused reading page {page.id}: {exc}") from exc


# One page of a stream: its payloads, the newest customer item's time, whether it is the last.
StreamPage = tuple[list[bytes], datetime | None, bool]


def _feed_pages(page: Page, since: datetime | None) -> Iterator[StreamPage]:
    threshold = since - OVERLAP if since else None
    args: dict[str, Any] = {"fields": FEED_FIELDS, "limit": PAGE_LIMIT}
    if since:
        args["since"] = int((since - POST_LOOKBACK).timestamp())
    seen: set[str] = set()
    for listing, last in _listings(page.graph, page.id, "feed", args):
        payloads: list[bytes] = []
        newest: datetime | None = None
        for post in _items(listing):
            if _is_customers(post, page.id) and _is_new(post, threshold, seen):
                payloads.append(post_payload(post, page.id))
                newest = _later(newest, post)
            if threshold and _time_of(post, "updated_time", threshold) < threshold:
                continue  # no comment since the cursor
            comments = post.get("comments")
            if not isinstance(comments, dict):
                continue
            comment_args = {
                "fields": COMMENT_FIELDS,
                "filter": "stream",
                "order": "reverse_chronological",
                "limit": PAGE_LIMIT,
            }
            for comment_listing in _nested(page.graph, post, "comments", comments, comment_args):
                for comment in _items(comment_listing):
                    if _is_customers(comment, page.id) and _is_new(comment, threshold, seen):
                        payloads.append(comment_payload(comment, post, page.id))
                        newest = _later(newest, comment)
                if _reached(comment_listing, threshold):
                    break
        yield payloads, newest, last


def _conversation_pages(page: Page, since: datetime | None) -> Iterator[StreamPage]:
    threshold = since - OVERLAP if since else None
    args = {"platform": "messenger", "fields": CONVERSATION_FIELDS, "limit": PAGE_LIMIT}
    seen: set[str] = set()
    for listing, last in _listings(page.graph, page.id, "conversations", args):
        payloads: list[bytes] = []
        newest: datetime | None = None
        for conversation in _items(listing):
            if threshold and _time_of(conversation, "updated_time", threshold) < threshold:
                continue
            messages = conversation.get("messages")
            if not isinstance(messages, dict):
                continue
            message_args = {"fields": MESSAGE_FIELDS, "limit": PAGE_LIMIT}
            for message_listing in _nested(
                page.graph, conversation, "messages", messages, message_args
            ):
                for message in _items(message_listing):
                    if _is_customers(message, page.id) and _is_new(message, threshold, seen):
                        payloads.append(message_payload(message, conversation, page.id))
                        newest = _later(newest, message)
                if _reached(message_listing, threshold):
                    break
        # Conversations come most recently updated first: past the cursor, the rest are older.
        done = last or _reached(listing, threshold, field="updated_time")
        yield payloads, newest, done
        if done:
            return


def _listings(
    graph: Graph, node: str, edge: str, args: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], bool]]:
    """Each page of ``node/edge`` with whether it is the last, following ``paging.next``."""
    followed: set[str] = set()
    while True:
        listing = _listing(graph.get_connections(node, edge, **args), f"{node}/{edge}")
        following = _next_args(listing, args, followed)
        yield listing, following is None
        if following is None:
            return
        args = following


def _nested(
    graph: Graph, parent: dict[str, Any], edge: str, first: dict[str, Any], args: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """A nested edge's first page (already in ``parent``), then its further pages."""
    listing: dict[str, Any] | None = first
    followed: set[str] = set()
    while listing is not None:
        yield listing
        following = _next_args(listing, args, followed)
        if following is None or not isinstance(parent.get("id"), str):
            return
        node = parent["id"]
        listing = _listing(graph.get_connections(node, edge, **following), f"{node}/{edge}")


def _listing(answer: Any, what: str) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get("data", []), list):
        raise FetchError(f"The Graph API answered {what} with no list of data.")
    return answer


def _next_args(
    listing: dict[str, Any], args: dict[str, Any], followed: set[str]
) -> dict[str, Any] | None:
    """The query of ``paging.next`` (cursor or time paging alike), or None on the last page."""
    paging = listing.get("paging")
    following = paging.get("next") if isinstance(paging, dict) else None
    if not isinstance(following, str) or not listing.get("data") or following in followed:
        return None
    followed.add(following)
    query = dict(parse_qsl(urlsplit(following).query, keep_blank_values=True))
    query.pop("access_token", None)
    return {**args, **query}


def _reached(listing: dict[str, Any], threshold: datetime | None, field: str = "") -> bool:
    """Whether a newest-first page reaches back before ``threshold``: then later pages hold
    nothing newer. The oldest item decides, so a page served out of order changes nothing."""
    if threshold is None:
        return False
    times = [_time_of(item, field or "created_time", threshold) for item in _items(listing)]
    return bool(times) and min(times) < threshold


def _items(listing: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in listing.get("data") or [] if isinstance(item, dict)]


def _is_customers(item: dict[str, Any], page_id: str) -> bool:
    author = item.get("from")
    return not (isinstance(author, dict) and str(author.get("id")) == page_id)


def _is_new(item: dict[str, Any], threshold: datetime | None, seen: set[str]) -> bool:
    """Not yet read in this poll, and created since ``threshold``. An item without a readable
    time or id is passed on: the normaliser quarantines it rather than it being lost."""
    key = item.get("id")
    if isinstance(key, str):
        if key in seen:
            return False
        seen.add(key)
    return threshold is None or _time_of(item, "created_time", threshold) >= threshold


def _time_of(item: dict[str, Any], field: str, default: datetime) -> datetime:
    try:
        return graph_time(item[field])
    except (KeyError, TypeError, ValueError):
        return default


def _later(newest: datetime | None, item: dict[str, Any]) -> datetime | None:
    try:
        at = graph_time(item["created_time"])
    except (KeyError, TypeError, ValueError):
        return newest
    return at if newest is None or at > newest else newest


def _cursor_time(value: Any) -> datetime | None:
    # A cursor that does not read as a time starts the stream again: re-reading is safe.
    try:
        return graph_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def comments_under(page: Page, object_id: str) -> Iterator[dict[str, Any]]:
    """The comments directly under a post or comment, newest first, across all pages."""
    args = {"fields": COMMENT_FIELDS, "order": "reverse_chronological", "limit": PAGE_LIMIT}
    for listing, _last in _listings(page.graph, object_id, "comments", args):
        yield from _items(listing)


def conversation_with(page: Page, psid: str) -> dict[str, Any] | None:
    """The page's Messenger conversation with the person ``psid``, or None."""
    args = {"platform": "messenger", "user_id": psid, "fields": CONVERSATION_FIELDS}
    listing = _listing(
        page.graph.get_connections(page.id, "conversations", **args), f"{page.id}/conversations"
    )
    conversations = _items(listing)
    return conversations[0] if conversations else None


def messages_in(page: Page, conversation: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A conversation's messages, newest first, across all pages."""
    first = conversation.get("messages")
    if not isinstance(first, dict):
        return
    args = {"fields": MESSAGE_FIELDS, "limit": PAGE_LIMIT}
    for listing in _nested(page.graph, conversation, "messages", first, args):
        yield from _items(listing)


def post_payload(post: dict[str, Any], page_id: str) -> bytes:
    """A visitor post from ``/{page-id}/feed`` as a page webhook ``feed`` event."""
    value = {
        "item": "post",
        "verb": "add",
        "post_id": post.get("id"),
        "from": post.get("from"),
        "message": post.get("message"),
        "created_time": post.get("created_time"),
    }
    return _feed_event(page_id, value)


def comment_payload(comment: dict[str, Any], post: dict[str, Any], page_id: str) -> bytes:
    """A comment as a page webhook ``feed`` event, with the post it sits under for context."""
    parent = comment.get("parent")
    parent_id = parent.get("id") if isinstance(parent, dict) else None
    value = {
        "item": "comment",
        "verb": "add",
        "comment_id": comment.get("id"),
        "post_id": post.get("id"),
        "parent_id": parent_id or post.get("id"),
        "from": comment.get("from"),
        "message": comment.get("message"),
        "created_time": comment.get("created_time"),
        "post": {"id": post.get("id"), "message": post.get("message"), "from": post.get("from")},
    }
    if comment.get("attachment"):
        value["attachment"] = comment["attachment"]
    return _feed_event(page_id, value)


def message_payload(message: dict[str, Any], conversation: dict[str, Any], page_id: str) -> bytes:
    """A Messenger message from a conversation as a page webhook ``messaging`` event, with
    the sender's name and the conversation id."""
    author = message["from"] if isinstance(message.get("from"), dict) else {}
    event = {
        "sender": {"id": author.get("id"), "name": author.get("name")},
        "recipient": {"id": page_id},
        "timestamp": _millis(message.get("created_time")),
        "conversation": {"id": conversation.get("id")},
        "message": {
            "mid": message.get("id"),
            "text": message.get("message"),
            "attachments": [_attachment(a) for a in _items(message.get("attachments") or {})],
        },
    }
    return _dump({"object": "page", "entry": [{"id": page_id, "messaging": [event]}]})


def _feed_event(page_id: str, value: dict[str, Any]) -> bytes:
    change = {"field": "feed", "value": value}
    return _dump({"object": "page", "entry": [{"id": page_id, "changes": [change]}]})


def _attachment(item: dict[str, Any]) -> dict[str, Any]:
    """Graph's message attachment as a webhook one (``type``, ``payload.url``) that keeps
    Graph's ``name``, ``mime_type`` and ``size``."""
    mime_type = item["mime_type"] if isinstance(item.get("mime_type"), str) else ""
    kind = mime_type.split("/")[0]
    if kind not in {"image", "video", "audio"}:
        kind = "file"
    url = item.get("file_url")
    for media in ("image_data", "video_data"):
        if isinstance(item.get(media), dict) and item[media].get("url"):
            url = item[media]["url"]
    return {
        "type": kind,
        "payload": {"url": url},
        "name": item.get("name"),
        "mime_type": mime_type or None,
        "size": item.get("size"),
    }


def _millis(value: Any) -> Any:
    # Webhooks time Messenger events in milliseconds; an unreadable time is kept as it came.
    try:
        return int(graph_time(value).timestamp() * 1000)
    except (TypeError, ValueError):
        return value


def _dump(body: dict[str, Any]) -> bytes:
    return dump_payload(body)
