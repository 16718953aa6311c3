"""Every case as plain data, for backups, migrations and review."""

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import Any

from django.db.models import (
    Prefetch,
)

from cases.models import Attachment, Case, CaseEvent, Message, Survey
from channels.models import Platform
from customers.models import Identity, MergeSuggestion

EXPORT_CHUNK = 500


def export_cases() -> Iterator[dict[str, Any]]:
    """Every case as a plain dict: the whole state, for backups and review.

    Holds only what happened and when on the platforms, so the same traffic always exports
    the same, byte for byte, whatever order and batches it arrived in:

    - cases and customers are named by stable keys, not by database ids, which follow the
      order of arrival: a case by its earliest message (``channel:external id``), a customer
      by the first of its identities (``platform:external id``);
    - cases come in the order they opened (then by key);
    - a case's ``created`` event is its earliest message's, as on the platforms the case began
      with it, even if a later message happened to reach CareInbox first;
    - when this installation processed anything (received and recorded times) is left out.
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
                queryset=Message.objects.select_related(
                    "author_identity", "author_user", "incident_link__incident"
                )
                .prefetch_related(
                    Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
                )
                .order_by("sent_at", "channel", "external_id", "pk"),
            ),
            Prefetch("surveys", queryset=Survey.objects.order_by("sent_at", "pk")),
            Prefetch(
                "events",
                queryset=CaseEvent.objects.select_related("actor", "message").order_by(
                    "occurred_at", "pk"
                ),
            ),
        )
        .order_by("opened_at", "pk")
    )
    keys = _case_keys()
    customers = _customer_keys()
    suggestions = _open_suggestions_by_customer(customers)
    rows = (
        _case_row(case, keys, customers, suggestions.get(case.customer_id, []))
        for case in cases.iterator(chunk_size=EXPORT_CHUNK)
    )
    # Streamed in opening order; cases opened at the same moment are put in key order.
    for _, same_moment in groupby(rows, key=lambda row: row["opened_at"]):
        yield from sorted(same_moment, key=lambda row: row["key"])


def _case_keys() -> dict[int, str]:
    """Each case's stable key: its earliest message, in platform time."""
    keys: dict[int, str] = {}
    for case_id, channel, external_id in (
        Message.objects.exclude(external_id="")
        .order_by("case", "sent_at", "channel", "external_id")
        .values_list("case", "channel", "external_id")
    ):
        keys.setdefault(case_id, f"{channel}:{external_id}")
    return keys


def _customer_keys() -> dict[int, str]:
    """Each customer's stable key: the first of its identities."""
    keys: dict[int, str] = {}
    for customer_id, platform, external_id in Identity.objects.order_by(
        "customer", "platform", "external_id"
    ).values_list("customer", "platform", "external_id"):
        keys.setdefault(customer_id, f"{platform}:{external_id}")
    return keys


def _open_suggestions_by_customer(customers: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
    """Each live customer's open merge suggestions, best first."""
    found: dict[int, list[dict[str, Any]]] = {}
    for s in MergeSuggestion.objects.filter(
        status=MergeSuggestion.Status.OPEN,
        customer_a__merged_into__isnull=True,
        customer_b__merged_into__isnull=True,
    ):
        kinds = sorted({e["kind"] for e in s.evidence})
        for mine, other in (
            (s.customer_a_id, s.customer_b_id),
            (s.customer_b_id, s.customer_a_id),
        ):
            found.setdefault(mine, []).append(
                {
                    "customer": _key(customers, other, "customer"),
                    "score": s.score,
                    "evidence": kinds,
                }
            )
    for rows in found.values():
        rows.sort(key=lambda row: (-row["score"], row["customer"]))
    return found


def _key(keys: dict[int, str], pk: int, what: str) -> str:
    # A case without messages, a customer without identities: only an admin makes those.
    return keys.get(pk) or f"{what}:{pk}"


def _case_row(
    case: Case,
    keys: dict[int, str],
    customers: dict[int, str],
    suggestions: list[dict[str, Any]],
) -> dict[str, Any]:
    messages = list(case.messages.all())
    return {
        "key": _key(keys, case.pk, "case"),
        "status": case.status,
        "assignee": case.assignee.get_username() if case.assignee else None,
        "team": case.team.name if case.team else None,
        "priority": case.priority,
        "tags": sorted(tag.name for tag in case.tags.all()),
        "subject": case.subject,
        "merged_into": _key(keys, case.merged_into_id, "case") if case.merged_into_id else None,
        "opened_at": _time(case.opened_at),
        "first_inbound_at": _time(case.first_inbound_at),
        "last_inbound_at": _time(case.last_inbound_at),
        "first_response_at": _time(case.first_response_at),
        "resolved_at": _time(case.resolved_at),
        "customer": {
            "key": _key(customers, case.customer_id, "customer"),
            "name": case.customer.display_name,
            "identities": [_identity_row(i) for i in case.customer.identities.all()],
            "suggestions": suggestions,
        },
        "messages": [_message_row(m) for m in messages],
        "events": _event_rows(list(case.events.all()), messages),
        "survey": _survey_row(case),
    }


def _survey_row(case: Case) -> dict[str, Any] | None:
    """The case's latest satisfaction survey: when it was sent and answered, and its score."""
    surveys = list(case.surveys.all())
    if not surveys:
        return None
    survey = surveys[-1]
    return {
        "sent": _time(survey.sent_at),
        "answered": _time(survey.answered_at),
        "score": survey.score,
    }


def _event_rows(events: list[CaseEvent], messages: list[Message]) -> list[dict[str, Any]]:
    """The history in platform order: by time, the ``created`` event first (on the case's
    earliest customer message), then events of the same moment in their messages' order."""
    first = next((m for m in messages if m.direction == Message.Direction.INBOUND), None)
    timed = []
    for index, event in enumerate(events):
        row = _event_row(event)
        at, message = event.occurred_at, event.message
        if event.kind == CaseEvent.Kind.CREATED and message is not None and first:
            at, message = first.sent_at, first
            row |= {"at": _time(at), "message": first.external_id}
        order = (message.channel, message.external_id) if message else ("", "")
        timed.append(((at, event.kind != CaseEvent.Kind.CREATED, order, index), row))
    return [row for _, row in sorted(timed, key=lambda item: item[0])]


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
    row: dict[str, Any] = {
        "direction": message.direction,
        "channel": message.channel,
        "external_id": message.external_id,
        "in_reply_to": message.in_reply_to_external_id or None,
        "author": author,
        "subject": message.subject,
        "text": message.full_text or message.text,  # whole, even when stored cut
        "html": message.html,
        "sent_at": _time(message.sent_at),
        "delivery": message.delivery_status or None,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }
    if message.direction == Message.Direction.INBOUND:
        # What ingest's care stages decided, for reviews and checks.
        row |= {
            "spam": bool(message.spam_reason),
            "spam_reason": message.spam_reason or None,
            "sentiment": message.sentiment or None,
            "praise_for": message.praise_for or None,
            "needs_reply": message.needs_reply,
            "incident": _incident_title(message),
        }
    return row


def _incident_title(message: Message) -> str | None:
    """The title of the incident the message was counted in, if any (the incidents app links
    messages to incidents; cases knows it only by its relation's name)."""
    link = getattr(message, "incident_link", None)
    return f"{link.incident.title} (#{link.incident_id})" if link is not None else None


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
