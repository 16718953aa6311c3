"""Verified webhook deliveries, from the request that brought them to the batch that ingests
them.

A webhook request only checks the signature and keeps the body (``accept_delivery``), so the
platform gets its answer in milliseconds whatever the delivery holds. Workers then claim what
waits in arrival order, a batch of bounded size at a time (``claim_deliveries``), ingest it
through the one ingest path as one batch per account, and delete it (``ingest_claimed``). A
burst is therefore ingested in large batches, and a trickle in small ones, as soon as a
worker is free. A claim is a lease: deliveries whose worker died are claimed again when it
ends, and ingesting them twice stores nothing twice.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channels.errors import MalformedPayload
from channels.models import ChannelAccount
from intake.models import WebhookDelivery
from intake.services import BatchResult, ingest_payloads, quarantine_payload
from intake.webhooks import Converter, parse_body
from intake.webhooks import facebook as facebook_webhook
from intake.webhooks import x as x_webhook

logger = logging.getLogger(__name__)

# How each platform's delivery splits into its normaliser's payloads.
CONVERTERS: dict[str, Converter] = {
    "x": x_webhook.delivery,
    "facebook": facebook_webhook.delivery,
}


def accept_delivery(*, account: ChannelAccount, body: bytes) -> WebhookDelivery:
    """Keep a verified delivery to ``account`` for a worker to ingest. One INSERT."""
    return WebhookDelivery.objects.create(channel_account=account, body=body, size=len(body))


@dataclass(frozen=True)
class Claim:
    deliveries: list[WebhookDelivery]
    # Whether more deliveries were waiting than this claim took.
    more_waiting: bool


def claim_deliveries(*, max_bytes: int | None = None) -> Claim:
    """Take the oldest unclaimed deliveries, up to ``max_bytes`` of bodies in all (at least
    one), for ``CAREINBOX_WEBHOOK_LEASE_SECONDS``. Workers claiming at the same time take
    different deliveries: those another worker is claiming are skipped, not waited for."""
    max_bytes = max_bytes or settings.CAREINBOX_WEBHOOK_BATCH_BYTES
    now = timezone.now()
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        waiting = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(unclaimed)
            .order_by("pk")
            .values_list("pk", "size")[: settings.CAREINBOX_WEBHOOK_BATCH_DELIVERIES]
        )
        taken: list[int] = []
        total = 0
        for pk, size in waiting:
            if taken and total + size > max_bytes:
                break
            taken.append(pk)
            total += size
        lease = timedelta(seconds=settings.CAREINBOX_WEBHOOK_LEASE_SECONDS)
        WebhookDelivery.objects.filter(pk__in=taken).update(claimed_until=now + lease)
    deliveries = list(
        WebhookDelivery.objects.filter(pk__in=taken)
        .select_related("channel_account")
        .order_by("pk")
    )
    return Claim(deliveries=deliveries, more_waiting=len(taken) < len(waiting))


def ingest_claimed(deliveries: list[WebhookDelivery]) -> BatchResult:
    """Ingest claimed deliveries, one batch per account, then delete them.

    A body that is not JSON, or not a delivery of its platform, is quarantined whole, and the
    parts of a delivery meant for another account apart; the rest is ingested.
    """
    result = BatchResult()
    payloads: dict[int, list[bytes]] = defaultdict(list)
    accounts: dict[int, ChannelAccount] = {}
    for item in deliveries:
        account = item.channel_account
        accounts[account.pk] = account
        payloads[account.pk] += _split(item, account, result)
    for account_id, account_payloads in payloads.items():
        account = accounts[account_id]
        ingested = ingest_payloads(
            source=account.platform,
            payloads=account_payloads,
            accounts={account.platform: account},
        )
        result.stored += ingested.stored
        result.duplicates += ingested.duplicates
        result.quarantined += ingested.quarantined
    WebhookDelivery.objects.filter(pk__in=[item.pk for item in deliveries]).delete()
    return result


def _split(item: WebhookDelivery, account: ChannelAccount, result: BatchResult) -> list[bytes]:
    """The delivery's payloads for its account; what cannot be read goes to quarantine."""
    source = account.platform
    body = bytes(item.body)
    try:
        delivery = CONVERTERS[source](parse_body(body), account)
    except Exception as exc:
        # Kept whole, whatever went wrong: a delivery that cannot be split must neither be
        # lost nor be claimed again forever.
        if not isinstance(exc, MalformedPayload):
            logger.exception("Splitting a %s webhook delivery failed unexpectedly", source)
        error = f"A webhook delivery to {source} channel account {account.pk} is unreadable: {exc}"
        logger.warning("%s", error)
        result.quarantined.append(
            quarantine_payload(source=source, raw=body, error=error, account=account)
        )
        return []
    for raw, why in delivery.misrouted:
        logger.warning("Quarantined part of a %s webhook delivery: %s", source, why)
        # No account: a retry must not ingest it on the account whose URL it came to.
        result.quarantined.append(quarantine_payload(source=source, raw=raw, error=why))
    return delivery.payloads
