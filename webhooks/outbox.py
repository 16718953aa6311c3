"""Turning recorded case events into deliveries, in the transaction that records them.

The rows are the outbox: they commit or roll back with the events. Only after the commit is
each handed to a worker, and the HTTP call happens there (``webhooks.delivery``), so a slow
or dead receiver never holds up ingest or a request. Without a broker (tasks run eagerly in
the calling process) nothing is handed over: the periodic sweep sends them instead."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import CaseEvent
from webhooks.events import event_name
from webhooks.models import Delivery, Endpoint
from webhooks.tasks import deliver_task


def queue_deliveries(sender: Any, *, events: Sequence[CaseEvent], **kwargs: Any) -> None:
    """Receiver of ``cases.signals.events_recorded``: a delivery for every endpoint
    subscribed to each event. One query for the endpoints, one insert, whatever the batch."""
    named = [(name, event) for event in events if (name := event_name(event))]
    if not named:
        return
    endpoints = list(Endpoint.objects.filter(active=True).only("pk", "events"))
    if not endpoints:
        return
    now = timezone.now()
    deliveries = []
    for name, event in named:
        for endpoint in endpoints:
            if name in endpoint.events:
                delivery = Delivery(
                    endpoint=endpoint,
                    event=name,
                    case_id=event.case_id,
                    next_attempt_at=now,
                )
                delivery.payload = payload(delivery, event)
                deliveries.append(delivery)
    if not deliveries:
        return
    Delivery.objects.bulk_create(deliveries)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        ids = [str(d.pk) for d in deliveries]
        transaction.on_commit(lambda: hand_to_workers(ids))


def hand_to_workers(delivery_ids: list[str]) -> None:
    for delivery_id in delivery_ids:
        deliver_task.delay(delivery_id)


def payload(delivery: Delivery, event: CaseEvent) -> dict[str, Any]:
    """The body sent for ``event``, from the objects in memory (the event's case, message and
    actor are those history was given)."""
    case, message, actor = event.case, event.message, event.actor
    return {
        "id": str(delivery.pk),
        "event": delivery.event,
        "occurred_at": event.occurred_at.isoformat(),
        "case": {
            "id": case.pk,
            "status": case.status,
            "priority": case.priority,
            "team_id": case.team_id,
            "assignee_id": case.assignee_id,
            "customer_id": case.customer_id,
        },
        "message": None
        if message is None
        else {
            "id": message.pk,
            "platform": message.channel.partition(".")[0],
            "direction": message.direction,
            "text": message.text,
        },
        "actor": None if actor is None else actor.get_username(),
        "data": event.data,
    }
