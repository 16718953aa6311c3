"""Auto-assignment: a team can have its new cases handed out in turn to its agents.

A case qualifies while it is new or open, unassigned, not spam, waiting for a reply
(``Case.awaiting_reply_since``) and in a team with ``auto_assign``. It goes to one of the
team's agents who may work cases, is online (used the workspace within
``CAREINBOX_AGENT_ONLINE_SECONDS``; ``staff.middleware.LastSeenMiddleware`` records it), is
not paused by a supervisor, and holds fewer than their ``max_active_cases`` cases (new, open or
pending, in any team). Among those, the one whose turn it is: each assignment sends its agent
to the back of the line (``assignment_turn``), so agents take cases in rotation whatever the
clock says.

Ingest assigns a new customer message's case in its own transaction; ``assign_waiting`` hands
out what is left (no one was online, everyone was full) when agents come back or finish work.
Claiming by hand ignores all of this and always works.

Concurrency: the candidate agents' profile rows are locked (in id order, so two workers never
deadlock) before their loads are counted, so two workers assigning at once, even for two
teams sharing agents, cannot both give away an agent's last slot or take the same turn.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases import history
from cases.models import Case, CaseEvent
from cases.services import change_status
from casework.exceptions import ActionNotAllowed
from notifications.models import Notification
from notifications.services import notify
from staff.models import AgentProfile, Team
from staff.selectors import case_workers

# What counts against an agent's capacity: the cases they still hold and work.
HELD_STATUSES = [Case.Status.NEW, Case.Status.OPEN, Case.Status.PENDING]
ASSIGNABLE_STATUSES = [Case.Status.NEW, Case.Status.OPEN]
# Cases ``assign_waiting`` hands out per team and run, oldest waiting first.
WAITING_BATCH = 200


def online_since(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.CAREINBOX_AGENT_ONLINE_SECONDS)


def _assignable(case: Case) -> bool:
    return (
        case.assignee_id is None
        and case.team_id is not None
        and not case.spam
        and case.merged_into_id is None
        and case.status in ASSIGNABLE_STATUSES
        and case.awaiting_reply_since is not None
    )


def _workers() -> Q:
    return Q(user__in=case_workers().values("pk"))


def held_counts(user_ids: list[int]) -> dict[int, int]:
    """How many cases each of these agents holds now: what counts against their capacity."""
    return dict(
        Case.objects.filter(
            assignee__in=user_ids,
            status__in=HELD_STATUSES,
            spam=False,
            merged_into__isnull=True,
        )
        .values("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )


def available_agents(*, team_id: int, now: datetime) -> list[AgentProfile]:
    """The team's agents who may take a case now (online, not paused), their profile rows
    locked: they are what every assignment to these agents reads and writes. Lock first,
    then count (``held_counts``): the count then sees every assignment that committed while
    this one waited."""
    return list(
        AgentProfile.objects.select_for_update(of=("self",))
        .filter(
            _workers(),
            teams=team_id,
            assignment_paused=False,
            last_seen_at__gte=online_since(now),
        )
        .select_related("user")
        .order_by("pk")
    )


def _assign(case: Case, *, now: datetime) -> User | None:
    assert case.team_id is not None  # _assignable
    candidates = available_agents(team_id=case.team_id, now=now)
    if not candidates:
        return None
    loads = held_counts([p.user_id for p in candidates])
    available = [p for p in candidates if loads.get(p.user_id, 0) < p.max_active_cases]
    if not available:
        return None
    chosen = min(available, key=lambda p: (p.assignment_turn, loads.get(p.user_id, 0), p.pk))
    chosen.assignment_turn = max(p.assignment_turn for p in candidates) + 1
    chosen.save(update_fields=["assignment_turn"])

    case.assignee = chosen.user
    case.save(update_fields=["assignee"])
    if case.status == Case.Status.NEW:
        change_status(case, Case.Status.OPEN, reason="Assigned automatically.", at=now)
    held = loads.get(chosen.user_id, 0) + 1
    history.record(
        case=case,
        kind=CaseEvent.Kind.AUTO_ASSIGNED,
        at=now,
        data={
            "to": chosen.user_id,
            "to_name": chosen.display_name,
            "team": case.team_id,
            "held": held,
            "capacity": chosen.max_active_cases,
        },
    )
    notify(
        recipient_id=chosen.user_id,
        kind=Notification.Kind.ASSIGNED,
        case=case,
        text=f"Case #{case.pk} was assigned to you automatically"
        + (f": {case.subject}" if case.subject else "."),
    )
    return chosen.user


def assign_waiting(*, now: datetime | None = None) -> int:
    """Hand out the qualifying unassigned cases of every auto-assign team, oldest waiting
    first, while agents are available. Safe to run in several workers. Returns how many."""
    now = now or timezone.now()
    assigned = 0
    for team_id in Team.objects.filter(auto_assign=True).values_list("pk", flat=True):
        waiting = (
            Case.objects.filter(
                team=team_id,
                assignee__isnull=True,
                status__in=ASSIGNABLE_STATUSES,
                spam=False,
                merged_into__isnull=True,
                awaiting_reply_since__isnull=False,
            )
            .order_by("awaiting_reply_since", "pk")
            .values_list("pk", flat=True)[:WAITING_BATCH]
        )
        for case_id in list(waiting):
            outcome = _assign_waiting_case(case_id, now=now)
            if outcome is None:
                break  # nobody in this team can take more now
            assigned += outcome
    return assigned


def _assign_waiting_case(case_id: int, *, now: datetime) -> int | None:
    """1 if assigned, 0 if the case no longer qualifies or another worker has it, None if
    no agent is available."""
    with transaction.atomic():
        case = Case.objects.select_for_update(skip_locked=True).filter(pk=case_id).first()
        if case is None or not _assignable(case):
            return 0
        return 1 if _assign(case, now=now) is not None else None


def set_paused(*, agent_id: int, paused: bool, by: User) -> AgentProfile:
    """A supervisor stops (or resumes) automatic assignment to an agent. The agent keeps
    their cases and can still claim. Raises ``ActionNotAllowed``."""
    if not by.has_perm("cases.reassign_case"):
        raise ActionNotAllowed("Only supervisors may pause an agent's automatic assignment.")
    updated = AgentProfile.objects.filter(user_id=agent_id).update(assignment_paused=paused)
    if not updated:
        raise ActionNotAllowed(f"User {agent_id} has no agent profile; create one in the admin.")
    return AgentProfile.objects.select_related("user").get(user_id=agent_id)


@dataclass(frozen=True)
class Availability:
    profile: AgentProfile
    teams: list[str]
    online: bool
    held: int

    @property
    def over_capacity(self) -> bool:
        """Holding more cases than their capacity (claimed, or given before it was lowered):
        automatic assignment skips them until they are back under it."""
        return self.held > self.profile.max_active_cases


def availability(*, now: datetime | None = None) -> list[Availability]:
    """Every agent who may work cases, with their teams, whether they are online and how
    many cases they hold. Three queries."""
    now = now or timezone.now()
    profiles = list(
        AgentProfile.objects.filter(_workers(), user__is_active=True)
        .select_related("user")
        .prefetch_related("teams")
        .order_by("display_name", "pk")
    )
    loads = held_counts([p.user_id for p in profiles])
    since = online_since(now)
    return [
        Availability(
            profile=p,
            teams=[t.name for t in p.teams.all()],
            online=p.last_seen_at is not None and p.last_seen_at >= since,
            held=loads.get(p.user_id, 0),
        )
        for p in profiles
    ]
