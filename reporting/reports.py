"""Dashboard reads: the figures managers and supervisors watch, and the cases behind each one.

Every figure over time is computed from the case history (``CaseEvent``), the single source of
truth; the backlog "now" reads the case rows, which each event's transaction keeps in step. The
rules every figure shares:

- A case counts unless it is marked spam or was folded into another by a merge.
- A case's channel is the channel of its earliest customer message; its team is its current
  team; the team filter selects by it.
- Days are calendar days in the current time zone; durations are wall-clock time from the
  case's creation (its ``created`` event).
- Each cell of a table carries a ``Selection``: the query, understood by ``cases_behind``, for
  exactly the cases the cell counts, so a figure and its list of cases always agree.

Percentiles are ``percentile_cont`` (linear interpolation): computed by PostgreSQL itself, and
by the same definition in Python on other databases.
"""

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from cases.models import Case, CaseEvent, Message, SLABreach
from channels.kinds import KINDS
from sla.models import SLAPolicy
from staff.names import display_name

BACKLOG_STATUSES = [Case.Status.NEW, Case.Status.OPEN, Case.Status.PENDING]
DEFAULT_DAYS = 30
MAX_DAYS = 366
NO_TEAM = "none"
NO_POLICY = "none"
HANDOFFS_PER_PAGE = 50
SAMPLE_SIZE = 10

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
STATUS_LABELS = dict(Case.Status.choices)

# A hand-off's outcome: the first event after it on the case that decides what became of it,
# or none yet. Keyed by that event's kind, or the status it set; the keys are the hand-off
# log's ``outcome`` filter.
NOT_YET = "none"
OUTCOME_LABELS = {
    Case.Status.RESOLVED.value: "Resolved",
    CaseEvent.Kind.HANDED_OFF.value: "Handed on",
    CaseEvent.Kind.REASSIGNED.value: "Reassigned",
    CaseEvent.Kind.RELEASED.value: "Released to the queue",
    Case.Status.CLOSED.value: "Closed",
    NOT_YET: "Nothing yet",
}
# Events that give a case to an agent; each holds the receiver in ``data["to"]``.
TAKING_KINDS = [CaseEvent.Kind.CLAIMED, CaseEvent.Kind.HANDED_OFF, CaseEvent.Kind.REASSIGNED]

Selection = dict[str, str]


class BadSelection(ValueError):
    """A cases-behind query names no figure, or a value the figure does not have."""


@contextmanager
def without_jit() -> Iterator[None]:
    """Within the block, PostgreSQL plans without JIT compilation. It compiles every plan
    estimated above ``jit_above_cost`` with LLVM, and for these one-off report queries that
    takes longer than running them: a second of the backlog's 1.4 s at 200,000 cases."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


# Filters.


@dataclass(frozen=True)
class Filters:
    """The date range (whole days, both ends included) and the team a dashboard shows."""

    start: date
    end: date
    # "" for every team, NO_TEAM for cases without one, else a team id.
    team: str = ""

    @classmethod
    def default(cls, *, today: date | None = None, team: str = "") -> "Filters":
        end = today or timezone.localdate()
        return cls(start=end - timedelta(days=DEFAULT_DAYS - 1), end=end, team=team)

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        """The first moment after the range."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def query(self) -> dict[str, str]:
        """The filters as query parameters."""
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.team:
            params["team"] = self.team
        return params

    def team_q(self, prefix: str = "") -> Q:
        if not self.team:
            return Q()
        if self.team == NO_TEAM:
            return Q(**{f"{prefix}team__isnull": True})
        return Q(**{f"{prefix}team_id": int(self.team)})

    def counted_q(self, prefix: str = "") -> Q:
        """The cases every figure counts, within the team filter."""
        return Q(**{f"{prefix}spam": False, f"{prefix}merged_into__isnull": True}) & self.team_q(
            prefix
        )

    def events(self, *kinds: str) -> QuerySet[CaseEvent]:
        """Events of these kinds in the range, on counted cases."""
        return CaseEvent.objects.filter(
            self.counted_q("case__"),
            kind__in=kinds,
            occurred_at__gte=self.since,
            occurred_at__lt=self.until,
        )


# Tables: what a dashboard shows, what its CSV holds, and the cases behind each cell.


@dataclass(frozen=True)
class Column:
    title: str
    # "text", "count", "duration" (seconds), "percent" or "time" (an aware datetime).
    kind: str = "text"


@dataclass(frozen=True)
class Cell:
    value: Any
    selection: Selection | None = None
    # Shown instead of the value where it reads better (a name for an id, say).
    text: str | None = None
    # Where the cell leads when it is not a set of cases (a single case, say).
    case_id: int | None = None
    # The inbox query showing the same cases, where the inbox can.
    inbox: dict[str, str] | None = None
    # The hand-off log query showing the hand-offs a cell counts.
    log: dict[str, str] | None = None


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def column(self, title: str) -> list[Cell]:
        index = [c.title for c in self.columns].index(title)
        return [row[index] for row in self.rows]


def _count(value: int, selection: Selection) -> Cell:
    return Cell(value, selection if value else None)


# The backlog now.


def _first_channel(case_ref: str = "pk") -> Subquery:
    """The channel of the case's earliest customer message."""
    return Subquery(
        Message.objects.filter(case_id=OuterRef(case_ref), direction=Message.Direction.INBOUND)
        .order_by("sent_at", "pk")
        .values("channel")[:1]
    )


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
    groups = (
        backlog_cases(filters)
        .annotate(channel=_first_channel(), age=_age_bucket(now))
        .values("status", "team_id", "team__name", "channel", "age")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    team_names: dict[Any, str] = {}
    for g in groups:
        by["status"][g["status"]] += g["n"]
        by["team"][g["team_id"]] += g["n"]
        by["channel"][g["channel"]] += g["n"]
        by["age"][g["age"]] += g["n"]
        team_names[g["team_id"]] = g["team__name"] or "No team"
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


def channel_label(channel: str | None) -> str:
    if not channel:
        return "No customer message"
    kind = KINDS.get(channel)
    return kind.label if kind else channel


# Inflow and resolutions per day.


def _per_day(events: QuerySet[CaseEvent]) -> dict[date, int]:
    rows = (
        events.annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("case_id", distinct=True))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def opened_events(filters: Filters) -> QuerySet[CaseEvent]:
    return filters.events(CaseEvent.Kind.CREATED)


def resolved_events(filters: Filters) -> QuerySet[CaseEvent]:
    return filters.events(CaseEvent.Kind.STATUS_CHANGED).filter(data__to=Case.Status.RESOLVED)


def flow(filters: Filters) -> Table:
    """Cases opened and cases resolved on each day of the range."""
    opened, resolved = _per_day(opened_events(filters)), _per_day(resolved_events(filters))
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


# Response and resolution times: the consistency view.


def cohort(filters: Filters) -> QuerySet[Any, Any]:
    """One row per counted case opened in the range: when it opened, its channel and team, and
    when it was first answered and first resolved (``None`` if not yet)."""
    first = {
        "first_reply": CaseEvent.objects.filter(
            case_id=OuterRef("case_id"), kind=CaseEvent.Kind.REPLY_SENT
        ),
        "first_resolved": CaseEvent.objects.filter(
            case_id=OuterRef("case_id"),
            kind=CaseEvent.Kind.STATUS_CHANGED,
            data__to=Case.Status.RESOLVED,
        ),
    }
    return (
        opened_events(filters)
        .values(
            case_ref=F("case_id"),
            opened=F("occurred_at"),
            team_ref=F("case__team_id"),
            team_name=F("case__team__name"),
            channel=_first_channel("case_id"),
            **{
                name: Subquery(events.order_by("occurred_at").values("occurred_at")[:1])
                for name, events in first.items()
            },
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
    percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_reply - opened)),
    percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_reply - opened)),
    count(first_resolved),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_resolved - opened)),
    percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_resolved - opened))
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
            opened, answered, fr50, fr90, resolved, res50, res90 = numbers
            times = Times(
                opened,
                answered,
                _float(fr50),
                _float(fr90),
                resolved,
                _float(res50),
                _float(res90),
            )
            if by_team_row:
                by_team[team] = times
                team_names[team] = team_name or "No team"
            else:
                by_channel[channel] = times
    return by_channel, by_team, team_names


def _float(value: Any) -> float | None:
    """PostgreSQL's numeric arrives as a Decimal."""
    return None if value is None else float(value)


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


# Service levels.

SLA_TARGETS = [
    # (breach target, column title, the policy's field, whether only answered cases count)
    (SLABreach.Target.FIRST_RESPONSE, "First response", "first_response_minutes", False),
    (SLABreach.Target.NEXT_RESPONSE, "Next response", "next_response_minutes", True),
    (SLABreach.Target.RESOLUTION, "Resolution", "resolution_minutes", False),
]


def _case_policy() -> Coalesce:
    """The policy of the case of a ``created`` event: the one its clocks follow; for a closed
    case, whose policy is cleared with its clocks, the one its team and priority choose by
    the rule of ``cases.clocks.policy_for`` (team and priority, team, priority, every case)."""
    chosen = SLAPolicy.objects.filter(
        Q(team__isnull=True) | Q(team=OuterRef("case__team_id")),
        Q(priority="") | Q(priority=OuterRef("case__priority")),
    ).order_by(F("team_id").asc(nulls_last=True), "-priority")
    return Coalesce("case__sla_policy_id", Subquery(chosen.values("pk")[:1]))


def sla_cases(filters: Filters) -> QuerySet[Any, Any]:
    """The counted cases opened in the range, each with its ``policy`` (id or ``None``),
    whether it was ``answered``, and whether each target was breached (``<target>``)."""

    def later(kind: str, **data: str) -> Exists:
        # Nothing happens to a case before it opens: bounding the time lets the database
        # read only the range's events of the kind, not the whole history's.
        return Exists(
            CaseEvent.objects.filter(
                case_id=OuterRef("case_id"), kind=kind, occurred_at__gte=filters.since, **data
            )
        )

    return opened_events(filters).annotate(
        policy=_case_policy(),
        answered=later(CaseEvent.Kind.REPLY_SENT),
        **{
            target.value: later(CaseEvent.Kind.SLA_BREACHED, data__target=target.value)
            for target, _, _, _ in SLA_TARGETS
        },
    )


def sla_attainment(filters: Filters) -> Table:
    """Per SLA policy, of the cases opened in the range: how many missed each target (the
    breach check recorded a breach) and the share that met it."""
    groups = (
        sla_cases(filters)
        .values("policy")
        .annotate(
            cases=Count("pk"),
            answered_cases=Count("pk", filter=Q(answered=True)),
            **{
                f"{target.value}_breached": Count(
                    "pk",
                    filter=Q(**{target.value: True}, **({"answered": True} if answered else {})),
                )
                for target, _, _, answered in SLA_TARGETS
            },
        )
        .order_by()
    )
    found = {group["policy"]: group for group in groups}
    policies = {p.pk: p for p in SLAPolicy.objects.filter(pk__in=[k for k in found if k])}
    ordered = sorted(policies.values(), key=lambda p: p.name.lower())
    rows = []
    for policy in [*ordered, None]:
        group = found.get(policy.pk if policy else None)
        if group is None:
            continue
        key = {"policy": str(policy.pk) if policy else NO_POLICY}
        row = [
            Cell(policy.name if policy else "No policy"),
            _count(group["cases"], {"figure": "sla", **key}),
        ]
        for target, _, field_name, answered in SLA_TARGETS:
            of = group["answered_cases"] if answered else group["cases"]
            breached = group[f"{target.value}_breached"]
            has_target = policy is not None and getattr(policy, field_name) is not None
            row += [
                _count(breached, {"figure": "sla-breached", "target": target.value, **key}),
                Cell(100 * (of - breached) / of if has_target and of else None),
            ]
        rows.append(row)
    columns = [Column("Policy"), Column("Cases", "count")]
    for _, title, _, _ in SLA_TARGETS:
        columns += [Column(f"{title} missed", "count"), Column(f"{title} met", "percent")]
    return Table(
        "sla",
        "SLA attainment per policy",
        columns,
        rows,
        note=(
            "Cases opened in the range, by the policy they follow. Missed: the breach check "
            "recorded a breach of that target. Met: the share of the cases (for the next "
            "response, of the answered cases) without one, including cases whose clock still "
            "runs."
        ),
    )


# Agents.


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


# The hand-off log.


def _name(user: str) -> Coalesce:
    """A user's display name: their agent profile's, else their username."""
    return Coalesce(NullIf(f"{user}__agent_profile__display_name", Value("")), f"{user}__username")


def _json_text(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def _after_hand_off(
    select: str, where: str, params: Sequence[str], output: models.Field | None = None
) -> RawSQL:
    """``select`` of the first event ``e`` after the hand-off of the outer query on its case
    that meets ``where``. Written as SQL: the ORM takes longer to compile the equivalent
    expressions (some 15 ms a query) than the database takes to run them."""
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    return RawSQL(
        f"(SELECT {select} FROM {table} e WHERE e.case_id = {table}.case_id "
        f"AND (e.occurred_at > {table}.occurred_at "
        f"OR (e.occurred_at = {table}.occurred_at AND e.id > {table}.id)) "
        f"AND {where} ORDER BY e.occurred_at, e.id LIMIT 1)",
        params,
        output_field=output or models.CharField(),
    )


def _handoffs(filters: Filters, outcome: str | None = None) -> QuerySet[Any, Any]:
    """Hand-offs in the range, annotated with the id (``outcome_id``) of the event that
    decided what happened next and its key in ``OUTCOME_LABELS`` (``outcome``), and the id
    of the first reply after it (``reply_id``); only those with ``outcome`` if given."""
    status = _json_text("e.data", "to")
    decisive = (
        f"(e.kind IN (%s, %s, %s) OR (e.kind = %s AND {status} IN (%s, %s)))",
        [
            CaseEvent.Kind.HANDED_OFF,
            CaseEvent.Kind.REASSIGNED,
            CaseEvent.Kind.RELEASED,
            CaseEvent.Kind.STATUS_CHANGED,
            Case.Status.RESOLVED,
            Case.Status.CLOSED,
        ],
    )
    key = f"CASE WHEN e.kind = %s THEN {status} ELSE e.kind END"
    events: QuerySet[Any, Any] = filters.events(CaseEvent.Kind.HANDED_OFF).annotate(
        outcome_id=_after_hand_off("e.id", *decisive, models.BigIntegerField()),
        outcome=Coalesce(
            _after_hand_off(key, decisive[0], [CaseEvent.Kind.STATUS_CHANGED, *decisive[1]]),
            Value(NOT_YET),
        ),
        reply_id=_after_hand_off(
            "e.id", "e.kind = %s", [CaseEvent.Kind.REPLY_SENT], models.BigIntegerField()
        ),
    )
    if outcome is not None:
        events = events.filter(outcome=outcome)
    return events


def handoff_events(filters: Filters, outcome: str | None = None) -> QuerySet[Any, Any]:
    """The hand-offs of ``_handoffs`` as rows for the log, newest first."""
    return (
        _handoffs(filters, outcome)
        .values(
            "pk",
            "occurred_at",
            "case_id",
            "data",
            "outcome_id",
            "reply_id",
            actor_name=_name("actor"),
            case_status=F("case__status"),
            holder_name=_name("case__assignee"),
        )
        .order_by("-occurred_at", "-pk")
    )


def handoff_outcomes(filters: Filters) -> Table:
    """How many hand-offs of the range ended each way."""
    groups = _handoffs(filters).values("outcome").annotate(n=Count("pk")).order_by()
    counts = {group["outcome"]: group["n"] for group in groups}
    total = sum(counts.values())
    rows = [
        [
            Cell(label),
            Cell(counts.get(key, 0), log={"outcome": key} if counts.get(key) else None),
            Cell(100 * counts.get(key, 0) / total if total else None),
        ]
        for key, label in OUTCOME_LABELS.items()
    ]
    return Table(
        "handoff-outcomes",
        "Where hand-offs end up",
        [Column("Outcome"), Column("Hand-offs", "count"), Column("Share", "percent")],
        rows,
        note="What happened next to each hand-off of the range, as in the log below.",
    )


@dataclass(frozen=True)
class HandOff:
    """A hand-off row of ``handoff_events``, with the rows of its outcome and reply events."""

    event: dict[str, Any]
    outcome: dict[str, Any] | None
    reply: dict[str, Any] | None

    @property
    def to(self) -> str:
        data = self.event["data"]
        names = [n for n in (data.get("to_name"), data.get("team_name")) if n]
        return ", ".join(names) or "nobody"

    @property
    def then(self) -> str:
        """What happened next, in a few words."""
        event = self.outcome
        if event is None:
            status = STATUS_LABELS[self.event["case_status"]].lower()
            return f"Not yet: {status}, with {self.event['holder_name'] or 'nobody'}"
        data, kind = event["data"], event["kind"]
        to = data.get("to_name") or data.get("team_name") or "nobody"
        if kind == CaseEvent.Kind.HANDED_OFF:
            return f"Handed on to {to}"
        if kind == CaseEvent.Kind.REASSIGNED:
            return f"Reassigned to {to}"
        if kind == CaseEvent.Kind.RELEASED:
            return "Released to the queue"
        return STATUS_LABELS[data.get("to", "")]

    def by(self, event: dict[str, Any] | None) -> str:
        if event is None:
            return ""
        return event["actor_name"] or "The system"

    def after(self, then: dict[str, Any] | None) -> float | None:
        return (then["occurred_at"] - self.event["occurred_at"]).total_seconds() if then else None


def _hand_offs(events: Sequence[dict[str, Any]]) -> list[HandOff]:
    """Hand-offs with their outcome and reply events, fetched in one query."""
    wanted = {e["outcome_id"] for e in events} | {e["reply_id"] for e in events}
    later: QuerySet[Any, Any] = CaseEvent.objects.filter(pk__in=wanted - {None}).values(
        "pk", "kind", "occurred_at", "data", actor_name=_name("actor")
    )
    found: dict[int, dict[str, Any]] = {e["pk"]: e for e in later}
    return [HandOff(e, found.get(e["outcome_id"]), found.get(e["reply_id"])) for e in events]


HANDOFF_COLUMNS = [
    Column("Handed off", "time"),
    Column("Case"),
    Column("By"),
    Column("To"),
    Column("Note"),
    Column("Then"),
    Column("Then by"),
    Column("After", "duration"),
    Column("Next reply by"),
    Column("Next reply after", "duration"),
]


def _handoff_row(h: HandOff) -> list[Cell]:
    case_id = h.event["case_id"]
    return [
        Cell(h.event["occurred_at"]),
        Cell(case_id, text=f"#{case_id}", case_id=case_id),
        Cell(h.by(h.event)),
        Cell(h.to),
        Cell(h.event["data"].get("note", "")),
        Cell(h.then),
        Cell(h.by(h.outcome)),
        Cell(h.after(h.outcome)),
        Cell(h.by(h.reply) if h.reply else ""),
        Cell(h.after(h.reply)),
    ]


@dataclass
class HandoffLog:
    table: Table
    total: int
    page: int
    pages: int
    sample: int | None


def handoff_log(
    filters: Filters,
    *,
    page: int = 1,
    sample: int | None = None,
    outcome: str | None = None,
) -> HandoffLog:
    """A page of the hand-offs in the range (with ``outcome``, if given), newest first; or,
    given a ``sample`` seed, the same ``SAMPLE_SIZE`` of them picked at random for that seed."""
    events = handoff_events(filters, outcome)
    if sample is not None:
        ids = list(_handoffs(filters, outcome).values_list("pk", flat=True))
        picked = random.Random(sample).sample(sorted(ids), min(SAMPLE_SIZE, len(ids)))
        chosen = list(events.filter(pk__in=picked))
        total, page, pages = len(ids), 1, 1
    else:
        total = _handoffs(filters, outcome).count()
        pages = max(1, math.ceil(total / HANDOFFS_PER_PAGE))
        page = min(max(1, page), pages)
        start = (page - 1) * HANDOFFS_PER_PAGE
        chosen = list(events[start : start + HANDOFFS_PER_PAGE])
    title = "Hand-offs: a random sample" if sample is not None else "Hand-off log"
    table = Table(
        "handoffs",
        title,
        HANDOFF_COLUMNS,
        [_handoff_row(h) for h in _hand_offs(chosen)],
        note=(
            "Each hand-off in the range and what happened to the case next: handed on, "
            "reassigned, released, resolved or closed, by whom and how long after; and the "
            "first reply after the hand-off."
        ),
    )
    return HandoffLog(table, total, page, pages, sample)


def all_handoff_rows(
    filters: Filters, outcome: str | None = None, chunk: int = 500
) -> Iterator[list[Cell]]:
    """Every hand-off of the range (with ``outcome``) as table rows, newest first, fetched
    ``chunk`` at a time."""
    events = handoff_events(filters, outcome)
    batch: list[dict[str, Any]] = []
    for event in events.iterator(chunk_size=chunk):
        batch.append(event)
        if len(batch) == chunk:
            yield from map(_handoff_row, _hand_offs(batch))
            batch = []
    yield from map(_handoff_row, _hand_offs(batch))


# The cases behind a figure.


@dataclass
class CasesBehind:
    """The cases one figure counts: their description, and the cases; for a time figure,
    each annotated with its time as ``measure`` (a timedelta)."""

    title: str
    cases: QuerySet[Case]
    measure: str = ""


def _cases(ids: QuerySet) -> QuerySet[Case]:
    return Case.objects.filter(pk__in=ids)


def _with_times(cases: QuerySet[Case], kind: str, **data: str) -> QuerySet[Case]:
    created = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind=CaseEvent.Kind.CREATED)
    then = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind=kind, **data)
    return cases.annotate(
        measure=ExpressionWrapper(
            Subquery(then.order_by("occurred_at").values("occurred_at")[:1])
            - Subquery(created.order_by("occurred_at").values("occurred_at")[:1]),
            output_field=models.DurationField(),
        )
    )


def _day(selection: Mapping[str, str]) -> date:
    try:
        return date.fromisoformat(selection["day"])
    except (KeyError, ValueError):
        raise BadSelection(f"Not a day: {selection.get('day')!r}.") from None


def _int(selection: Mapping[str, str], name: str) -> int:
    try:
        return int(selection[name])
    except (KeyError, ValueError):
        raise BadSelection(f"Not a number: {name}={selection.get(name)!r}.") from None


def cases_behind(filters: Filters, selection: Mapping[str, str]) -> CasesBehind:
    """The cases a table cell counts, from the cell's ``selection``. A ``team`` in the
    selection stands in for the filters' team; a ``day``, for their range. Raises
    ``BadSelection``."""
    figure = selection.get("figure", "")
    if "team" in selection:
        team = selection["team"]
        if team and team != NO_TEAM and not team.isdigit():
            raise BadSelection(f"Not a team: {team!r}.")
        filters = Filters(filters.start, filters.end, team)
    if "day" in selection:
        day = _day(selection)
        filters = Filters(day, day, filters.team)
    if figure == "backlog":
        return _backlog_behind(filters, selection)
    if figure == "opened":
        return CasesBehind("Opened", _cases(opened_events(filters).values("case_id")))
    if figure == "resolved":
        return CasesBehind("Resolved", _cases(resolved_events(filters).values("case_id")))
    if figure in ("cohort", "first-response", "resolution"):
        return _times_behind(filters, figure, selection)
    if figure in ("sla", "sla-breached"):
        return _sla_behind(filters, figure, selection)
    if figure == "holding":
        return CasesBehind(
            "Holding now", holding_cases(filters).filter(assignee_id=_int(selection, "agent"))
        )
    measure = next((m for m in AGENT_MEASURES if m.figure == figure), None)
    if measure is not None:
        events = agent_events(filters, measure).filter(agent=_int(selection, "agent"))
        return CasesBehind(measure.title, _cases(events.values("case_id")))
    raise BadSelection(f"No figure {figure!r}.")


def _backlog_behind(filters: Filters, selection: Mapping[str, str]) -> CasesBehind:
    cases = backlog_cases(filters)
    title = "Backlog"
    if "status" in selection:
        if selection["status"] not in BACKLOG_STATUSES:
            raise BadSelection(f"Not a backlog status: {selection['status']!r}.")
        cases = cases.filter(status=selection["status"])
        title = f"Backlog: {STATUS_LABELS[selection['status']].lower()}"
    if "channel" in selection:
        channel = selection["channel"]
        cases = cases.annotate(first_channel=_first_channel()).filter(
            first_channel=channel or None
        )
        title = f"Backlog: {channel_label(channel)}"
    if "age" in selection:
        try:
            now = datetime.fromisoformat(selection["now"])
        except (KeyError, ValueError):
            raise BadSelection("An age needs the moment it was measured at.") from None
        if selection["age"] not in AGE_LABELS:
            raise BadSelection(f"Not an age: {selection['age']!r}.")
        cases = cases.annotate(age=_age_bucket(now)).filter(age=selection["age"])
        title = f"Backlog: {AGE_LABELS[selection['age']].lower()} old"
    return CasesBehind(title, cases)


def _sla_behind(filters: Filters, figure: str, selection: Mapping[str, str]) -> CasesBehind:
    policy = selection.get("policy", "")
    rows = sla_cases(filters)
    if policy == NO_POLICY:
        rows = rows.filter(policy__isnull=True)
    else:
        rows = rows.filter(policy=_int(selection, "policy"))
    title = "Opened under the policy"
    if figure == "sla-breached":
        target = next((t for t in SLA_TARGETS if t[0].value == selection.get("target")), None)
        if target is None:
            raise BadSelection(f"Not an SLA target: {selection.get('target')!r}.")
        rows = rows.filter(**{target[0].value: True}, **({"answered": True} if target[3] else {}))
        title = f"{target[1]} target missed"
    return CasesBehind(title, _cases(rows.values("case_id")))


def _times_behind(filters: Filters, figure: str, selection: Mapping[str, str]) -> CasesBehind:
    rows: QuerySet[Any, Any] = cohort(filters)
    if "channel" in selection:
        rows = rows.filter(channel=selection["channel"] or None)
    if figure == "first-response":
        rows = rows.filter(first_reply__isnull=False)
    elif figure == "resolution":
        rows = rows.filter(first_resolved__isnull=False)
    cases = _cases(rows.values("case_ref"))
    if figure == "first-response":
        return CasesBehind(
            "First response", _with_times(cases, CaseEvent.Kind.REPLY_SENT), "First response"
        )
    if figure == "resolution":
        resolved = _with_times(cases, CaseEvent.Kind.STATUS_CHANGED, data__to=Case.Status.RESOLVED)
        return CasesBehind("Resolution", resolved, "Resolution")
    return CasesBehind("Opened", cases)
