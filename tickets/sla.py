"""Service levels: business-hours arithmetic, the due times a case's policy sets, and breaches.

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

import logging
import smtplib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from tickets.models import (
    BusinessCalendar,
    Case,
    CaseEvent,
    Message,
    Notification,
    SLABreach,
    SLAPolicy,
    Team,
)
from tickets.notify import notify

logger = logging.getLogger(__name__)

# The customer has the ball: no clock runs.
PAUSED = {Case.Status.PENDING, Case.Status.RESOLVED}
# An open calendar is searched this far ahead; a calendar closed for longer is a mistake.
SEARCH_DAYS = 3 * 366
# Cases breach checks look at per target and run, oldest due first; the next run goes on.
BREACH_BATCH = 500


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
DUE_FIELDS = [t.due_field for t in TARGETS]


# Business-hours arithmetic. Pure functions of aware datetimes; results are in UTC.


@dataclass(frozen=True)
class Hours:
    """A calendar as the arithmetic needs it: local opening periods by weekday (Monday is 0;
    a period closing at or before it opens ends the next day) and closed local dates."""

    zone: ZoneInfo
    periods: Mapping[int, Sequence[tuple[time, time]]]
    holidays: frozenset[date] = frozenset()


def hours_of(calendar: BusinessCalendar) -> Hours:
    """Load a calendar's hours and holidays (two queries)."""
    periods: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in calendar.hours.values_list("weekday", "opens", "closes"):
        periods.setdefault(weekday, []).append((opens, closes))
    return Hours(
        zone=ZoneInfo(calendar.time_zone),
        periods=periods,
        holidays=frozenset(calendar.holidays.values_list("date", flat=True)),
    )


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A local time skipped by a DST change is read with the offset before the change.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _day_pieces(hours: Hours, day: date) -> list[tuple[datetime, datetime]]:
    """The periods opening on local ``day``, split at local midnight, without holidays."""
    pieces = []
    for opens, closes in hours.periods.get(day.weekday(), ()):
        ends_on = day if closes > opens else day + timedelta(days=1)
        begin, end = _local(day, opens, hours.zone), _local(ends_on, closes, hours.zone)
        if ends_on != day and closes != time(0):
            midnight = _local(ends_on, time(0), hours.zone)
            parts = [(begin, midnight, day), (midnight, end, ends_on)]
        else:
            parts = [(begin, end, day)]
        pieces += [(b, e) for b, e, on in parts if on not in hours.holidays and b < e]
    return pieces


def open_periods(hours: Hours, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open periods that end after ``since``, in time order and without
    overlaps (periods may touch). Raises ``ValueError`` for a calendar without opening hours,
    or one closed for ``SEARCH_DAYS`` on end."""
    if not any(hours.periods.values()):
        raise ValueError("The calendar has no opening hours; add some, or use none for 24/7.")
    # The day before: a night shift that opened then may still be open.
    day = since.astimezone(hours.zone).date() - timedelta(days=1)
    pending: list[tuple[datetime, datetime]] = []
    last_end = datetime.min.replace(tzinfo=UTC)
    for _ in range(SEARCH_DAYS):
        pending = sorted(pending + _day_pieces(hours, day))
        day += timedelta(days=1)
        # Every piece of a later day starts at or after this local midnight, so the pieces
        # starting before it are final and in order.
        horizon = _local(day, time(0), hours.zone)
        while pending and pending[0][0] < horizon:
            begin, end = pending.pop(0)
            begin = max(begin, last_end)  # overlapping periods count once
            if begin < end and end > since:
                yield begin, end
            last_end = max(last_end, end)
    raise ValueError(f"The calendar is closed for {SEARCH_DAYS} days after {since}.")


def add_business_time(start: datetime, duration: timedelta, hours: Hours | None) -> datetime:
    """The moment ``duration`` of open time after ``start``; ``hours`` None is 24/7."""
    if hours is None:
        return start.astimezone(UTC) + duration
    remaining = duration
    for begin, end in open_periods(hours, start):
        begin = max(begin, start)
        if begin + remaining <= end:
            return begin + remaining
        remaining -= end - begin
    raise AssertionError("open_periods never ends without raising")  # pragma: no cover


def business_time_between(start: datetime, end: datetime, hours: Hours | None) -> timedelta:
    """Open time from ``start`` to ``end`` (zero if ``end`` is not later)."""
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    total = timedelta(0)
    for begin, close in open_periods(hours, start):
        if begin >= end:
            break
        total += min(close, end) - max(begin, start)
    return total


def due_time(
    start: datetime,
    target: timedelta,
    hours: Hours | None,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> datetime:
    """When ``target`` of open time has run from ``start``, not counting ``pauses`` (closed
    intervals in time order): each pause moves the due time by the open time it held."""
    cursor, remaining = start, target
    for paused_from, paused_until in pauses:
        if paused_until <= cursor:
            continue
        if paused_from > cursor:
            candidate = add_business_time(cursor, remaining, hours)
            if candidate <= paused_from:
                return candidate
            remaining -= business_time_between(cursor, paused_from, hours)
        cursor = max(cursor, paused_until)
    return add_business_time(cursor, remaining, hours)


# Applying policies to cases.


def policy_for(case: Case) -> SLAPolicy | None:
    """The most specific policy for the case's team and priority (one query)."""
    candidates = SLAPolicy.objects.filter(
        Q(team__isnull=True) | Q(team=case.team_id), priority__in=["", case.priority]
    ).select_related("calendar")
    return min(candidates, key=lambda p: (p.team_id is None, p.priority == ""), default=None)


def _pauses(case: Case) -> list[tuple[datetime, datetime]]:
    """The finished pauses of the case's clocks, from its status history. Read in the order
    recorded: a customer message reopening a case carries its platform time, which may be a
    little before the moment an agent set it pending."""
    pauses, since = [], None
    events = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS_CHANGED).order_by("pk")
    for occurred_at, data in events.values_list("occurred_at", "data"):
        if data.get("to") in PAUSED:
            since = since or occurred_at
        elif since is not None:
            pauses.append((since, max(since, occurred_at)))
            since = None
    return pauses


def due_times(case: Case, policy: SLAPolicy | None) -> dict[str, datetime | None]:
    """The due time of each target for the case as it stands under ``policy``."""
    dues: dict[str, datetime | None] = dict.fromkeys(DUE_FIELDS)
    if policy is None or case.status == Case.Status.CLOSED or case.status in PAUSED:
        return dues
    hours = hours_of(policy.calendar) if policy.calendar else None
    pauses = _pauses(case)
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


def recompute(case: Case) -> None:
    """Set the case's policy and due times from its current state. The caller holds the case
    row's lock (or its customer's). Call it after changing the status (``change_status`` does),
    the priority or the team. Up to four queries; one without a policy, none once closed."""
    policy = None if case.status == Case.Status.CLOSED else policy_for(case)
    dues = due_times(case, policy)
    changed = [field for field, due in dues.items() if getattr(case, field) != due]
    for field in changed:
        setattr(case, field, dues[field])
    if case.sla_policy_id != (policy.pk if policy else None):
        case.sla_policy = policy
        changed.append("sla_policy")
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
    q = Q()
    for field in DUE_FIELDS:
        q |= Q(**{f"{field}__lte": now})
    return q


def at_risk_q(now: datetime) -> Q:
    """Cases due within ``CAREINBOX_SLA_AT_RISK_MINUTES`` of ``now``, or already overdue:
    the "SLA at risk" queue. Paused and closed cases have no due times; combine with the
    queue's own live-case condition for spam and merged cases."""
    horizon = now + timedelta(minutes=settings.CAREINBOX_SLA_AT_RISK_MINUTES)
    q = Q()
    for field in DUE_FIELDS:
        q |= Q(**{f"{field}__lte": horizon})
    return q


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


# Breaches.


def record_breaches(*, now: datetime) -> int:
    """Record every target missed by ``now`` that is not recorded yet: a history event,
    notices in-app and by email to the assignee and the team's supervisors, and the policy's
    escalation. Idempotent and safe to run in several workers at once. Returns how many."""
    recorded = 0
    for target in TARGETS:
        already = SLABreach.objects.filter(
            case=OuterRef("pk"), target=target.key, clock_started_at=OuterRef(target.start_field)
        )
        due = (
            Case.objects.filter(
                **{f"{target.due_field}__lte": now},
                status__in=[Case.Status.NEW, Case.Status.OPEN],
                spam=False,
                merged_into__isnull=True,
            )
            .exclude(Exists(already))
            .order_by(target.due_field)
            .values_list("pk", flat=True)[:BREACH_BATCH]
        )
        for case_id in list(due):
            recorded += _record_breach(case_id, target, now=now)
    return recorded


def _record_breach(case_id: int, target: Target, *, now: datetime) -> bool:
    with transaction.atomic():
        # A case another worker holds (a breach check, an ingest) is skipped; the next run
        # sees it again if it still breaches.
        case = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("team", "sla_policy")
            .filter(pk=case_id)
            .first()
        )
        if case is None or case.status not in (Case.Status.NEW, Case.Status.OPEN):
            return False
        due_at, started = getattr(case, target.due_field), getattr(case, target.start_field)
        if due_at is None or due_at > now or started is None:
            return False
        policy = case.sla_policy
        breach, created = SLABreach.objects.get_or_create(
            case=case,
            target=target.key,
            clock_started_at=started,
            defaults={"due_at": due_at, "policy": policy},
        )
        if not created:
            return False
        escalation = _escalation(case, policy)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.SLA_BREACHED,
            occurred_at=due_at,
            data={
                "target": target.key,
                "due_at": due_at.isoformat(),
                "policy": policy.pk if policy else None,
                "policy_name": policy.name if policy else "",
                "escalated": escalation,
            },
        )
        teams = [case.team_id]
        _escalate(case, escalation, target, at=due_at)
        teams.append(case.team_id)
        _tell(case, breach, target, recipients=_recipients(case, teams))
    return True


def _escalation(case: Case, policy: SLAPolicy | None) -> dict[str, dict]:
    """What the policy's escalation changes on the case: a higher priority (never a lower
    one) and another team."""
    escalation: dict[str, dict] = {}
    if policy is None:
        return escalation
    wanted = policy.escalate_to_priority
    rank = Case.Priority.values.index
    if wanted and rank(wanted) > rank(case.priority):
        escalation["priority"] = {"from": case.priority, "to": wanted}
    team: Team | None = policy.escalate_to_team
    if team is not None and team.pk != case.team_id:
        escalation["team"] = {
            "from": case.team_id,
            "from_name": case.team.name if case.team else "",
            "to": team.pk,
            "to_name": team.name,
        }
    return escalation


def _escalate(case: Case, escalation: dict[str, dict], target: Target, *, at: datetime) -> None:
    """Apply an escalation; the assignee keeps the case. New due times follow the new
    priority or team, but a clock run that breached never breaches again."""
    if not escalation:
        return
    if "priority" in escalation:
        case.priority = escalation["priority"]["to"]
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.PRIORITY_CHANGED,
            occurred_at=at,
            data={
                **escalation["priority"],
                "reason": f"The {target.label} target was missed.",
            },
        )
    if "team" in escalation:
        case.team_id = escalation["team"]["to"]
    case.save(update_fields=["priority", "team"])
    recompute(case)


def _recipients(case: Case, team_ids: list[int | None]) -> list[User]:
    """The assignee and the supervisors of the case's teams (before and after an
    escalation); every supervisor when the case has no team or its team has none."""
    perm = Permission.objects.get(content_type__app_label="tickets", codename="reassign_case")
    supervisors = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions=perm) | Q(user_permissions=perm))
    )
    teams = [t for t in team_ids if t is not None]
    of_teams = supervisors.filter(agent_profile__teams__in=teams) if teams else supervisors.none()
    chosen = list(of_teams.distinct()) or list(supervisors.distinct())
    if case.assignee_id is not None and all(u.pk != case.assignee_id for u in chosen):
        chosen.insert(0, get_user_model().objects.get(pk=case.assignee_id))
    return chosen


def _tell(case: Case, breach: SLABreach, target: Target, *, recipients: list[User]) -> None:
    due = breach.due_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    text = f"Case #{case.pk} missed its {target.label} target (due {due:%d %b %H:%M %Z})" + (
        f": {case.subject}" if case.subject else "."
    )
    for user in recipients:
        notify(recipient_id=user.pk, kind=Notification.Kind.SLA_BREACHED, case=case, text=text)
    link = settings.CAREINBOX_SITE_URL.rstrip("/") + reverse("tickets:case-detail", args=[case.pk])
    mails = [
        (
            f"SLA breached: case #{case.pk} ({target.label})",
            f"{text}\n\nOpen the case: {link}\n",
            None,
            [user.email],
        )
        for user in recipients
        if user.email
    ]
    if mails:
        # Mail goes out after the commit: a slow or failing mail server never holds the case
        # lock, and the in-app notices stand either way.
        transaction.on_commit(partial(_send, mails, case_id=case.pk))


def _send(mails: Sequence[tuple[str, str, str | None, list[str]]], *, case_id: int) -> None:
    try:
        send_mass_mail(tuple(mails))
    except (smtplib.SMTPException, OSError):
        logger.warning("Could not email the SLA breach of case %s.", case_id, exc_info=True)
