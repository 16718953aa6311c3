"""The hand-offs dashboard: where the hand-offs of the range end up, and the log of them."""

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Count, F, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf

from cases.models import Case, CaseEvent
from reporting.figures import STATUS_LABELS, Cell, Column, Filters, Table

HANDOFFS_PER_PAGE = 50
SAMPLE_SIZE = 10

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
