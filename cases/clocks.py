"""A case's SLA clocks: the due times its policy sets, and the queues that read them.

A case has three clocks, each counted in business time of its policy's calendar (or around
the clock without one):

- first response: from the oldest customer message waiting for a reply until the first reply;
- next response: the same for every later reply;
- resolution: from the customer's first message until the case is resolved.

The clocks pause while the case is pending on the customer or resolved, and carry on when
the customer writes: every due time moves later by the business time spent paused. Paused and
closed cases have no due times, so a queue that sorts or filters by them needs no status test.
A message that needs no reply (``Message.needs_reply``, set by routing rules) starts no clock.

Due times are a function of the case's stored state and its status history, recomputed
(``recompute``) whenever one of those changes, so they never depend on when a worker looked.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from cases.models import DUE_FIELDS, Case, CaseEvent, Message, SLABreach
from sla.calendar import Hours, due_time, hours_of
from sla.models import SLAPolicy
from sla.selectors import policy_for

# The customer has the ball: no clock runs.
PAUSED = {Case.Status.PENDING, Case.Status.RESOLVED}


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    due_field: str
    # When this run of the clock started: the key of a breach, so each run breaches once.
    start_field: str
    minutes_field: str


TARGETS = [
    Target(
        SLABreach.Target.FIRST_RESPONSE,
        "first response",
        "first_response_due_at",
        "awaiting_reply_since",
        "first_response_minutes",
    ),
    Target(
        SLABreach.Target.NEXT_RESPONSE,
        "next response",
        "next_response_due_at",
        "awaiting_reply_since",
        "next_response_minutes",
    ),
    Target(
        SLABreach.Target.RESOLUTION,
        "resolution",
        "resolution_due_at",
        "first_inbound_at",
        "resolution_minutes",
    ),
]


def pauses_of(changes: Iterable[tuple[datetime, dict]]) -> list[tuple[datetime, datetime]]:
    """The finished pauses of a case's clocks, from its status changes ((when, data) of each
    ``STATUS_CHANGED`` event) in the order recorded: a customer message reopening a case
    carries its platform time, which may be a little before the moment an agent set it
    pending."""
    pauses, since = [], None
    for occurred_at, data in changes:
        if data.get("to") in PAUSED:
            since = since or occurred_at
        elif since is not None:
            pauses.append((since, max(since, occurred_at)))
            since = None
    return pauses


def due_times(
    case: Case,
    policy: SLAPolicy | None,
    *,
    hours: Hours | None,
    pauses: Sequence[tuple[datetime, datetime]],
) -> dict[str, datetime | None]:
    """The due time of each target for the case as it stands under ``policy``, whose
    calendar's ``hours`` are given (None: around the clock); no query."""
    dues: dict[str, datetime | None] = dict.fromkeys(DUE_FIELDS)
    if policy is None or case.status == Case.Status.CLOSED or case.status in PAUSED:
        return dues
    answered = case.first_response_at is not None
    running: dict[str, bool] = {
        # Only one response clock runs at a time: the first until the first reply, then next.
        SLABreach.Target.FIRST_RESPONSE: not answered and case.awaiting_reply_since is not None,
        SLABreach.Target.NEXT_RESPONSE: answered and case.awaiting_reply_since is not None,
        # Resolution runs once the case has had something to answer.
        SLABreach.Target.RESOLUTION: (answered or case.awaiting_reply_since is not None)
        and case.first_inbound_at is not None,
    }
    for target in TARGETS:
        minutes = getattr(policy, target.minutes_field)
        if minutes is not None and running[target.key]:
            start = getattr(case, target.start_field)
            dues[target.due_field] = due_time(start, timedelta(minutes=minutes), hours, pauses)
    return dues


def apply_due_times(
    case: Case, policy: SLAPolicy | None, dues: dict[str, datetime | None]
) -> list[str]:
    """Set the policy and due times on ``case`` (unsaved); returns the fields changed."""
    changed = [field for field, due in dues.items() if getattr(case, field) != due]
    for field in changed:
        setattr(case, field, dues[field])
    if case.sla_policy_id != (policy.pk if policy else None):
        case.sla_policy = policy
        changed.append("sla_policy")
    return changed


def recompute(case: Case) -> None:
    """Set the case's policy and due times from its current state. The caller holds the case
    row's lock (or its customer's). Call it after changing the status (``change_status`` does),
    the priority or the team. Up to four queries; one without a policy, none once closed."""
    policy = (
        None
        if case.status == Case.Status.CLOSED
        else policy_for(team_id=case.team_id, priority=case.priority)
    )
    if policy is None or case.status in PAUSED:
        dues: dict[str, datetime | None] = dict.fromkeys(DUE_FIELDS)
    else:
        changes = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS_CHANGED)
        dues = due_times(
            case,
            policy,
            hours=hours_of(policy.calendar) if policy.calendar else None,
            pauses=pauses_of(changes.order_by("pk").values_list("occurred_at", "data")),
        )
    changed = apply_due_times(case, policy, dues)
    if changed:
        case.save(update_fields=changed)


def customer_wrote(*, case: Case, message: Message) -> None:
    """After a customer message is recorded on the (locked) case: start the response clock
    from it unless an older message is still waiting or it needs no reply, then recompute."""
    waiting = case.awaiting_reply_since
    if message.needs_reply and (waiting is None or message.sent_at < waiting):
        case.awaiting_reply_since = message.sent_at
        case.save(update_fields=["awaiting_reply_since"])
    recompute(case)


def replied(*, case: Case) -> None:
    """An agent answered the (locked) case: nothing waits for a reply any more, so both
    response clocks stop. The resolution clock runs on."""
    Case.objects.filter(pk=case.pk).update(
        awaiting_reply_since=None, first_response_due_at=None, next_response_due_at=None
    )
    case.awaiting_reply_since = case.first_response_due_at = case.next_response_due_at = None


# Reads for queues.


def breached_q(now: datetime) -> Q:
    """Cases with a target already missed."""
    return Q(soonest_due_at__lte=now)


def at_risk_horizon(now: datetime) -> datetime:
    """How far ahead of ``now`` a case due is at risk: the "SLA at risk" queue holds the
    cases due by then (``due_by_q``), overdue ones included. Paused and closed cases have no
    due times; combine with the queue's own live-case condition for spam and merged cases."""
    return now + timedelta(minutes=settings.CAREINBOX_SLA_AT_RISK_MINUTES)


def due_by_q(moment: datetime) -> Q:
    """Cases with a due time at ``moment`` or before: their soonest due time, indexed among
    the live cases (``case_live_soonest_due``)."""
    return Q(soonest_due_at__lte=moment)


@dataclass(frozen=True)
class Due:
    target: str  # "first response", "next response", "resolution"
    due_at: datetime
    state: str  # "breached", "at_risk" or "ok"


def soonest_due(case: Case, *, now: datetime) -> Due | None:
    """The case's nearest due time and how it stands, for highlighting the case; no query."""
    dues = [(getattr(case, t.due_field), t.label) for t in TARGETS if getattr(case, t.due_field)]
    if not dues:
        return None
    due_at, label = min(dues)
    horizon = now + timedelta(minutes=settings.CAREINBOX_SLA_AT_RISK_MINUTES)
    state = "breached" if due_at <= now else "at_risk" if due_at <= horizon else "ok"
    return Due(target=label, due_at=due_at, state=state)
