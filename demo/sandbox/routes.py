"""The sandbox's route table, which the platform modules fill with ``@route``, and the
request and response they handle."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message as HeaderMap
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

from demo.sandbox.state import SandboxState


class Host(Protocol):
    """The running sandbox, as its platform modules see it."""

    state: SandboxState
    maildir: Path | None
    smtp_port: int

    @property
    def url(self) -> str: ...


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: HeaderMap
    body: bytes
    params: dict[str, str]
    sandbox: Host

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query-string or form field (facebook-sdk posts form-encoded fields)."""
        values = self.query.get(name) or self.form().get(name)
        return values[0] if values else default

    def form(self) -> dict[str, list[str]]:
        if "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", ""):
            return {}
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    platform: str | None  # faults apply to platform routes, never to the control API
    handler: Handler


ROUTES: list[Route] = []
# How each platform says "rate limited" (status, headers, body); registered by its module.
RATE_LIMITED: dict[str, Callable[[Request, float], Response]] = {}
# Called with the Sandbox when it starts and stops (the mail module's SMTP server, Maildir).
ON_START: list[Callable[[Host], None]] = []
ON_STOP: list[Callable[[Host], None]] = []


def route(method: str, pattern: str, *, platform: str | None) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(f"^{pattern}$"), platform, handler))
        return handler

    return register
