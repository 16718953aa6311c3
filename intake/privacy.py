"""A customer's privacy requests, whole: the case record's part (``casework.privacy``) and the
quarantined payloads that hold the customer's handles, platform ids or addresses."""

import dataclasses
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from casework import privacy
from casework.privacy import ERASED, Erasure
from intake.models import QuarantinedPayload

# Shorter identifiers (a two-digit test id, a one-letter handle) would match unrelated payloads.
SHORTEST_IDENTIFIER = 4


def export_customer(*, customer_id: int) -> dict[str, Any]:
    """Everything held about the person ``customer_id`` is, as plain data (bytes as base64).
    Raises ``Customer.DoesNotExist``."""
    record = privacy.customer_record(customer_id=customer_id)
    record["quarantined_payloads"] = [
        {
            "id": payload.pk,
            "source": payload.source,
            "raw_payload": privacy.base64_text(payload.raw_payload),
            "error": payload.error,
            "status": payload.status,
            "first_seen_at": payload.first_seen_at,
        }
        for payload in _quarantined(record["identifiers"])
    ]
    return record


def erase_customer(*, customer_id: int, by: User) -> Erasure:
    """Erase the person ``customer_id`` is (``casework.privacy.erase_customer``) and every
    quarantined payload holding them: its body emptied, its error replaced, discarded. Safe to
    repeat. Raises ``Customer.DoesNotExist``."""
    with transaction.atomic():
        erasure = privacy.erase_customer(customer_id=customer_id, by=by)
        holding = [payload.pk for payload in _quarantined(erasure.identifiers)]
        QuarantinedPayload.objects.filter(pk__in=holding).update(
            raw_payload=b"", error=ERASED, status=QuarantinedPayload.Status.DISCARDED
        )
    return dataclasses.replace(erasure, quarantined=len(holding))


def _quarantined(identifiers: Sequence[str]) -> list[QuarantinedPayload]:
    """The quarantined payloads holding any of ``identifiers``, in any case. Read in Python:
    quarantine is small, and bodies are bytes in any encoding."""
    needles = [i.encode() for i in identifiers if len(i) >= SHORTEST_IDENTIFIER]
    if not needles:
        return []
    return [
        payload
        for payload in QuarantinedPayload.objects.order_by("pk").iterator(chunk_size=200)
        if any(needle in bytes(payload.raw_payload).lower() for needle in needles)
    ]
