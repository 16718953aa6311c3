"""The response times dashboard: first response and resolution times, p50 and p90, of the
cases opened in the range, per channel and per team.

Percentiles are ``percentile_cont`` (linear interpolation): computed by PostgreSQL itself, and
by the same definition in Python on other databases.
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet

from reporting.figures import (
    NO_TEAM,
    Cell,
    Column,
    Filters,
    Selection,
    Table,
    _count,
    channel_label,
    opened_cases,
)

# Response and resolution times: the consistency view.


def cohort(filters: Filters) -> QuerySet[Any, Any]:
    """One row per counted case opened in the range: when it opened, its channel and team, and
    when it was first answered and first resolved (``None`` if not yet). The team is its
    roll-up's copy of the case's, named from the few teams, so no case row is read."""
    return (
        opened_cases(filters)
        .values(
            case_ref=F("case_id"),
            opened=F("opened_at"),
            team_ref=F("team_id"),
            team_name=F("team__name"),
            channel=F("first_channel"),
            first_reply=F("first_reply_at"),
            first_resolved=F("first_resolved_at"),
        )
        .order_by()
    )


@dataclass
class Times:
    """First response and resolution times of one group of cases, in seconds."""

    opened: int = 0
    answered: int = 0
    first_response_p50: float | None = None
    first_response_p90: float | None = None
    resolved: int = 0
    resolution_p50: float | None = None
    resolution_p90: float | None = None


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont`` of sorted ``values``: linear interpolation between the
    two nearest ranks."""
    if not values:
        return None
    position = fraction * (len(values) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


TIMES_SQL = """
WITH cohort AS ({cohort})
SELECT GROUPING(channel) = 1, channel, team_ref, max(team_name), count(*),
    count(first_reply),
    percentile_cont(ARRAY[0.5, 0.9])
        WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_reply - opened)),
    count(first_resolved),
    percentile_cont(ARRAY[0.5, 0.9])
        WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_resolved - opened))
FROM cohort
GROUP BY GROUPING SETS ((channel), (team_ref))
"""


def _times_postgresql(filters: Filters) -> tuple[dict, dict, dict]:
    sql, params = cohort(filters).query.sql_with_params()
    by_channel: dict[str | None, Times] = {}
    by_team: dict[int | None, Times] = {}
    team_names: dict[int | None, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(TIMES_SQL.format(cohort=sql), params)
        for by_team_row, channel, team, team_name, *numbers in cursor.fetchall():
            opened, answered, first_response, resolved, resolution = numbers
            times = Times(opened, answered, *_pair(first_response), resolved, *_pair(resolution))
            if by_team_row:
                by_team[team] = times
                team_names[team] = team_name or "No team"
            else:
                by_channel[channel] = times
    return by_channel, by_team, team_names


def _pair(percentiles: list[float | None] | None) -> tuple[float | None, float | None]:
    """The p50 and p90 of one ``percentile_cont`` over both fractions: one sort of the
    group's times for the two; ``None`` for a group without any."""
    if percentiles is None:
        return None, None
    p50, p90 = percentiles
    return p50, p90


def _times_python(filters: Filters) -> tuple[dict, dict, dict]:
    groups: dict[tuple[str, Any], dict[str, list[float]]] = defaultdict(
        lambda: {"opened": [], "reply": [], "resolved": []}
    )
    team_names: dict[int | None, str] = {}
    for row in cohort(filters):
        team_names[row["team_ref"]] = row["team_name"] or "No team"
        for key in (("channel", row["channel"]), ("team", row["team_ref"])):
            group = groups[key]
            group["opened"].append(0)
            for name, at in (("reply", row["first_reply"]), ("resolved", row["first_resolved"])):
                if at is not None:
                    group[name].append((at - row["opened"]).total_seconds())
    by: dict[str, dict[Any, Times]] = {"channel": {}, "team": {}}
    for (dimension, key), group in groups.items():
        reply, resolved = sorted(group["reply"]), sorted(group["resolved"])
        by[dimension][key] = Times(
            opened=len(group["opened"]),
            answered=len(reply),
            first_response_p50=percentile_cont(reply, 0.5),
            first_response_p90=percentile_cont(reply, 0.9),
            resolved=len(resolved),
            resolution_p50=percentile_cont(resolved, 0.5),
            resolution_p90=percentile_cont(resolved, 0.9),
        )
    return by["channel"], by["team"], team_names


TIMES_COLUMNS = [
    Column("Opened", "count"),
    Column("Answered", "count"),
    Column("First response p50", "duration"),
    Column("First response p90", "duration"),
    Column("Resolved", "count"),
    Column("Resolution p50", "duration"),
    Column("Resolution p90", "duration"),
]


def _times_row(label: Cell, times: Times, key: Selection) -> list[Cell]:
    opened = {"figure": "cohort", **key}
    answered = {"figure": "first-response", **key}
    resolved = {"figure": "resolution", **key}
    return [
        label,
        _count(times.opened, opened),
        _count(times.answered, answered),
        Cell(times.first_response_p50, answered if times.answered else None),
        Cell(times.first_response_p90, answered if times.answered else None),
        _count(times.resolved, resolved),
        Cell(times.resolution_p50, resolved if times.resolved else None),
        Cell(times.resolution_p90, resolved if times.resolved else None),
    ]


def response_times(filters: Filters) -> list[Table]:
    """First response and first resolution times, p50 and p90, per channel and per team, of
    the cases opened in the range."""
    if connection.vendor == "postgresql":
        by_channel, by_team, team_names = _times_postgresql(filters)
    else:
        by_channel, by_team, team_names = _times_python(filters)
    note = (
        "Cases opened in the range. First response: from the customer's first message to the "
        "first reply sent. Resolution: to the first time the case was resolved. Wall-clock "
        "time, not business hours."
    )
    channels = sorted(by_channel, key=lambda c: (c is None, c or ""))
    teams = sorted(by_team, key=lambda t: (t is None, team_names[t].lower()))
    return [
        Table(
            "times-channel",
            "Response times per channel",
            [Column("Channel"), *TIMES_COLUMNS],
            [
                _times_row(Cell(channel_label(c)), by_channel[c], {"channel": c or ""})
                for c in channels
            ],
            note=note,
        ),
        Table(
            "times-team",
            "Response times per team",
            [Column("Team"), *TIMES_COLUMNS],
            [
                _times_row(Cell(team_names[t]), by_team[t], {"team": str(t) if t else NO_TEAM})
                for t in teams
            ],
            note=note,
        ),
    ]
