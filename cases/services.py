"""Writes to the case record that the domain's services share."""

from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from cases import clocks, history
from cases.models import Case, CaseEvent, Message


def set_status(case: Case, status: str, *, at: datetime, reason: str) -> dict[str, str]:
    """Move ``case`` (in memory) to ``status`` at ``at``, with the times the move sets; the
    caller writes the row. Returns the status-change event's data."""
    previous = case.status
    case.status = status
    if status == Case.Status.CLOSED:
        case.closed_at = at
    elif status == Case.Status.RESOLVED:
        case.resolved_at = at
    elif status in (Case.Status.OPEN, Case.Status.NEW):
        case.resolved_at = None
    return {"from": previous, "to": status, "reason": reason}


def change_status(
    case: Case,
    status: str,
    *,
    reason: str,
    actor: User | None = None,
    message: Message | None = None,
    at: datetime | None = None,
) -> None:
    """Set the status of a case whose row the caller has locked, and write the history."""
    at = at or timezone.now()
    data = set_status(case, status, at=at, reason=reason)
    case.save(update_fields=["status", "closed_at", "resolved_at"])
    history.record(
        case=case,
        kind=CaseEvent.Kind.STATUS_CHANGED,
        at=at,
        actor=actor,
        message=message,
        data=data,
    )
    clocks.recompute(case)
