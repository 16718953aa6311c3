"""The case history: every event on a case is appended here, and nothing is ever changed."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from cases.models import Case, CaseEvent, Message


def record(
    *,
    case: Case,
    kind: str,
    at: datetime | None = None,
    actor: User | None = None,
    message: Message | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one event to ``case``'s history. ``at`` is when it happened (a customer
    message's platform time; now by default), ``data`` what the timeline and the reports
    need to describe it."""
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        occurred_at=at or timezone.now(),
        actor=actor,
        message=message,
        data=data or {},
    )
