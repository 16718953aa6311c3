"""The case history: every event on a case is appended here, one at a time (``record``) or a
batch at a time (``record_all``), and nothing is ever changed but by a customer's erasure
(``erase_typed_text``). Recording an event also rewrites the roll-up the dashboards read
(``cases.rollup``) of the cases it may change, and writes the agents' roll-up rows it
counts for, in the same transaction, and sends
``cases.signals.events_recorded`` (outbound webhooks listen)."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from cases import rollup
from cases.bulk import RowMaker, insert_rows
from cases.models import Case, CaseEvent, Message
from cases.signals import events_recorded

_new_event = RowMaker(CaseEvent)


def event(
    *,
    case: Case,
    kind: str,
    at: datetime | None = None,
    actor: User | None = None,
    message: Message | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """One event on ``case``, not yet written. ``at`` is when it happened (a customer
    message's platform time; now by default), ``data`` what the timeline and the reports
    need to describe it."""
    return _new_event(
        case=case,
        kind=kind,
        occurred_at=at or timezone.now(),
        actor=actor,
        message=message,
        data=data or {},
    )


def record(**fields: Any) -> CaseEvent:
    """Append one event (the arguments of ``event``) to its case's history."""
    written = event(**fields)
    written.save()
    if written.kind in rollup.CHANGES_ROLLUP:
        rollup.refresh([written.case_id])
    rollup.record_activities([written])
    events_recorded.send(sender=CaseEvent, events=[written])
    return written


def record_all(events: Sequence[CaseEvent], *, rollups_of: Iterable[int] = ()) -> None:
    """Append ``events`` in their order, in one statement; their cases and messages must be
    written first. ``rollups_of``: cases whose roll-up may change besides those the events'
    kinds say (``rollup.CHANGES_ROLLUP``)."""
    insert_rows(CaseEvent, events)
    changed = {e.case_id for e in events if e.kind in rollup.CHANGES_ROLLUP}
    rollup.refresh(changed.union(rollups_of))
    rollup.record_activities(events)
    events_recorded.send(sender=CaseEvent, events=list(events))


ERASED = "[erased]"
# What staff type into an event that may quote or name the customer, by kind.
TYPED_TEXT: dict[str, tuple[str, ...]] = {
    CaseEvent.Kind.HANDED_OFF: ("note",),
    CaseEvent.Kind.REASSIGNED: ("note",),
    CaseEvent.Kind.CUSTOMERS_MERGED: ("reason",),
}


def erase_typed_text(*, case_ids: Sequence[int]) -> int:
    """Replace what staff typed into the history of ``case_ids`` with ``ERASED``; returns how
    many events changed. The one change history allows, made only by a customer's erasure: on
    PostgreSQL the trigger lets it through while ``careinbox.erasing`` is on, which this sets
    for its own statement and clears before returning (migration ``0006_history_erasure``)."""
    changed = []
    for written in CaseEvent.objects.filter(case__in=case_ids, kind__in=list(TYPED_TEXT)):
        keys = [key for key in TYPED_TEXT[written.kind] if written.data.get(key)]
        if keys:
            written.data = written.data | dict.fromkeys(keys, ERASED)
            changed.append(written)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('careinbox.erasing', 'on', true)")
        CaseEvent.objects.bulk_update(changed, ["data"])
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('careinbox.erasing', 'off', true)")
    return len(changed)
