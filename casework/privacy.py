"""A customer's privacy requests over the case record: everything held about them, and their
erasure. A customer here is one person: the live customer and every customer merged into it.
``intake.privacy`` adds the quarantined payloads that hold them; views call that."""

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from cases import history
from cases.models import Attachment, Case, CaseEvent, Message
from customers.models import Customer, Evidence, Identity, MergeSuggestion
from customers.selectors import live_customer
from notifications.models import Notification
from webhooks.models import Delivery

ERASED = history.ERASED


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed. ``identifiers`` are the handles, platform ids and addresses
    the customer had, for finding what else holds them."""

    customer_id: int
    identifiers: list[str]
    cases: int
    messages: int
    attachments: int
    quarantined: int = 0


def person(*, customer_id: int) -> list[int]:
    """The ids of one person's customers: the live customer ``customer_id`` was merged into
    (or itself), first, then every customer merged into it. Raises ``Customer.DoesNotExist``."""
    live = live_customer(customer_id)
    found, frontier = [live.pk], [live.pk]
    while frontier:
        frontier = list(
            Customer.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)
        )
        found += frontier
    return found


def identifiers(*, customer_ids: Iterable[int]) -> list[str]:
    """The handles, platform ids and addresses of these customers' identities, lower-cased."""
    found = set()
    for handle, external_id in Identity.objects.filter(customer__in=customer_ids).values_list(
        "handle", "external_id"
    ):
        found |= {handle.lower(), external_id.lower()}
    return sorted(found - {""})


def customer_record(*, customer_id: int) -> dict[str, Any]:
    """Everything the case record holds about the person ``customer_id`` is: customers,
    identities, their cases with every message (raw payload and attachment bytes as base64),
    history event, notification and webhook delivery, messages they wrote in others' cases,
    evidence and merge suggestions naming them. Raises ``Customer.DoesNotExist``."""
    customer_ids = person(customer_id=customer_id)
    case_ids = list(Case.objects.filter(customer__in=customer_ids).values_list("pk", flat=True))
    messages = _messages(customer_ids, case_ids)
    return {
        "customer": customer_ids[0],
        "exported_at": timezone.now(),
        "identifiers": identifiers(customer_ids=customer_ids),
        "customers": list(
            Customer.objects.filter(pk__in=customer_ids)
            .order_by("pk")
            .values("id", "display_name", "notes", "created_at", "merged_into")
        ),
        "identities": list(
            Identity.objects.filter(customer__in=customer_ids)
            .order_by("pk")
            .values(
                "id",
                "customer",
                "platform",
                "external_id",
                "handle",
                "display_name",
                "follower_count",
                "avatar_url",
                "created_at",
                "last_seen_at",
            )
        ),
        "cases": list(
            Case.objects.filter(pk__in=case_ids)
            .order_by("pk")
            .values(
                "id",
                "customer",
                "status",
                "subject",
                "priority",
                "merged_into",
                "spam",
                "opened_at",
                "resolved_at",
                "closed_at",
            )
        ),
        "messages": [
            _encoded(row, "raw_payload")
            for row in messages.order_by("sent_at", "pk").values(
                "id",
                "case",
                "direction",
                "channel",
                "external_id",
                "in_reply_to_external_id",
                "author_identity",
                "author_user",
                "subject",
                "cc",
                "text",
                "full_text",
                "html",
                "context",
                "sent_at",
                "delivery_status",
                "raw_payload",
            )
        ],
        "attachments": [
            _encoded(row, "content")
            for row in Attachment.objects.filter(message__in=messages)
            .order_by("pk")
            .values("id", "message", "filename", "content_type", "size", "content")
        ],
        "events": list(
            CaseEvent.objects.filter(case__in=case_ids)
            .order_by("occurred_at", "pk")
            .values("id", "case", "kind", "occurred_at", "actor", "message", "data")
        ),
        "notifications": list(
            Notification.objects.filter(case__in=case_ids)
            .order_by("pk")
            .values("id", "case", "kind", "recipient", "text", "created_at")
        ),
        "webhook_deliveries": list(
            Delivery.objects.filter(case_id__in=case_ids)
            .order_by("created_at", "pk")
            .values("id", "endpoint", "event", "case_id", "payload", "status", "created_at")
        ),
        "evidence": list(
            _evidence(customer_ids, messages)
            .order_by("pk")
            .values("id", "message", "kind", "value")
        ),
        "merge_suggestions": list(
            _suggestions(customer_ids)
            .order_by("pk")
            .values("id", "customer_a", "customer_b", "score", "evidence", "status")
        ),
    }


def erase_customer(*, customer_id: int, by: User) -> Erasure:
    """Erase the person ``customer_id`` is from the case record: every text, name, handle,
    address, raw payload, attachment and webhook body of theirs or on their cases is removed
    or replaced by ``ERASED`` (a webhook body not yet sent is not sent); cases, messages and
    counts stay, and each case's history gets an ``erased`` event by ``by``. Safe to repeat.
    Raises ``Customer.DoesNotExist``."""
    with transaction.atomic():
        customer_ids = person(customer_id=customer_id)
        # Locks in the one order: customers, then cases, by id.
        list(Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk"))
        cases = list(
            Case.objects.select_for_update().filter(customer__in=customer_ids).order_by("pk")
        )
        case_ids = [case.pk for case in cases]
        found = identifiers(customer_ids=customer_ids)
        messages = _messages(customer_ids, case_ids)
        attachments = Attachment.objects.filter(message__in=messages).update(
            filename=ERASED, content=b"", skipped_reason="Erased."
        )
        _evidence(customer_ids, messages).delete()
        erased_messages = messages.update(
            text=ERASED,
            full_text="",
            text_fingerprint="",
            text_words="",
            html="",
            subject="",
            context="",
            cc=[],
            raw_payload=b"",
            delivery_error="",
        )
        Case.objects.filter(pk__in=case_ids).update(subject="")
        Notification.objects.filter(case__in=case_ids).update(text=ERASED)
        # Webhook bodies quote messages: nothing of them is sent or kept.
        deliveries = Delivery.objects.filter(case_id__in=case_ids)
        deliveries.filter(status=Delivery.Status.PENDING).update(
            status=Delivery.Status.FAILED, next_attempt_at=None
        )
        deliveries.update(payload={})
        _suggestions(customer_ids).delete()
        Identity.objects.filter(customer__in=customer_ids).update(
            external_id=Concat(Value("erased:"), Cast("pk", CharField())),
            handle="",
            display_name="",
            avatar_url="",
            follower_count=None,
        )
        Customer.objects.filter(pk__in=customer_ids).update(display_name=ERASED, notes="")
        history.erase_typed_text(case_ids=case_ids)
        now = timezone.now()
        history.record_all(
            [
                history.event(
                    case=case,
                    kind=CaseEvent.Kind.ERASED,
                    at=now,
                    actor=by,
                    data={"customer": customer_ids[0]},
                )
                for case in cases
            ]
        )
    return Erasure(
        customer_id=customer_ids[0],
        identifiers=found,
        cases=len(case_ids),
        messages=erased_messages,
        attachments=attachments,
    )


def _messages(customer_ids: list[int], case_ids: list[int]):
    """Every message on their cases, theirs or not (replies and notes name them), and theirs
    on other customers' cases."""
    return Message.objects.filter(
        Q(case__in=case_ids) | Q(author_identity__customer__in=customer_ids)
    )


def _evidence(customer_ids: list[int], messages):
    return Evidence.objects.filter(
        Q(identity__customer__in=customer_ids) | Q(message__in=messages)
    )


def _suggestions(customer_ids: list[int]):
    return MergeSuggestion.objects.filter(
        Q(customer_a__in=customer_ids) | Q(customer_b__in=customer_ids)
    )


def base64_text(value: bytes | memoryview) -> str:
    """Stored bytes (a raw payload, a file) as they are exported."""
    return base64.b64encode(bytes(value)).decode("ascii")


def _encoded(row: Mapping[str, Any], field: str) -> dict[str, Any]:
    return {**row, field: base64_text(row[field])}
