"""The agents dashboard: per agent, the cases they hold now and what they did in the range."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Count, F, QuerySet

from cases.models import Case, CaseEvent
from reporting.backlog import backlog_cases
from reporting.figures import Cell, Column, Filters, Table, _count
from staff.names import display_name

# Events that give a case to an agent; each holds the receiver in ``data["to"]``.
TAKING_KINDS = [CaseEvent.Kind.CLAIMED, CaseEvent.Kind.HANDED_OFF, CaseEvent.Kind.REASSIGNED]


@dataclass(frozen=True)
class AgentMeasure:
    """One column of the agents table: which events count, and who they count for."""

    figure: str
    title: str
    kinds: tuple[str, ...]
    # "actor": the person who acted; "to": the person the case was given to.
    who: str
    resolved_only: bool = False


AGENT_MEASURES = [
    AgentMeasure("taken-on", "Taken on", tuple(TAKING_KINDS), "to"),
    AgentMeasure("replied", "Replied on", (CaseEvent.Kind.REPLY_SENT,), "actor"),
    AgentMeasure(
        "resolved-by", "Resolved", (CaseEvent.Kind.STATUS_CHANGED,), "actor", resolved_only=True
    ),
    AgentMeasure("handed-off", "Handed off", (CaseEvent.Kind.HANDED_OFF,), "actor"),
    AgentMeasure("handed-to", "Received hand-offs", (CaseEvent.Kind.HANDED_OFF,), "to"),
]


def agent_events(filters: Filters, measure: AgentMeasure) -> QuerySet[Any]:
    """The measure's events in the range, annotated with ``agent``: whom they count for."""
    events = filters.events(*measure.kinds)
    if measure.resolved_only:
        events = events.filter(data__to=Case.Status.RESOLVED)
    if measure.who == "actor":
        return events.filter(actor__isnull=False).annotate(agent=F("actor_id"))
    return events.filter(data__to__isnull=False).annotate(
        agent=models.functions.Cast(
            models.fields.json.KeyTextTransform("to", "data"), models.BigIntegerField()
        )
    )


def holding_cases(filters: Filters) -> QuerySet[Case]:
    return backlog_cases(filters).filter(assignee__isnull=False)


def agents(filters: Filters) -> Table:
    """Per agent: the cases they hold now, and in the range the cases they took on (claimed
    or were given), replied on, resolved, handed off and received by hand-off. Each figure
    counts cases, each case once."""
    counts: dict[str, dict[int, int]] = {}
    holding = holding_cases(filters).values("assignee_id").annotate(n=Count("pk")).order_by()
    counts["holding"] = {row["assignee_id"]: row["n"] for row in holding}
    for measure in AGENT_MEASURES:
        rows = (
            agent_events(filters, measure)
            .values("agent")
            .annotate(n=Count("case_id", distinct=True))
            .order_by()
        )
        counts[measure.figure] = {row["agent"]: row["n"] for row in rows}
    names = agent_names({agent for figure in counts.values() for agent in figure})
    figures = ["holding", *(m.figure for m in AGENT_MEASURES)]
    table_rows = [
        [
            Cell(names[agent]),
            *(
                _count(counts[figure].get(agent, 0), {"figure": figure, "agent": str(agent)})
                for figure in figures
            ),
        ]
        for agent in sorted(names, key=lambda a: names[a].lower())
    ]
    return Table(
        "agents",
        "Cases per agent",
        [
            Column("Agent"),
            Column("Holding now", "count"),
            *(Column(m.title, "count") for m in AGENT_MEASURES),
        ],
        table_rows,
        note=(
            "Holding now: open, new and pending cases assigned to them at this moment. The "
            "other columns count cases in the range: taken on by claiming, a hand-off or a "
            "reassignment; replied on; resolved; handed off by them; handed off to them."
        ),
    )


def agent_names(user_ids: Iterable[int]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=list(user_ids)).select_related("agent_profile")
    return {user.pk: display_name(user) for user in users}
