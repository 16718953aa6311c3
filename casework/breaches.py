"""Missed SLA targets: recorded once each, told to the people who must act, and escalated as the
case's policy says."""

import logging
import smtplib
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse

from cases import history
from cases.clocks import TARGETS, Target, recompute
from cases.models import Case, CaseEvent, SLABreach
from notifications.models import Notification
from notifications.services import notify
from sla.models import SLAPolicy
from staff.models import Team
from staff.roles import REASSIGN_CASE
from staff.selectors import holders_of

logger = logging.getLogger(__name__)


# Cases breach checks look at per target and run, oldest due first; the next run goes on.
BREACH_BATCH = 500


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
        history.record(
            case=case,
            kind=CaseEvent.Kind.SLA_BREACHED,
            at=due_at,
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
        history.record(
            case=case,
            kind=CaseEvent.Kind.PRIORITY_CHANGED,
            at=at,
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
    supervisors = holders_of(REASSIGN_CASE)
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
    link = settings.CAREINBOX_SITE_URL.rstrip("/") + reverse(
        "workspace:case-detail", args=[case.pk]
    )
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
