"""Answering Facebook customers: a comment in the thread of their post or comment, or a
Messenger message while Messenger's windows allow one.

Messenger takes a page's reply within 24 hours of the customer's last message
(``messaging_type=RESPONSE``), and from a human agent up to 7 days after it
(``MESSAGE_TAG`` with ``tag=HUMAN_AGENT``); after that it refuses.
https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import facebook
from django.utils import timezone

from channels.errors import (
    FetchError,
    PermanentSendError,
    RateLimited,
    SendRateLimited,
    TransientSendError,
)
from channels.facebook import client
from channels.facebook.graph import graph_time
from channels.models import ChannelAccount
from channels.plug import OutboundReply

COMMENT_CHANNELS = {"facebook.post", "facebook.comment"}
RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


class WindowState(StrEnum):
    OPEN = "open"  # a standard response
    HUMAN_AGENT = "human_agent"  # only a human agent's reply, tagged HUMAN_AGENT
    CLOSED = "closed"


@dataclass(frozen=True)
class Window:
    """Whether a Messenger reply can go out now, and why, in words for the agent."""

    state: WindowState
    closes_at: datetime  # when this state ends; for CLOSED, when the last window closed
    explanation: str


def messaging_window(last_customer_message_at: datetime, now: datetime) -> Window:
    """Messenger's window for answering a customer whose last message came at the time given."""
    response_ends = last_customer_message_at + RESPONSE_WINDOW
    human_agent_ends = last_customer_message_at + HUMAN_AGENT_WINDOW
    if now < response_ends:
        return Window(
            WindowState.OPEN,
            response_ends,
            f"Messenger's 24-hour window is open for another {_span(response_ends - now)}.",
        )
    if now < human_agent_ends:
        return Window(
            WindowState.HUMAN_AGENT,
            human_agent_ends,
            f"Messenger's 24-hour window closed {_span(now - response_ends)} ago; a human "
            f"agent may still answer for another {_span(human_agent_ends - now)}.",
        )
    return Window(
        WindowState.CLOSED,
        human_agent_ends,
        f"Messenger's 7-day window for human agents closed {_span(now - human_agent_ends)} "
        "ago; answer on another channel the customer used.",
    )


def _span(duration: timedelta) -> str:
    for unit, size in (("day", timedelta(days=1)), ("hour", timedelta(hours=1))):
        if duration >= size:
            count = duration // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    minutes = duration // timedelta(minutes=1)
    if minutes < 1:
        return "less than a minute"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def send(account: ChannelAccount, reply: OutboundReply) -> str:
    """Post the reply and return its Graph id. Raises ``TransientSendError`` when Graph may
    take it later, ``PermanentSendError`` when it refuses or Messenger's window is closed
    (then nothing is sent)."""
    page = _page(account)
    with _translated(reply):
        if reply.channel in COMMENT_CHANNELS:
            thread, _answered_at = _thread_of(page, reply)
            answer = page.graph.put_object(thread, "comments", message=reply.text)
            return _answer_id(answer, "id", reply)
        if reply.channel == "facebook.message":
            conversation = _conversation(page, reply)
            window = messaging_window(
                _last_customer_message_at(page, conversation, reply), timezone.now()
            )
            if window.state is WindowState.CLOSED:
                raise PermanentSendError(window.explanation)
            fields = {
                "recipient": json.dumps({"id": reply.recipient}),
                "message": json.dumps({"text": reply.text}),
                "messaging_type": "RESPONSE",
            }
            if window.state is WindowState.HUMAN_AGENT:
                fields |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
            answer = page.graph.put_object(page.id, "messages", **fields)
            return _answer_id(answer, "message_id", reply)
    raise PermanentSendError(
        f"Reply {reply.message_id} is for channel {reply.channel!r}, not a Facebook one."
    )


def hide_comment(account: ChannelAccount, comment_id: str) -> None:
    """Hide a comment on the page: Facebook keeps it, shown only to its author and their
    friends (``POST /{comment-id}`` with ``is_hidden=true``)."""
    page = _page(account)
    try:
        answer = page.graph.request(
            f"{page.graph.version}/{comment_id}", post_args={"is_hidden": "true"}, method="POST"
        )
    except facebook.GraphAPIError as exc:
        raise PermanentSendError(f"Facebook would not hide comment {comment_id}: {exc}") from exc
    except (FetchError, RateLimited) as exc:
        raise TransientSendError(
            f"Facebook could not be reached to hide a comment: {exc}"
        ) from exc
    if not (isinstance(answer, dict) and answer.get("success")):
        raise TransientSendError(f"Facebook's answer to hiding {comment_id} was {answer!r}.")


def post_on_page(account: ChannelAccount, text: str) -> str:
    """Publish ``text`` as a post on the brand's page (``POST /{page-id}/feed``); returns the
    post's Graph id. Raises ``PermanentSendError`` when Graph refuses it,
    ``TransientSendError`` when Graph may take it later."""
    page = _page(account)
    try:
        answer = page.graph.put_object(page.id, "feed", message=text)
    except facebook.GraphAPIError as exc:
        raise PermanentSendError(f"Facebook refused the page post: {exc.message}") from exc
    except RateLimited as exc:
        raise SendRateLimited(
            f"The page post waits for Facebook: {exc}", retry_at=exc.retry_at
        ) from exc
    except FetchError as exc:
        raise TransientSendError(f"The page post could not reach Facebook: {exc}") from exc
    value = answer.get("id") if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise TransientSendError(f"Facebook's answer to the page post has no id: {answer!r}.")
    return value


def find_on_page(account: ChannelAccount, text: str) -> str | None:
    """The Graph id of a post of the page's own with exactly this text, among the latest in
    its feed, or None. Raises ``TransientSendError`` when Graph cannot be read."""
    page = _page(account)
    try:
        answer = page.graph.get_connections(page.id, "feed", fields="id,message,from", limit=25)
    except (facebook.GraphAPIError, FetchError) as exc:
        raise TransientSendError(
            f"Could not check the page for the post already made: {exc}"
        ) from exc
    posts = answer.get("data") if isinstance(answer, dict) else None
    for post in posts if isinstance(posts, list) else ():
        if isinstance(post, dict) and _is_page_reply(post, page.id, text):
            return str(post["id"])
    return None


def find_sent(account: ChannelAccount, reply: OutboundReply) -> str | None:
    """The Graph id of a reply already posted for ``reply``: a page comment or message with
    exactly its text, in its thread, after the message it answers. None if there is none."""
    page = _page(account)
    with _translated(reply):
        if reply.channel in COMMENT_CHANNELS:
            thread, answered_at = _thread_of(page, reply)
            for comment in client.comments_under(page, thread):
                created = _created(comment)
                if answered_at and created and created < answered_at:
                    break
                if _is_page_reply(comment, page.id, reply.text):
                    return str(comment["id"])
            return None
        if reply.channel == "facebook.message":
            conversation = client.conversation_with(page, reply.recipient)
            for message in client.messages_in(page, conversation) if conversation else ():
                if message.get("id") == reply.in_reply_to:
                    return None  # older messages came before the one answered
                if _is_page_reply(message, page.id, reply.text):
                    return str(message["id"])
            return None
    return None


def _page(account: ChannelAccount) -> client.Page:
    try:
        return client.connect(account)
    except ValueError as exc:
        raise PermanentSendError(str(exc)) from None


@contextmanager
def _translated(reply: OutboundReply) -> Iterator[None]:
    try:
        yield
    except RateLimited as exc:
        raise SendRateLimited(
            f"Reply {reply.message_id} waits for Facebook: {exc}", retry_at=exc.retry_at
        ) from exc
    except FetchError as exc:
        raise TransientSendError(
            f"Reply {reply.message_id} could not reach Facebook: {exc}"
        ) from exc
    except facebook.GraphAPIError as exc:
        raise PermanentSendError(
            f"Facebook refused reply {reply.message_id} to {reply.in_reply_to}: {exc.message}"
        ) from exc


def _thread_of(page: client.Page, reply: OutboundReply) -> tuple[str, datetime | None]:
    """Where a reply to ``reply.in_reply_to`` goes, and when the answered comment was made.

    Facebook threads are two levels deep: the answer to a reply joins its parent's thread.
    """
    if reply.channel == "facebook.post":
        return reply.in_reply_to, None
    comment = page.graph.get_object(reply.in_reply_to, fields="id,created_time,parent")
    parent = comment.get("parent") if isinstance(comment, dict) else None
    thread = parent["id"] if isinstance(parent, dict) and parent.get("id") else reply.in_reply_to
    return str(thread), _created(comment) if isinstance(comment, dict) else None


def _conversation(page: client.Page, reply: OutboundReply) -> dict[str, Any]:
    conversation = client.conversation_with(page, reply.recipient)
    if conversation is None:
        raise PermanentSendError(
            f"Reply {reply.message_id}: {reply.recipient} has no Messenger conversation with "
            f"page {page.id}; a page can only answer people who wrote to it."
        )
    return conversation


def _last_customer_message_at(
    page: client.Page, conversation: dict[str, Any], reply: OutboundReply
) -> datetime:
    for message in client.messages_in(page, conversation):
        author = message.get("from")
        if isinstance(author, dict) and str(author.get("id")) == reply.recipient:
            at = _created(message)
            if at is not None:
                return at
    raise PermanentSendError(
        f"Reply {reply.message_id}: {reply.recipient} has sent page {page.id} no Messenger "
        "message to answer."
    )


def _created(item: dict[str, Any]) -> datetime | None:
    try:
        return graph_time(item["created_time"])
    except (KeyError, TypeError, ValueError):
        return None


def _is_page_reply(item: dict[str, Any], page_id: str, text: str) -> bool:
    author = item.get("from")
    return (
        isinstance(author, dict)
        and str(author.get("id")) == page_id
        and item.get("message") == text
        and isinstance(item.get("id"), str)
    )


def _answer_id(answer: Any, field: str, reply: OutboundReply) -> str:
    value = answer.get(field) if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        # Graph took the request but did not say what it made: retrying could post it twice,
        # so the send task's find_sent decides.
        raise TransientSendError(
            f"Reply {reply.message_id}: Facebook's answer has no {field}: {answer!r}."
        )
    return value
