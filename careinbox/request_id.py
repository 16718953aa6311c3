"""A request id on every log line of a request, and on its response: taken from the proxy's
``X-Request-ID`` when it sends one, otherwise made up."""

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# What a proxy may send us as an id: anything else is replaced, so log lines stay parseable.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._-]{1,128}")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request_id = given if _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex
        # Kept until the request is finished: Django logs a failed request after the
        # middleware has answered.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget(**kwargs: object) -> None:
    _current.set("-")


request_finished.connect(_forget, dispatch_uid="careinbox.request_id")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record as ``request_id`` ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True
