"""The roll-ups the dashboards read: per case (``CaseRollup``), rewritten from each case's
history and messages whenever an event that changes it is recorded; and per agent
(``AgentActivity``), written from each event that counts for an agent as it is recorded."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.db.models import Exists, OuterRef, QuerySet, Subquery, Value, When

from cases.bulk import insert_rows
from cases.models import AgentActivity, Case, CaseEvent, CaseRollup, Message, SLABreach

# The events after which a case's roll-up may read differently: its opening, a reply, a
# resolution, a breach, and a merge (which folds one case's messages into another). A customer
# message changes it only when it comes before its case's first (the channel): ingest, which
# records the messages, names those cases itself (``history.record_all``).
CHANGES_ROLLUP = frozenset(
    {
        CaseEvent.Kind.CREATED,
        CaseEvent.Kind.REPLY_SENT,
        CaseEvent.Kind.STATUS_CHANGED,
        CaseEvent.Kind.SLA_BREACHED,
        CaseEvent.Kind.CUSTOMERS_MERGED,
    }
)

_FIELDS = [
    "opened_at",
    "first_channel",
    "first_reply_at",
    "first_resolved_at",
    *(f"{target}_breached" for target in SLABreach.Target.values),
]
# What a roll-up copies of its case row. Written with a new roll-up only: from then on the
# trigger on the case table keeps the copy (``CaseRollup.team``), and a refresh that wrote it
# again could put back what its statement read before a concurrent change committed.
_COPIED = ["team_id", "priority", "sla_policy_id"]


def _first(kind: str, **data: str) -> Subquery:
    events = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind=kind, **data)
    return Subquery(events.order_by("occurred_at").values("occurred_at")[:1])


def _read(case_ids: Iterable[int], *, copied: bool = True) -> QuerySet[Case, tuple]:
    """Each of these cases' id and roll-up fields (``_FIELDS``), read from their history and
    messages, then (``copied``) what the roll-up copies of the case row (``_COPIED``)."""
    first_message = Message.objects.filter(
        case_id=OuterRef("pk"), direction=Message.Direction.INBOUND
    ).order_by("sent_at", "pk")
    breaches = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind=CaseEvent.Kind.SLA_BREACHED)
    return (
        Case.objects.filter(pk__any=list(case_ids))
        .annotate(
            opened_at_=_first(CaseEvent.Kind.CREATED),
            first_channel_=Subquery(first_message.values("channel")[:1]),
            first_reply_at_=_first(CaseEvent.Kind.REPLY_SENT),
            first_resolved_at_=_first(CaseEvent.Kind.STATUS_CHANGED, data__to="resolved"),
            **{
                f"{target}_breached_": Exists(breaches.filter(data__target=target))
                for target in SLABreach.Target.values
            },
        )
        .values_list("pk", *(f"{name}_" for name in _FIELDS), *(_COPIED if copied else []))
        .order_by()
    )


def rollups(case_ids: Iterable[int]) -> list[CaseRollup]:
    """The roll-ups of these cases, read from their history, messages and case rows."""
    return [
        CaseRollup(case_id=pk, **dict(zip([*_FIELDS, *_COPIED], values, strict=True)))
        for pk, *values in _read(case_ids)
    ]


def refresh(case_ids: Iterable[int], *, case_rows: bool = True) -> None:
    """Rewrite the roll-ups of these cases, and (``case_rows``) what they share with their
    case rows: the channel the case rows keep, and the copy of the case row a new roll-up
    starts with. Three statements at most. The roll-ups are written by the database from what
    it reads (``INSERT ... SELECT``), without coming through Python."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    select, params = _read(ids, copied=case_rows).query.sql_with_params()
    quote = connection.ops.quote_name
    column_of = {field.attname: str(field.column) for field in CaseRollup._meta.concrete_fields}
    names = ["case_id", *_FIELDS, *(_COPIED if case_rows else [])]
    columns = [quote(column_of[name]) for name in names]
    rewritten = columns[1 : 1 + len(_FIELDS)]
    updates = ", ".join(f"{column} = excluded.{column}" for column in rewritten)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(CaseRollup._meta.db_table)} ({', '.join(columns)}) {select} "
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}",
            params,
        )
    if case_rows:
        _keep_channels(ids)


def _keep_channels(case_ids: list[int]) -> None:
    """Write each roll-up's channel onto its case row (``Case.first_channel``), rewriting only
    the rows whose channel changed (a case's first message sets it, a merge bringing an
    earlier one changes it), so most refreshes write no case row."""
    ids_by_channel: dict[str | None, list[int]] = defaultdict(list)
    rows = CaseRollup.objects.filter(case_id__any=case_ids).values_list(
        "case_id", "first_channel", "case__first_channel"
    )
    for case_id, channel, kept in rows:
        if channel != kept:
            ids_by_channel[channel].append(case_id)
    if not ids_by_channel:
        return
    Case.objects.filter(pk__any=[pk for ids in ids_by_channel.values() for pk in ids]).update(
        first_channel=models.Case(
            *(When(pk__any=ids, then=Value(ch)) for ch, ids in ids_by_channel.items()),
            output_field=models.CharField(),
        )
    )


def refresh_all(*, per_statement: int = 5000, case_rows: bool = True) -> None:
    """Rewrite every case's roll-up, ``per_statement`` cases at a time (an upgrade's fill);
    without ``case_rows``, for a schema whose cases do not keep their channel yet, nor the
    roll-ups their copy of the case row."""
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), per_statement):
        refresh(ids[start : start + per_statement], case_rows=case_rows)


# The per-agent roll-up.

# Events that give a case to an agent; each holds the receiver in ``data["to"]``.
TAKING_KINDS = frozenset(
    {CaseEvent.Kind.CLAIMED, CaseEvent.Kind.HANDED_OFF, CaseEvent.Kind.REASSIGNED}
)


def activities(events: Iterable[CaseEvent]) -> list[AgentActivity]:
    """The roll-up rows of these events: each agent an event counts for, in each measure.
    A case taken on by claiming, a hand-off or a reassignment counts for its receiver; a
    reply for its sender; a resolution for whoever resolved it; a hand-off also for the agent
    who handed it off and, as received, for its receiver."""
    rows: list[AgentActivity] = []
    for e in events:
        receiver = e.data.get("to") if e.kind in TAKING_KINDS else None
        counts: list[tuple[str, int | str | None]] = [(AgentActivity.Measure.TAKEN_ON, receiver)]
        if e.kind == CaseEvent.Kind.REPLY_SENT:
            counts.append((AgentActivity.Measure.REPLIED, e.actor_id))
        elif e.kind == CaseEvent.Kind.STATUS_CHANGED and e.data.get("to") == Case.Status.RESOLVED:
            counts.append((AgentActivity.Measure.RESOLVED_BY, e.actor_id))
        elif e.kind == CaseEvent.Kind.HANDED_OFF:
            counts.append((AgentActivity.Measure.HANDED_OFF, e.actor_id))
            counts.append((AgentActivity.Measure.HANDED_TO, receiver))
        at = e.occurred_at
        rows.extend(
            AgentActivity(case_id=e.case_id, agent_id=int(who), measure=m, occurred_at=at)
            for m, who in counts
            if who is not None
        )
    return rows


def record_activities(events: Sequence[CaseEvent]) -> None:
    """Write the roll-up rows of these newly recorded events: one statement, or none."""
    insert_rows(AgentActivity, activities(events))
