"""One error body for every failure of the API:

    {"error": {"status": 409, "code": "case_taken", "message": "...", "fields": {...}}}

``fields`` is there only for invalid input, naming each field's problems. A refusal by a
service (``casework.exceptions``) is answered in the service's words, as the workspace
shows it."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from casework.exceptions import (
    ActionNotAllowed,
    CaseTaken,
    MergeNotAllowed,
    MergeNotPermitted,
    ReplyNotPossible,
)

# Each refusal of a service: its status and code.
REFUSALS: dict[type[Exception], tuple[int, str]] = {
    CaseTaken: (status.HTTP_409_CONFLICT, "case_taken"),
    ReplyNotPossible: (status.HTTP_400_BAD_REQUEST, "reply_not_possible"),
    MergeNotAllowed: (status.HTTP_400_BAD_REQUEST, "merge_not_allowed"),
    MergeNotPermitted: (status.HTTP_403_FORBIDDEN, "permission_denied"),
    ActionNotAllowed: (status.HTTP_400_BAD_REQUEST, "not_allowed"),
}


def error_body(status_code: int, code: str, message: str, fields: Any = None) -> dict:
    error: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def handle(exc: Exception, context: dict) -> Response | None:
    for refusal, (status_code, code) in REFUSALS.items():
        if isinstance(exc, refusal):
            return Response(error_body(status_code, code, str(exc)), status=status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: a 500, logged by Django
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = response.data if isinstance(response.data, dict) else {"input": response.data}
        if set(_leaves(exc.get_codes())) == {"unique"}:
            # Well-formed, but a record already has that name: a conflict, not bad input.
            response.status_code = status.HTTP_409_CONFLICT
            response.data = error_body(409, "conflict", "A record like this exists.", fields)
        else:
            response.data = error_body(
                response.status_code, "invalid", "The request has invalid fields.", fields
            )
    else:
        codes = exc.get_codes()
        response.data = error_body(
            response.status_code,
            codes if isinstance(codes, str) else "error",
            str(exc.detail),
        )
    return response


def _leaves(codes: Any) -> list[str]:
    if isinstance(codes, dict):
        return [leaf for value in codes.values() for leaf in _leaves(value)]
    if isinstance(codes, list):
        return [leaf for value in codes for leaf in _leaves(value)]
    return [codes]


@csrf_exempt  # it changes nothing; a cookie must not turn its 404 into a 403 page
def no_such_route(request: HttpRequest, path: str) -> JsonResponse:
    """Any other address under /api/: a 404 in the same body, not the workspace's page."""
    message = f"There is no API route /api/{path}; /api/docs/ lists them."
    return JsonResponse(error_body(404, "not_found", message), status=404)
