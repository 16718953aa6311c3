"""Webhook endpoints, one URL per channel account: the platform's handshake on GET and its
deliveries on POST. Platforms call them, so there is no login and no CSRF token; each call
proves itself with the account's secrets instead."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from intake import webhooks
from intake.webhooks import facebook as facebook_webhook
from intake.webhooks import x as x_webhook

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook_x(request: HttpRequest, account_id: int) -> HttpResponse:
    try:
        account = webhooks.webhook_account(platform="x", account_id=account_id)
        if request.method == "GET":
            return JsonResponse(x_webhook.crc_response(account, request.GET.get("crc_token")))
        x_webhook.verify(account, request.body, request.headers.get(x_webhook.SIGNATURE_HEADER))
    except webhooks.WebhookRefused as exc:
        return _refused(request, "x", account_id, exc)
    # Ingested inline, so a large delivery is answered once stored; X allows seconds.
    webhooks.receive_delivery(account=account, body=request.body, convert=x_webhook.delivery)
    return HttpResponse(status=200)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook_facebook(request: HttpRequest, account_id: int) -> HttpResponse:
    try:
        account = webhooks.webhook_account(platform="facebook", account_id=account_id)
        if request.method == "GET":
            answer = facebook_webhook.challenge(account, request.GET)
            return HttpResponse(answer, content_type="text/plain")
        signature = request.headers.get(facebook_webhook.SIGNATURE_HEADER)
        facebook_webhook.verify(account, request.body, signature)
    except webhooks.WebhookRefused as exc:
        return _refused(request, "facebook", account_id, exc)
    # Ingested inline, so a large delivery is answered once stored; Facebook allows seconds.
    webhooks.receive_delivery(
        account=account, body=request.body, convert=facebook_webhook.delivery
    )
    return HttpResponse(status=200)


def _refused(
    request: HttpRequest, platform: str, account_id: int, reason: Exception
) -> HttpResponse:
    logger.warning(
        "Refused a %s webhook %s for channel account %s: %s",
        platform,
        request.method,
        account_id,
        reason,
    )
    return HttpResponseForbidden()
