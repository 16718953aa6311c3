"""The agents dashboard: per agent, the cases they hold now and what they did in the range."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, QuerySet

from cases.models import AgentActivity, Case
from reporting.backlog import backlog_cases
from reporting.figures import Cell, Column, Filters, Table, _count
from staff.names import display_name


@dataclass(frozen=True)
class AgentMeasure:
    """One column of the agents table: the roll-up's measure (``AgentActivity.Measure``)."""

    figure: str
    title: str


AGENT_MEASURES = [AgentMeasure(m.value, m.label) for m in AgentActivity.Measure]


def activity(filters: Filters, *measures: str) -> QuerySet[AgentActivity]:
    """The roll-up rows of these measures (every measure if none) in the range, on counted
    cases."""
    rows = AgentActivity.objects.filter(
        filters.counted_rows_q(), occurred_at__gte=filters.since, occurred_at__lt=filters.until
    )
    return rows.filter(measure__in=measures) if measures else rows


def holding_cases(filters: Filters) -> QuerySet[Case]:
    return backlog_cases(filters).filter(assignee__isnull=False)


def agents(filters: Filters) -> Table:
    """Per agent: the cases they hold now, and in the range the cases they took on (claimed
    or were given), replied on, resolved, handed off and received by hand-off. Each figure
    counts cases, each case once."""
    counts: dict[str, dict[int, int]] = {m.figure: {} for m in AGENT_MEASURES}
    holding = holding_cases(filters).values("assignee_id").annotate(n=Count("pk")).order_by()
    counts["holding"] = {row["assignee_id"]: row["n"] for row in holding}
    for measure, agent, n in _cases_per_measure_and_agent(filters):
        counts[measure][agent] = n
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


def _cases_per_measure_and_agent(filters: Filters) -> list[tuple[str, int, int]]:
    """(measure, agent, cases) for the range: one statement, grouping the distinct
    (measure, agent, case) rows (a hash of them, where counting distinct cases per group
    would sort every row)."""
    distinct = activity(filters).values("measure", "agent_id", "case_id").distinct().order_by()
    sql, params = distinct.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT measure, agent_id, COUNT(*) FROM ({sql}) AS done GROUP BY measure, agent_id",
            params,
        )
        return list(cursor.fetchall())
