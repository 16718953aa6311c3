"""Request hygiene shared by every page."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class StorableInputMiddleware:
    """Takes NUL characters out of query strings and form fields. PostgreSQL text cannot hold
    NUL, so a pasted note, tag or filter holding one would fail as a server error; it never
    means anything to a person, so it is dropped before any view sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET):
            request.GET = _without_nul(request.GET)
        form = request.method == "POST" and request.content_type in FORMS
        if form and _has_nul(request.POST):
            request.POST = _without_nul(request.POST)
        return self.get_response(request)


class IdleSessionMiddleware:
    """Moves a signed-in session's end on, so that it ends ``SESSION_COOKIE_AGE`` after the
    last request rather than after the sign-in. Once a minute at most: saving the session on
    every request would add a write to each of the workspace's ten-second refreshes."""

    TOUCHED = "careinbox:touched"
    EVERY_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(timezone.now().timestamp())
            if now - request.session.get(self.TOUCHED, 0) >= self.EVERY_SECONDS:
                request.session[self.TOUCHED] = now  # saved, with a new end, on the way out
        return self.get_response(request)


def _items(data: QueryDict) -> list[tuple[str, str]]:
    return [(key, value) for key, values in data.lists() for value in values]


def _has_nul(data: QueryDict) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in _items(data))


def _without_nul(data: QueryDict) -> "_ImmutableQueryDict":
    clean = QueryDict(mutable=True, encoding=data.encoding)
    for key, value in _items(data):
        clean.appendlist(key.replace("\x00", ""), value.replace("\x00", ""))
    return QueryDict(clean.urlencode(), encoding=data.encoding)


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from. Behind the trusted reverse proxy (when
    ``SECURE_PROXY_SSL_HEADER`` names it), the last address in X-Forwarded-For, the one that
    proxy added; otherwise the connection's. Sign-in throttling counts failures by it."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and forwarded:
        return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR")
