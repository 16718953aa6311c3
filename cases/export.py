"""Every case as plain data, for backups, migrations and review."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import (
    Prefetch,
)

from cases.models import Attachment, Case, CaseEvent, Message
from channels.models import Platform
from customers.models import Identity, MergeSuggestion

EXPORT_CHUNK = 500


def export_cases() -> Iterator[dict[str, Any]]:
    """Every case as a plain dict, in case id order: the whole state, for backups and review.

    Holds only what happened and when on the platforms; when this installation happened to
    process it (received and recorded times) is left out, so the same traffic always exports
    the same.
    """
    cases = (
        Case.objects.select_related("assignee", "team", "customer", "merged_into")
        .prefetch_related(
            "tags",
            Prefetch(
                "customer__identities",
                queryset=Identity.objects.order_by("platform", "external_id"),
            ),
            Prefetch(
                "messages",
                queryset=Message.objects.select_related("author_identity", "author_user")
                .prefetch_related(
                    Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
                )
                .order_by("sent_at", "external_id", "pk"),
            ),
            Prefetch(
                "events",
                queryset=CaseEvent.objects.select_related("actor", "message").order_by(
                    "occurred_at", "pk"
                ),
            ),
        )
        .order_by("pk")
    )
    suggestions = _open_suggestions_by_customer()
    for case in cases.iterator(chunk_size=EXPORT_CHUNK):
        yield _case_row(case, suggestions.get(case.customer_id, []))


def _open_suggestions_by_customer() -> dict[int, list[dict[str, Any]]]:
    """Each live customer's open merge suggestions, best first."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for s in MergeSuggestion.objects.filter(
        status=MergeSuggestion.Status.OPEN,
        customer_a__merged_into__isnull=True,
        customer_b__merged_into__isnull=True,
    ).order_by("-score", "customer_a", "customer_b"):
        kinds = sorted({e["kind"] for e in s.evidence})
        for mine, other in (
            (s.customer_a_id, s.customer_b_id),
            (s.customer_b_id, s.customer_a_id),
        ):
            rows.setdefault(mine, []).append(
                {"customer": other, "score": s.score, "evidence": kinds}
            )
    return rows


def _case_row(case: Case, suggestions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": case.pk,
        "status": case.status,
        "assignee": case.assignee.get_username() if case.assignee else None,
        "team": case.team.name if case.team else None,
        "priority": case.priority,
        "tags": sorted(tag.name for tag in case.tags.all()),
        "subject": case.subject,
        "merged_into": case.merged_into_id,
        "opened_at": _time(case.opened_at),
        "first_inbound_at": _time(case.first_inbound_at),
        "last_inbound_at": _time(case.last_inbound_at),
        "first_response_at": _time(case.first_response_at),
        "resolved_at": _time(case.resolved_at),
        "customer": {
            "id": case.customer_id,
            "name": case.customer.display_name,
            "identities": [_identity_row(i) for i in case.customer.identities.all()],
            "suggestions": suggestions,
        },
        "messages": [_message_row(m) for m in case.messages.all()],
        "events": [_event_row(e) for e in case.events.all()],
    }


def _identity_row(identity: Identity) -> dict[str, Any]:
    return {
        "platform": identity.platform,
        "external_id": identity.external_id,
        "handle": identity.handle,
        "name": identity.display_name,
        "email": identity.external_id if identity.platform == Platform.EMAIL else None,
        "followers": identity.follower_count,
    }


def _message_row(message: Message) -> dict[str, Any]:
    author: str | None
    if message.author_identity:
        author = f"{message.author_identity.platform}:{message.author_identity.external_id}"
    else:
        author = message.author_user.get_username() if message.author_user else None
    return {
        "direction": message.direction,
        "channel": message.channel,
        "external_id": message.external_id,
        "in_reply_to": message.in_reply_to_external_id or None,
        "author": author,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "sent_at": _time(message.sent_at),
        "delivery": message.delivery_status or None,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }


def _event_row(event: CaseEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": _time(event.occurred_at),
        "actor": event.actor.get_username() if event.actor else None,
        "message": event.message.external_id if event.message else None,
        "data": event.data,
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# The inbox: queues, their counts, and one page of a queue's cases.
