"""Customer satisfaction: the surveys sent in the range (``casework.surveys``), per agent
(whose case it was when it was resolved), team and channel: how many were answered, the
average score (1-5) and the CSAT, the share of answers scoring 4 or 5."""

from collections.abc import Callable
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from cases.models import Survey
from reporting.agents import agent_names
from reporting.figures import Cell, Column, Filters, Table, channel_label
from staff.models import Team

COLUMNS = [
    Column("Surveys sent", "count"),
    Column("Answered", "count"),
    Column("Response rate", "percent"),
    Column("Average score", "text"),
    Column("CSAT", "percent"),
]
NOTE = (
    "Surveys sent in the range on counted cases (spam and merged cases are left out), by the "
    "case's agent and team when it was resolved. Response rate: answered of sent. Average "
    "score: from 1 to 5. CSAT: the share of answers scoring 4 or 5."
)


def sent_surveys(filters: Filters) -> QuerySet[Survey]:
    return Survey.objects.filter(
        filters.counted_q("case__"), sent_at__gte=filters.since, sent_at__lt=filters.until
    )


def satisfaction(filters: Filters) -> list[Table]:
    """Three tables, a row an agent, team or channel, and a total row each."""
    return [
        _table(filters, "agents", "Agent", "agent", agent_names),
        _table(filters, "teams", "Team", "team", _team_names),
        _table(filters, "channels", "Channel", "channel", _channel_labels),
    ]


def _table(
    filters: Filters, per: str, by: str, field: str, labels: Callable[[set[Any]], dict[Any, str]]
) -> Table:
    answered = Q(answered_at__isnull=False)
    rows = (
        sent_surveys(filters)
        .values(field)
        .annotate(
            sent=Count("pk"),
            answered=Count("pk", filter=answered),
            average=Avg("score", filter=answered),
            happy=Count("pk", filter=answered & Q(score__gte=4)),
        )
        .order_by()
    )
    found = {row[field]: row for row in rows}
    names = labels({k for k in found if k is not None})
    body = [
        _cells(names.get(k, f"No {by.lower()}"), found[k])
        for k in sorted(found, key=lambda k: (k is None, str(names.get(k, "")).lower()))
    ]
    if body:
        total: dict[str, Any] = {
            name: sum(row[name] for row in found.values())
            for name in ("sent", "answered", "happy")
        }
        scored = [(row["average"], row["answered"]) for row in found.values() if row["average"]]
        weight = sum(n for _, n in scored)
        total["average"] = sum(a * n for a, n in scored) / weight if weight else None
        body.append(_cells("All", total))
    return Table(
        f"satisfaction-{per}",
        f"Satisfaction per {by.lower()}",
        [Column(by), *COLUMNS],
        body,
        note=NOTE,
    )


def _cells(label: str, row: dict[str, Any]) -> list[Cell]:
    sent, answered = row["sent"], row["answered"]
    average = row["average"]
    return [
        Cell(label),
        Cell(sent),
        Cell(answered),
        Cell(100 * answered / sent if sent else None),
        Cell(
            round(average, 2) if average is not None else None,
            text=f"{average:.1f}" if average is not None else "—",
        ),
        Cell(100 * row["happy"] / answered if answered else None),
    ]


def _team_names(keys: set[int]) -> dict[int, str]:
    return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))


def _channel_labels(keys: set[str]) -> dict[str, str]:
    return {key: channel_label(key) for key in keys}
