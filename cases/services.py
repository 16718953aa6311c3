"""Writes to the case record that the domain's services share."""

from collections import defaultdict
from datetime import datetime

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from cases import clocks, history
from cases.models import Case, CaseCount, CaseEvent, Message


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


COMPACT_COUNTS = """
WITH gone AS (
    DELETE FROM tickets_casecount RETURNING spam, status, team_key, assignee_key, delta
)
INSERT INTO tickets_casecount (spam, status, team_key, assignee_key, delta)
SELECT spam, status, team_key, assignee_key, sum(delta) FROM gone
GROUP BY spam, status, team_key, assignee_key HAVING sum(delta) <> 0
"""


def compact_case_counts() -> None:
    """Fold the queue counts' rows (``CaseCount``) into one row per combination, so that
    reading them stays a read of a few rows. The sums never change: on PostgreSQL one
    statement takes exactly the rows it folds (rows added meanwhile wait for the next time);
    SQLite has one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(COMPACT_COUNTS)
        return
    with transaction.atomic():
        rows = CaseCount.objects.values_list("spam", "status", "team_key", "assignee_key", "delta")
        totals: dict[tuple[bool, str, int, int], int] = defaultdict(int)
        for spam, status, team, assignee, delta in rows:
            totals[spam, status, team, assignee] += delta
        CaseCount.objects.all().delete()
        CaseCount.objects.bulk_create(
            CaseCount(spam=spam, status=status, team_key=team, assignee_key=assignee, delta=n)
            for (spam, status, team, assignee), n in totals.items()
            if n
        )
