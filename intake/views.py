"""Webhook endpoints, one URL per channel account: the platform's handshake on GET and its
deliveries on POST. Platforms call them, so there is no login and no CSRF token; each call
proves itself with the account's secrets instead. A verified delivery is kept and answered
at once; a worker ingests it (``intake.webhooks.deliveries``)."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.models import ChannelAccount
from intake import webhooks
from intake.tasks import drain_soon
from intake.webhooks import deliveries
from intake.webhooks import facebook as facebook_webhook
from intake.webhooks import x as x_webhook

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook_x(request: HttpRequest, account_id: int) -> HttpResponse:
    def handshake(account: ChannelAccount) -> HttpResponse:
        return JsonResponse(x_webhook.crc_response(account, request.GET.get("crc_token")))

    return _webhook(
        request, "x", account_id, handshake, x_webhook.verify, x_webhook.SIGNATURE_HEADER
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook_facebook(request: HttpRequest, account_id: int) -> HttpResponse:
    def handshake(account: ChannelAccount) -> HttpResponse:
        answer = facebook_webhook.challenge(account, request.GET)
        return HttpResponse(answer, content_type="text/plain")

    return _webhook(
        request,
        "facebook",
        account_id,
        handshake,
        facebook_webhook.verify,
        facebook_webhook.SIGNATURE_HEADER,
    )


class TooLarge(Exception):
    """A delivery over ``CAREINBOX_WEBHOOK_MAX_BYTES``; answer 413."""


def _webhook(
    request: HttpRequest,
    platform: str,
    account_id: int,
    handshake: Callable[[ChannelAccount], HttpResponse],
    verify: Callable[[ChannelAccount, bytes, str | None], None],
    signature_header: str,
) -> HttpResponse:
    try:
        account = webhooks.webhook_account(platform=platform, account_id=account_id)
        if request.method == "GET":
            return handshake(account)
        body = _body(request)
        verify(account, body, request.headers.get(signature_header))
    except webhooks.WebhookRefused as exc:
        _log_refusal(request, platform, account_id, exc)
        return HttpResponseForbidden()
    except TooLarge as exc:
        _log_refusal(request, platform, account_id, exc)
        return HttpResponse(status=413)
    deliveries.accept_delivery(account=account, body=body)
    # The delivery is kept: with the broker down, beat's drain ingests it later.
    transaction.on_commit(drain_soon, robust=True)
    return HttpResponse(status=200)


def _body(request: HttpRequest) -> bytes:
    """The raw body, up to ``CAREINBOX_WEBHOOK_MAX_BYTES``: platforms batch events, so a
    delivery may be far larger than the form posts ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bounds.
    Raises ``TooLarge``."""
    limit = settings.CAREINBOX_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise TooLarge(f"the body declares {declared} bytes, over {limit}")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise TooLarge(f"the body is over {limit} bytes")
    return body


def _log_refusal(request: HttpRequest, platform: str, account_id: int, reason: Exception) -> None:
    logger.warning(
        "Refused a %s webhook %s for channel account %s: %s",
        platform,
        request.method,
        account_id,
        reason,
    )
