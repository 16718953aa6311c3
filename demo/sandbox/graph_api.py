"""The Graph API as the sandbox serves it: the page "Acme Home" with the sample traffic's
visitor posts, comments and Messenger messages, and what the brand posted or sent since.

Served under ``/v{version}/`` or unversioned, in Graph's shapes: posts ``{page_id}_{n}``,
comments ``{post_n}_{n}`` (two levels deep, as on Facebook), Messenger messages ``m_…`` in
one conversation ``t_…`` per customer, whose PSID is the sample author's id. A comment event
sits under its ``page_post`` (the brand's own post, shown as from the page) or under the post
or comment it replies to. Lists page with ``paging.cursors`` and ``paging.next``, newest
first; ``fields`` with nested edges and their modifiers is read as Graph reads it.
"""

import base64
import hashlib
import itertools
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from demo.sandbox.routes import RATE_LIMITED, Request, Response, json_response, route
from demo.sandbox.state import SandboxEvent, SandboxState

PAGE_ID = "104857600123456"
PAGE_NAME = "Acme Home"
PAGE_ACCESS_TOKEN = "sandbox-page-access-token"
PAGE = {"id": PAGE_ID, "name": PAGE_NAME}

RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
DEFAULT_LIMIT = 25
# Numbers for what the brand posts and sends, unique across sandboxes.
_SENT = itertools.count(1)

_VERSION = r"(?P<version>/v\d+\.\d+)?"
_NODE = r"(?P<node>me|\d+(?:_\d+)?|t_[\w-]+|m_[\w-]+)"


# --- The page as Graph sees it -------------------------------------------------------------


@dataclass
class Post:
    id: str
    author: dict[str, str]
    message: str
    at: datetime
    comments: list[str] = field(default_factory=list)  # every comment under it, oldest first


@dataclass
class Comment:
    id: str
    post: str
    parent: str | None  # the top-level comment a reply sits under
    author: dict[str, str]
    message: str
    at: datetime
    replies: list[str] = field(default_factory=list)


@dataclass
class Conversation:
    id: str
    customer: dict[str, str]
    messages: list[str] = field(default_factory=list)  # oldest first


@dataclass
class Message:
    id: str
    conversation: str
    author: dict[str, str]
    recipient: dict[str, str]
    text: str
    at: datetime
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Page:
    posts: dict[str, Post] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    graph_ids: dict[str, str] = field(default_factory=dict)  # sample event id -> Graph id

    def updated(self, post: Post) -> datetime:
        return max([post.at] + [self.comments[c].at for c in post.comments])

    def conversation_updated(self, conversation: Conversation) -> datetime:
        return max(self.messages[m].at for m in conversation.messages)


def _digits(seed: str, size: int = 15) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:size]


def _mid(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "m_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:40]


def conversation_id(psid: str) -> str:
    return f"t_{_digits(f'conversation:{psid}')}"


def page_of(state: SandboxState) -> Page:
    """The page as the replay clock shows it now, with everything the brand sent."""
    page = Page()
    for event in state.visible_events("facebook"):
        if event.channel == "facebook.post":
            _add_post(page, event)
        elif event.channel == "facebook.comment":
            _add_comment(page, event)
        elif event.channel == "facebook.message":
            _add_message(page, event)
    for sent in state.sent("facebook"):
        at = datetime.fromtimestamp(sent.at, tz=UTC)
        if sent.kind == "facebook.comment":
            thread_id = sent.payload["thread"]
            thread = page.comments.get(thread_id) or page.posts.get(thread_id)
            if thread is not None:
                _attach_comment(
                    page, sent.payload["id"], thread, dict(PAGE), sent.payload["message"], at
                )
        elif sent.kind == "facebook.page_post":
            post_id = sent.payload["id"]
            page.posts[post_id] = Post(post_id, dict(PAGE), sent.payload["message"], at)
        elif sent.kind == "facebook.message":
            conversation = page.conversations[sent.payload["conversation_id"]]
            page.messages[sent.payload["id"]] = Message(
                id=sent.payload["id"],
                conversation=conversation.id,
                author=dict(PAGE),
                recipient=conversation.customer,
                text=sent.payload["text"],
                at=at,
            )
            conversation.messages.append(sent.payload["id"])
    # What the brand sent goes in time order among the customers' items.
    for post in page.posts.values():
        post.comments.sort(key=lambda c: page.comments[c].at)
    for comment in page.comments.values():
        comment.replies.sort(key=lambda c: page.comments[c].at)
    for conversation in page.conversations.values():
        conversation.messages.sort(key=lambda m: page.messages[m].at)
    return page


def _author(event: SandboxEvent) -> dict[str, str]:
    author = event.data["author"]
    return {"id": str(author["id"]), "name": author.get("name", "")}


def _add_post(page: Page, event: SandboxEvent) -> None:
    post_id = f"{PAGE_ID}_{_digits(f'post:{event.id}')}"
    page.posts[post_id] = Post(post_id, _author(event), event.data["text"], event.at)
    page.graph_ids[event.id] = post_id


def _add_comment(page: Page, event: SandboxEvent) -> None:
    target = page.graph_ids.get(event.data.get("reply_to") or "")
    thread: Post | Comment | None = page.posts.get(target or "") or page.comments.get(target or "")
    page_post = event.data.get("page_post")
    if thread is None and page_post:
        thread = page.posts.get(page_post["id"])
        if thread is None:
            # The brand's own post: shown from the page, a little before its first comment.
            thread = Post(
                page_post["id"], dict(PAGE), page_post["text"], event.at - timedelta(hours=2)
            )
            page.posts[thread.id] = thread
    if thread is None:
        return  # nothing on the page for it to sit under
    comment_id = _attach_comment(
        page, None, thread, _author(event), event.data["text"], event.at, event.id
    )
    page.graph_ids[event.id] = comment_id


def _attach_comment(
    page: Page,
    comment_id: str | None,
    thread: "Post | Comment",
    author: dict[str, str],
    message: str,
    at: datetime,
    event_id: str = "",
) -> str:
    if isinstance(thread, Comment) and thread.parent:
        thread = page.comments[thread.parent]  # Facebook threads are two levels deep
    post = page.posts[thread.post] if isinstance(thread, Comment) else thread
    comment_id = comment_id or f"{post.id.split('_')[-1]}_{_digits(f'comment:{event_id}')}"
    parent = thread.id if isinstance(thread, Comment) else None
    page.comments[comment_id] = Comment(comment_id, post.id, parent, author, message, at)
    post.comments.append(comment_id)
    if isinstance(thread, Comment):
        thread.replies.append(comment_id)
    return comment_id


def _add_message(page: Page, event: SandboxEvent) -> None:
    author = _author(event)
    conversation = page.conversations.setdefault(
        conversation_id(author["id"]), Conversation(conversation_id(author["id"]), author)
    )
    mid = _mid(f"message:{event.id}")
    attachments = [
        {
            "id": _digits(f"attachment:{event.id}:{n}"),
            "mime_type": spec.get("content_type") or "application/octet-stream",
            "name": spec["filename"],
            "size": spec.get("size", 0),
            **_media(
                spec, f"https://scontent.xx.fbcdn.net/v/{_digits(mid + str(n))}/{spec['filename']}"
            ),
        }
        for n, spec in enumerate(event.data.get("attachments") or [])
    ]
    page.messages[mid] = Message(
        mid, conversation.id, author, dict(PAGE), event.data["text"], event.at, attachments
    )
    conversation.messages.append(mid)
    page.graph_ids[event.id] = mid


def _media(spec: dict[str, Any], url: str) -> dict[str, Any]:
    if (spec.get("content_type") or "").startswith("image/"):
        return {"image_data": {"url": url, "preview_url": url, "width": 1280, "height": 960}}
    return {"file_url": url}


# --- Rendering nodes with ``fields`` -------------------------------------------------------


@dataclass
class Field:
    name: str
    modifiers: dict[str, str]
    children: "dict[str, Field] | None"
    children_spec: str = ""


class FieldsError(ValueError):
    pass


def parse_fields(spec: str) -> dict[str, Field]:
    """Graph's ``fields`` syntax: ``a,b.limit(5).filter(stream){c,d{e}}``."""
    fields, end = _parse_list(spec, 0)
    if end != len(spec):
        raise FieldsError(f"Syntax error in fields at character {end}: {spec!r}")
    return fields


def _parse_list(spec: str, at: int) -> tuple[dict[str, Field], int]:
    fields: dict[str, Field] = {}
    while at < len(spec) and spec[at] != "}":
        start = at
        while at < len(spec) and (spec[at].isalnum() or spec[at] == "_"):
            at += 1
        name = spec[start:at]
        if not name:
            raise FieldsError(f"Syntax error in fields at character {at}: {spec!r}")
        modifiers: dict[str, str] = {}
        while at < len(spec) and spec[at] == ".":
            close = spec.find(")", at)
            open_ = spec.find("(", at)
            if open_ < 0 or close < open_:
                raise FieldsError(f"Syntax error in field modifier of {name!r}")
            modifiers[spec[at + 1 : open_]] = spec[open_ + 1 : close]
            at = close + 1
        children, children_spec = None, ""
        if at < len(spec) and spec[at] == "{":
            children, close = _parse_list(spec, at + 1)
            if close >= len(spec) or spec[close] != "}":
                raise FieldsError(f"Unclosed {{ in fields of {name!r}")
            children_spec = spec[at + 1 : close]
            at = close + 1
        fields[name] = Field(name, modifiers, children, children_spec)
        if at < len(spec) and spec[at] == ",":
            at += 1
    return fields, at


DEFAULT_FIELDS = {
    "post": "created_time,message,id",
    "comment": "created_time,from,message,id",
    "conversation": "id,updated_time",
    "message": "id,created_time",
    "page": "name,id",
}


class GraphError(Exception):
    def __init__(self, message: str, code: int, status: int = 400, subcode: int | None = None):
        super().__init__(message)
        self.code, self.status, self.subcode = code, status, subcode


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _nonexisting(name: str, node_type: str) -> GraphError:
    return GraphError(
        f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})", 100
    )


class Renderer:
    """Renders nodes of one page for one request (nested ``next`` links need the request)."""

    def __init__(self, request: Request, page: Page) -> None:
        self.request, self.page = request, page

    def node(self, node_id: str, fields: dict[str, Field] | None) -> dict[str, Any]:
        if node_id in ("me", PAGE_ID):
            return self._render("page", node_id, fields, self._page_field)
        if node_id in self.page.posts:
            return self._render("post", node_id, fields, self._post_field)
        if node_id in self.page.comments:
            return self._render("comment", node_id, fields, self._comment_field)
        if node_id in self.page.conversations:
            return self._render("conversation", node_id, fields, self._conversation_field)
        if node_id in self.page.messages:
            return self._render("message", node_id, fields, self._message_field)
        raise unknown_object(node_id, "get")

    def _render(
        self,
        kind: str,
        node_id: str,
        fields: dict[str, Field] | None,
        value: Callable[[str, Field], Any],
    ) -> dict[str, Any]:
        fields = fields if fields is not None else parse_fields(DEFAULT_FIELDS[kind])
        rendered = {}
        for name, spec in fields.items():
            result = value(node_id, spec)
            if result is not None:
                rendered[name] = result
        return rendered

    def _page_field(self, node_id: str, spec: Field) -> Any:
        if spec.name in PAGE:
            return PAGE[spec.name]
        raise _nonexisting(spec.name, "Page")

    def _post_field(self, node_id: str, spec: Field) -> Any:
        post = self.page.posts[node_id]
        scalars = {
            "id": post.id,
            "message": post.message,
            "created_time": _time(post.at),
            "updated_time": _time(self.page.updated(post)),
            "from": post.author,
            "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post.id.split('_')[-1]}/",
        }
        if spec.name in scalars:
            return scalars[spec.name]
        if spec.name == "to":
            return None if post.author["id"] == PAGE_ID else {"data": [dict(PAGE)]}
        if spec.name == "comments":
            return self.comments_listing(node_id, spec.modifiers, spec, nested=True)
        raise _nonexisting(spec.name, "Post")

    def _comment_field(self, node_id: str, spec: Field) -> Any:
        comment = self.page.comments[node_id]
        scalars = {
            "id": comment.id,
            "message": comment.message,
            "created_time": _time(comment.at),
            "from": comment.author,
            "can_comment": comment.parent is None,
        }
        if spec.name in scalars:
            return scalars[spec.name]
        if spec.name == "attachment":
            return None
        if spec.name == "parent":
            if comment.parent is None:
                return None
            children = spec.children or parse_fields("created_time,from,message,id")
            return self.node(comment.parent, children)
        if spec.name == "comments":
            return self.comments_listing(node_id, spec.modifiers, spec, nested=True)
        raise _nonexisting(spec.name, "Comment")

    def _conversation_field(self, node_id: str, spec: Field) -> Any:
        conversation = self.page.conversations[node_id]
        customer = conversation.customer
        scalars = {
            "id": conversation.id,
            "updated_time": _time(self.page.conversation_updated(conversation)),
            "message_count": len(conversation.messages),
            "link": f"/{PAGE_ID}/inbox/{conversation.id}/",
            "participants": {
                "data": [
                    {**customer, "email": f"{customer['id']}@facebook.com"},
                    {**PAGE, "email": f"{PAGE_ID}@facebook.com"},
                ]
            },
        }
        if spec.name in scalars:
            return scalars[spec.name]
        if spec.name == "messages":
            return self.messages_listing(node_id, spec.modifiers, spec, nested=True)
        raise _nonexisting(spec.name, "Conversation")

    def _message_field(self, node_id: str, spec: Field) -> Any:
        message = self.page.messages[node_id]
        scalars = {
            "id": message.id,
            "message": message.text,
            "created_time": _time(message.at),
            "from": {**message.author, "email": f"{message.author['id']}@facebook.com"},
            "to": {
                "data": [{**message.recipient, "email": f"{message.recipient['id']}@facebook.com"}]
            },
        }
        if spec.name in scalars:
            return scalars[spec.name]
        if spec.name == "attachments":
            if not message.attachments:
                return None
            return {
                "data": message.attachments,
                "paging": {"cursors": _cursors(message.attachments)},
            }
        raise _nonexisting(spec.name, "Message")

    # Listings

    def comments_listing(
        self, node_id: str, args: dict[str, str], spec: Field | None, *, nested: bool
    ) -> dict[str, Any] | None:
        if node_id in self.page.posts:
            post = self.page.posts[node_id]
            ids = post.comments
            if args.get("filter", "toplevel") != "stream":
                ids = [c for c in ids if self.page.comments[c].parent is None]
        elif node_id in self.page.comments:
            ids = self.page.comments[node_id].replies
        else:
            raise unknown_object(node_id, "get")
        if args.get("order") == "reverse_chronological":
            ids = list(reversed(ids))
        elif args.get("order", "chronological") != "chronological":
            raise GraphError(
                "(#100) order must be one of chronological, reverse_chronological", 100
            )
        return self.listing(node_id, "comments", ids, args, spec, nested=nested)

    def messages_listing(
        self, node_id: str, args: dict[str, str], spec: Field | None, *, nested: bool
    ) -> dict[str, Any] | None:
        ids = list(reversed(self.page.conversations[node_id].messages))
        return self.listing(node_id, "messages", ids, args, spec, nested=nested)

    def listing(
        self,
        node_id: str,
        edge: str,
        ids: list[str],
        args: dict[str, str],
        spec: Field | None,
        *,
        nested: bool,
        faults: bool = False,
    ) -> dict[str, Any] | None:
        """One page of ``ids`` after ``args['after']``; None for an empty nested edge, as
        Graph leaves such an edge out."""
        if nested and not ids:
            return None
        limit = min(_int(args.get("limit"), DEFAULT_LIMIT), self.request.state.page_size)
        start = 0
        if args.get("after"):
            start = _position(ids, args["after"]) + 1
        window = ids[start : start + max(limit, 1)]
        served = list(window)
        if faults and served:
            state = self.request.state
            if state.take_fault("facebook", {"duplicate"}):
                served = ids[max(start - 2, 0) : start] + served if start else served[:1] + served
            if state.take_fault("facebook", {"out_of_order"}):
                served.reverse()
        children = spec.children if spec is not None else None
        data = [self.node(item, children) for item in served]
        if not window:
            return {"data": []}
        paging: dict[str, Any] = {
            "cursors": {"before": _cursor(window[0]), "after": _cursor(window[-1])}
        }
        query = {k: v for k, v in args.items() if k not in ("after", "before")}
        if spec is not None and spec.children_spec:
            query["fields"] = spec.children_spec
        query["limit"] = str(limit)
        query["access_token"] = self.request.arg("access_token") or ""
        version = self.request.params.get("version") or ""
        base = f"{self.request.sandbox.url}{version}/{node_id}/{edge}"
        if start + len(window) < len(ids):
            paging["next"] = f"{base}?{urlencode({**query, 'after': _cursor(window[-1])})}"
        if start > 0:
            paging["previous"] = f"{base}?{urlencode({**query, 'before': _cursor(window[0])})}"
        return {"data": data, "paging": paging}


def _cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode(f"cursor:{item_id}".encode()).decode()


def _cursors(items: list[dict[str, Any]]) -> dict[str, str]:
    return {"before": _cursor(items[0]["id"]), "after": _cursor(items[-1]["id"])}


def _position(ids: list[str], cursor: str) -> int:
    try:
        item_id = base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("cursor:")
        return ids.index(item_id)
    except (ValueError, UnicodeDecodeError):
        raise GraphError("(#100) Invalid cursor", 100) from None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        raise GraphError(f"(#100) Param limit must be an integer, not {value!r}", 100) from None


def _unix(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        if value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value), tz=UTC)
        at = datetime.fromisoformat(value)
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise GraphError(f"(#100) Invalid time {value!r}", 100) from None


def unknown_object(node_id: str, verb: str) -> GraphError:
    return GraphError(
        f"Unsupported {verb} request. Object with ID '{node_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        100,
        subcode=33,
    )


# --- Routes --------------------------------------------------------------------------------


def _error_body(message: str, code: int, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def _usage_headers(regain_minutes: int = 0, kind: str = "pages", usage: int = 1) -> dict[str, str]:
    business = [
        {
            "type": kind,
            "call_count": usage,
            "total_cputime": max(1, usage // 4),
            "total_time": max(1, usage // 3),
            "estimated_time_to_regain_access": regain_minutes,
        }
    ]
    return {
        "Facebook-API-Version": "v25.0",
        "X-App-Usage": json.dumps({"call_count": usage, "total_cputime": 1, "total_time": 1}),
        "X-Business-Use-Case-Usage": json.dumps({PAGE_ID: business}),
    }


GraphHandler = Callable[[Request, Renderer], dict[str, Any] | None]


def graph_route(method: str, pattern: str) -> Callable[[GraphHandler], GraphHandler]:
    """A Graph route: checks the access token and answers Graph errors as Graph does."""

    def register(handler: GraphHandler) -> GraphHandler:
        def serve(request: Request) -> Response:
            token = request.arg("access_token")
            try:
                if not token:
                    raise GraphError("An access token is required to request this resource.", 104)
                if token != PAGE_ACCESS_TOKEN:
                    raise GraphError("Invalid OAuth access token - Cannot parse access token", 190)
                return json_response(
                    handler(request, Renderer(request, page_of(request.state))),
                    headers=_usage_headers(),
                )
            except GraphError as exc:
                return json_response(
                    _error_body(str(exc), exc.code, exc.subcode), exc.status, _usage_headers()
                )
            except FieldsError as exc:
                return json_response(_error_body(f"(#100) {exc}", 100), 400, _usage_headers())

        route(method, _VERSION + pattern, platform="facebook")(serve)
        return handler

    return register


def _fields(request: Request) -> dict[str, Field] | None:
    spec = request.arg("fields")
    return parse_fields(spec) if spec else None


@graph_route("GET", rf"/{_NODE}/feed")
def feed(request: Request, render: Renderer) -> dict[str, Any] | None:
    if request.params["node"] not in ("me", PAGE_ID):
        raise unknown_object(request.params["node"], "get")
    since, until = _unix(request.arg("since")), _unix(request.arg("until"))
    posts = sorted(render.page.posts.values(), key=lambda p: (p.at, p.id), reverse=True)
    ids = [p.id for p in posts if (not since or p.at >= since) and (not until or p.at <= until)]
    args = _listing_args(request, "since", "until")
    return render.listing(
        PAGE_ID, "feed", ids, args, _edge_spec(request), nested=False, faults=True
    )


@graph_route("POST", rf"/{_NODE}/feed")
def publish_post(request: Request, render: Renderer) -> dict[str, Any]:
    """The page publishing a post of its own, which then leads its feed."""
    if request.params["node"] not in ("me", PAGE_ID):
        raise unknown_object(request.params["node"], "post")
    message = (request.arg("message") or "").strip()
    if not message:
        raise GraphError("(#100) Missing message or attachment", 100)
    post_id = f"{PAGE_ID}_{977000000000000 + next(_SENT)}"
    request.state.record(
        platform="facebook",
        kind="facebook.page_post",
        payload={"id": post_id, "message": request.arg("message")},
    )
    return {"id": post_id}


@graph_route("GET", rf"/{_NODE}/conversations")
def conversations(request: Request, render: Renderer) -> dict[str, Any] | None:
    if request.params["node"] not in ("me", PAGE_ID):
        raise unknown_object(request.params["node"], "get")
    if request.arg("platform", "messenger") != "messenger":
        return {"data": []}
    found = [
        c
        for c in render.page.conversations.values()
        if request.arg("user_id") in (None, c.customer["id"])
    ]
    found.sort(key=lambda c: (render.page.conversation_updated(c), c.id), reverse=True)
    args = _listing_args(request, "platform", "user_id")
    ids = [c.id for c in found]
    return render.listing(
        PAGE_ID, "conversations", ids, args, _edge_spec(request), nested=False, faults=True
    )


@graph_route("GET", rf"/{_NODE}/comments")
def comments(request: Request, render: Renderer) -> dict[str, Any] | None:
    args = _listing_args(request, "filter", "order")
    return render.comments_listing(request.params["node"], args, _edge_spec(request), nested=False)


@graph_route("GET", rf"/{_NODE}/messages")
def messages(request: Request, render: Renderer) -> dict[str, Any] | None:
    node = request.params["node"]
    if node not in render.page.conversations:
        raise unknown_object(node, "get")
    return render.messages_listing(node, _listing_args(request), _edge_spec(request), nested=False)


@graph_route("GET", rf"/{_NODE}")
def graph_object(request: Request, render: Renderer) -> dict[str, Any]:
    return render.node(request.params["node"], _fields(request))


@graph_route("POST", rf"/{_NODE}")
def update_object(request: Request, render: Renderer) -> dict[str, Any]:
    """Hiding or showing a comment again, as the page may (``is_hidden``)."""
    node = request.params["node"]
    if node not in render.page.comments:
        raise unknown_object(node, "post")
    hidden = request.arg("is_hidden")
    if hidden not in ("true", "false"):
        raise GraphError("(#100) Param is_hidden must be a boolean", 100)
    request.state.record(
        platform="facebook",
        kind="facebook.hide" if hidden == "true" else "facebook.unhide",
        payload={"id": node},
    )
    return {"success": True}


@graph_route("POST", rf"/{_NODE}/comments")
def post_comment(request: Request, render: Renderer) -> dict[str, Any]:
    node = request.params["node"]
    if node not in render.page.posts and node not in render.page.comments:
        raise unknown_object(node, "post")
    message = (request.arg("message") or "").strip()
    if not message:
        raise GraphError("(#100) Missing message or attachment", 100)
    thread = render.page.comments.get(node) or render.page.posts[node]
    if isinstance(thread, Comment) and thread.parent:
        thread = render.page.comments[thread.parent]
    post_id = thread.post if isinstance(thread, Comment) else thread.id
    comment_id = f"{post_id.split('_')[-1]}_{955000000000000 + next(_SENT)}"
    request.state.record(
        platform="facebook",
        kind="facebook.comment",
        payload={
            "id": comment_id,
            "object_id": node,
            "thread": thread.id,
            "post_id": post_id,
            "message": request.arg("message"),
        },
    )
    return {"id": comment_id}


@graph_route("POST", rf"/{_NODE}/messages")
def send_message(request: Request, render: Renderer) -> dict[str, Any]:
    if request.params["node"] not in ("me", PAGE_ID):
        raise unknown_object(request.params["node"], "post")
    try:
        recipient = json.loads(request.arg("recipient") or "null")
        message = json.loads(request.arg("message") or "null")
    except ValueError:
        raise GraphError("(#100) param recipient and message must be JSON objects", 100) from None
    psid = str(recipient.get("id")) if isinstance(recipient, dict) else ""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise GraphError("(#100) The parameter message[text] is required", 100)
    conversation = render.page.conversations.get(conversation_id(psid))
    if conversation is None:
        raise GraphError("(#100) No matching user found", 100, subcode=2018001)
    last = max(
        render.page.messages[m].at
        for m in conversation.messages
        if render.page.messages[m].author["id"] == psid
    )
    elapsed = datetime.now(UTC) - last
    messaging_type, tag = request.arg("messaging_type"), request.arg("tag")
    if messaging_type == "MESSAGE_TAG" and tag == "HUMAN_AGENT":
        allowed = elapsed < HUMAN_AGENT_WINDOW
    elif messaging_type in ("RESPONSE", "UPDATE"):
        allowed = elapsed < RESPONSE_WINDOW
    else:
        raise GraphError(f"(#100) Invalid messaging_type {messaging_type!r} / tag {tag!r}", 100)
    if not allowed:
        raise GraphError(
            "(#10) This message is sent outside of allowed window. Learn more about the new "
            "policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
            10,
            subcode=2018278,
        )
    mid = _mid(f"sent:{next(_SENT)}")
    request.state.record(
        platform="facebook",
        kind="facebook.message",
        payload={
            "id": mid,
            "conversation_id": conversation.id,
            "recipient_id": psid,
            "text": text,
            "messaging_type": messaging_type,
            "tag": tag,
        },
    )
    return {"recipient_id": psid, "message_id": mid}


def _listing_args(request: Request, *extra: str) -> dict[str, str]:
    names = ("limit", "after", *extra)
    return {name: value for name in names if (value := request.arg(name)) is not None}


def _edge_spec(request: Request) -> Field:
    spec = request.arg("fields") or ""
    return Field("data", {}, parse_fields(spec) if spec else None, spec)


def rate_limited(request: Request, seconds: float) -> Response:
    """Graph's throttling answer: HTTP 400 with error #32 (Page reads) or #613 (Messenger),
    and how long to wait in the Business Use Case header, in whole minutes."""
    messenger = request.path.endswith(("/messages", "/conversations"))
    code, text = (
        (613, "(#613) Calls to this api have exceeded the rate limit.")
        if messenger
        else (32, "(#32) Page request limit reached")
    )
    headers = _usage_headers(
        regain_minutes=max(1, math.ceil(seconds / 60)),
        kind="messenger" if messenger else "pages",
        usage=100,
    )
    return json_response(_error_body(text, code), 400, headers)


RATE_LIMITED["facebook"] = rate_limited
