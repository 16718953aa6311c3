"""Sending a delivery to its endpoint, signed, and retrying it with back-off.

As with replies (``casework.delivery``), the schedule lives on the row: a worker claims a
delivery by moving its ``next_attempt_at`` a lease ahead, sends it without holding a lock,
then records the attempt. A worker that dies mid-send leaves it to be picked up again once
the lease runs out (``due_deliveries``)."""

import json
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from webhooks.models import Attempt, Delivery
from webhooks.signing import signature_header

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 30 s, 1 min, 2 min ... at most 6 h."""
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), LONGEST_WAIT)


def lease() -> timedelta:
    """How long a claim keeps other workers off a delivery: well past the HTTP timeout."""
    return timedelta(seconds=settings.CAREINBOX_WEBHOOK_TIMEOUT_SECONDS + 60)


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":")).encode()


def deliver(delivery_id: UUID | str) -> None:
    """Send a pending, due delivery once and log the attempt. Safe to repeat: a delivery
    sent, failed, or claimed by another worker is left alone."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return
    endpoint = delivery.endpoint
    body = body_of(delivery)
    timestamp = int(time.time())
    started_at = timezone.now()
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    if not endpoint.active:
        error = "The endpoint is not active."
    else:
        try:
            response = requests.post(
                endpoint.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "CareInbox-Event": delivery.event,
                    "CareInbox-Delivery": str(delivery.pk),
                    "CareInbox-Signature": signature_header(endpoint.secret, timestamp, body),
                },
                timeout=settings.CAREINBOX_WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,  # only the status counts: the answer's body is never read
            )
            response.close()
            status_code = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
    duration_ms = round((time.monotonic() - started) * 1000)
    _record(delivery, started_at, status_code, error, duration_ms)


def _claim(delivery_id: UUID | str) -> Delivery | None:
    """The delivery, if it is pending and due, with its next attempt moved a lease ahead."""
    now = timezone.now()
    with transaction.atomic():
        rows = Delivery.objects.select_related("endpoint").filter(
            pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        delivery = rows.first()
        if delivery is None:
            return None
        delivery.next_attempt_at = now + lease()
        delivery.save(update_fields=["next_attempt_at"])
    return delivery


def _record(
    delivery: Delivery, at: datetime, status_code: int | None, error: str, duration_ms: int
) -> None:
    """Log the attempt and decide: delivered on a 2xx; otherwise the next try after the
    back-off, or failed once ``CAREINBOX_WEBHOOK_MAX_ATTEMPTS`` tries are spent."""
    attempts = delivery.attempts + 1
    if status_code is not None and 200 <= status_code < 300:
        changes = {
            "status": Delivery.Status.DELIVERED,
            "delivered_at": timezone.now(),
            "next_attempt_at": None,
        }
    elif attempts >= settings.CAREINBOX_WEBHOOK_MAX_ATTEMPTS:
        logger.warning("Webhook delivery %s failed after %d tries", delivery.pk, attempts)
        changes = {"status": Delivery.Status.FAILED, "next_attempt_at": None}
    else:
        changes = {"next_attempt_at": timezone.now() + backoff(attempts)}
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery,
            at=at,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error,
        )
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
            attempts=attempts, **changes
        )


def due_deliveries(now: datetime | None = None) -> list[UUID]:
    """Pending deliveries whose next try is due: retries, new ones no worker was handed, and
    ones whose worker died mid-send."""
    return list(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=now or timezone.now()
        ).values_list("pk", flat=True)
    )


def replay(delivery_ids: Iterable[UUID | str]) -> int:
    """Send these deliveries again, from the first try, at the next sweep; their earlier
    attempts stay in the log. Erased ones (empty payload) are not sent. Returns how many."""
    return (
        Delivery.objects.filter(pk__in=list(delivery_ids))
        .exclude(payload={})
        .update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    )
