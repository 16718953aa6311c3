"""The backlog and flow dashboard: the cases waiting now, and the cases opened and resolved
on each day of the range."""

import itertools
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Count, F, QuerySet, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import Case, CaseEvent
from reporting.figures import (
    NO_TEAM,
    STATUS_LABELS,
    Cell,
    Column,
    Filters,
    Table,
    _count,
    channel_label,
    opened_cases,
)
from staff.models import Team

BACKLOG_STATUSES = [Case.Status.NEW, Case.Status.OPEN, Case.Status.PENDING]

# (key, label, lower bound of the case's age); the last bucket has no upper bound.
AGE_BUCKETS: list[tuple[str, str, timedelta]] = [
    ("under-1h", "Under 1 hour", timedelta(0)),
    ("1h-4h", "1 to 4 hours", timedelta(hours=1)),
    ("4h-24h", "4 to 24 hours", timedelta(hours=4)),
    ("1d-3d", "1 to 3 days", timedelta(days=1)),
    ("3d-7d", "3 to 7 days", timedelta(days=3)),
    ("over-7d", "Over 7 days", timedelta(days=7)),
]
AGE_LABELS = {key: label for key, label, _ in AGE_BUCKETS}


# The backlog now.


def _age_bucket(now: datetime) -> models.Case:
    whens = [
        models.When(opened_at__gt=now - lower_next, then=Value(key))
        for (key, _, _), (_, _, lower_next) in itertools.pairwise(AGE_BUCKETS)
    ]
    return models.Case(*whens, default=Value(AGE_BUCKETS[-1][0]))


def backlog_cases(filters: Filters) -> QuerySet[Case]:
    return Case.objects.filter(filters.counted_q(), status__in=BACKLOG_STATUSES)


def backlog(filters: Filters, *, now: datetime | None = None) -> list[Table]:
    """Cases waiting now (new, open or pending on the customer) by status, team, channel and
    age. The date range does not apply: this is the backlog at this moment."""
    now = now or timezone.now()
    # One row a status, team, channel and age, counting its cases: a few hundred groups,
    # hashed from the case_backlog index alone (the channel is the one the case row keeps,
    # Case.first_channel); the team names are read apart rather than joined to every case.
    groups = (
        backlog_cases(filters)
        .annotate(channel=F("first_channel"), age=_age_bucket(now))
        .values("status", "team_id", "channel", "age")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    for g in groups:
        by["status"][g["status"]] += g["n"]
        by["team"][g["team_id"]] += g["n"]
        by["channel"][g["channel"]] += g["n"]
        by["age"][g["age"]] += g["n"]
    names = dict(
        Team.objects.filter(pk__in=[t for t in by["team"] if t]).values_list("pk", "name")
    )
    # A team deleted since the grouping has left its cases with none.
    team_names: dict[Any, str] = {t: names.get(t, "No team") for t in by["team"]}
    now_param = {"now": now.isoformat()}

    def table(key: str, title: str, first: str, items: Iterable[tuple[Any, str, str]]) -> Table:
        rows = []
        for item, label, param in items:
            count = _count(by[key][item], {"figure": "backlog", key: param, **now_param})
            if key == "status" and count.selection:
                count = Cell(count.value, count.selection, inbox=_inbox_status(filters, item))
            rows.append([Cell(label), count])
        return Table(f"backlog-{key}", title, [Column(first), Column("Cases", "count")], rows)

    teams = sorted(by["team"], key=lambda t: (t is None, team_names[t].lower()))
    channels = sorted(by["channel"], key=lambda c: (c is None, c or ""))
    return [
        table(
            "status",
            "Backlog by status",
            "Status",
            ((s, STATUS_LABELS[s], s) for s in BACKLOG_STATUSES),
        ),
        table(
            "team",
            "Backlog by team",
            "Team",
            ((t, team_names[t], str(t) if t else NO_TEAM) for t in teams),
        ),
        table(
            "channel",
            "Backlog by channel",
            "Channel",
            ((c, channel_label(c), c or "") for c in channels),
        ),
        table(
            "age",
            "Backlog by age",
            "Age",
            ((key, label, key) for key, label, _ in AGE_BUCKETS),
        ),
    ]


def _inbox_status(filters: Filters, status: str) -> dict[str, str] | None:
    """The inbox query for the backlog cases of ``status``: its queues show live (not spam,
    not folded) cases, "all" the new and open ones; it filters by a team but not by none."""
    if filters.team == NO_TEAM:
        return None
    query = {"queue": "pending"} if status == Case.Status.PENDING else {"queue": "all"}
    if status != Case.Status.PENDING:
        query["status"] = status
    if filters.team:
        query["team"] = filters.team
    return query


# Inflow and resolutions per day.


def _per_day(rows: QuerySet[Any], at: str, *, distinct: bool) -> dict[date, int]:
    """The rows counted by the day of ``at`` (each case once a day if ``distinct``)."""
    days = (
        rows.annotate(day=TruncDate(at, tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("case_id", distinct=distinct))
        .order_by()
    )
    return {row["day"]: row["n"] for row in days}


def resolved_events(filters: Filters) -> QuerySet[CaseEvent]:
    return filters.events(CaseEvent.Kind.STATUS_CHANGED).filter(data__to=Case.Status.RESOLVED)


def flow(filters: Filters) -> Table:
    """Cases opened and cases resolved on each day of the range."""
    opened = _per_day(opened_cases(filters), "opened_at", distinct=False)
    resolved = _per_day(resolved_events(filters), "occurred_at", distinct=True)
    rows = []
    for day in filters.days():
        param = day.isoformat()
        rows.append(
            [
                Cell(day, text=day.strftime("%a %d %b")),
                _count(opened.get(day, 0), {"figure": "opened", "day": param}),
                _count(resolved.get(day, 0), {"figure": "resolved", "day": param}),
            ]
        )
    return Table(
        "flow",
        "Inflow and resolutions per day",
        [Column("Day"), Column("Opened", "count"), Column("Resolved", "count")],
        rows,
        note="Cases opened that day, and cases resolved that day (each case once a day).",
    )
