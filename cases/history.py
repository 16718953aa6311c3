"""The case history: every event on a case is appended here, one at a time (``record``) or a
batch at a time (``record_all``), and nothing is ever changed."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from cases.bulk import insert_rows
from cases.models import Case, CaseEvent, Message


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
    return CaseEvent(
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
    return written


def record_all(events: Sequence[CaseEvent]) -> None:
    """Append ``events`` in their order, in one statement; their cases and messages must be
    written first."""
    insert_rows(CaseEvent, events)
