"""Simulated agents for the demo: they work the replayed sample traffic through the actions a
person uses (``casework.actions``): claims, replies, hand-offs, pending and resolutions, so a
newcomer's dashboards show a true history at once.

They are users of their own ("Demo bot Ada", ``bot-ada``…), who cannot sign in, and they
leave alone every case a person has touched: claimed, been handed, answered, noted or
changed in any way. A person trying the demo works beside them, never against them.

The agents act in the customers' time: the sample traffic carries the times the customers
wrote, days ago, and an agent answers a message minutes or hours after it was sent, not when
the demo happens to run. Each action runs under ``clock_at(t)``, which makes this thread's
clock (``django.utils.timezone.now``) read ``t``, so its history events and replies carry
time ``t``; other threads keep the real clock. Replies are delivered after the clock is back,
as platforms (and the sandbox) judge reply windows by the real time.

What the agents do next on a case is a function of the case's stored history and the seed,
never of when the simulation looks, so a restarted demo carries on where it left off.
Answers are quickest on X and slowest by email, slower overnight, and now and then a case
waits most of a day: enough for service-level breaches to show.
"""

import heapq
import logging
import math
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import Case, CaseEvent, Message
from casework import actions, breaches
from casework.exceptions import ActionNotAllowed, CaseTaken, ReplyNotPossible
from sla.models import SLAPolicy
from staff import names, roles
from staff.models import AgentProfile, Team

logger = logging.getLogger(__name__)

ACTIVE = [Case.Status.NEW, Case.Status.OPEN, Case.Status.PENDING]
# The simulated agents: username, display name, signature. Agents, in the demo's team.
BOTS = [
    ("bot-ada", "Demo bot Ada", "^DA"),
    ("bot-ben", "Demo bot Ben", "^DB"),
    ("bot-cy", "Demo bot Cy", "^DC"),
]
BOT_USERNAMES = [username for username, _, _ in BOTS]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Median minutes to the first answer, by the platform the customer wrote on.
MEDIAN_ANSWER_MINUTES = {"x": 15, "facebook": 40, "email": 90}
# The night shift is thin: most answers due at night wait for the morning.
NIGHT_STARTS, MORNING = time(22, 0), time(7, 0)
NIGHT_WAITS_SHARE = 0.5
# Now and then a case sits unnoticed for most of a day.
FORGOTTEN_SHARE = 0.05
# What an agent does after answering: resolve, wait for the customer, hand off or leave it.
RESOLVE_SHARE, PENDING_SHARE, HAND_OFF_SHARE = 0.55, 0.2, 0.15
MAX_HAND_OFFS = 2
TRIAGE_SHARE = 0.3
# A case pending on the customer is resolved when they stay silent this long.
PENDING_HOURS = (20, 40)
# Without a policy nothing can breach: the demo's, when it has none, for every case.
DEMO_POLICY = {
    "name": "Standard (demo)",
    "first_response_minutes": 120,
    "next_response_minutes": 240,
    "resolution_minutes": 48 * 60,
}


# The clock.

_thread = threading.local()
_real_now = timezone.now


def _now() -> datetime:
    at = getattr(_thread, "at", None)
    return at if at is not None else _real_now()


@contextmanager
def clock_at(at: datetime) -> Iterator[None]:
    """Within the block, this thread's ``timezone.now()`` reads ``at``; other threads keep
    the real clock."""
    if timezone.now is not _now:
        timezone.now = _now  # type: ignore[assignment]
    previous = getattr(_thread, "at", None)
    _thread.at = at
    try:
        yield
    finally:
        _thread.at = previous


def act_at[T](at: datetime, action: Callable[[], T]) -> T:
    """Run ``action`` as if at ``at``, in one transaction whose side effects (sending a
    reply) run after it commits, on the real clock."""
    with transaction.atomic(), clock_at(at):
        return action()


@dataclass(frozen=True)
class ReplayClock:
    """The sandbox's replay clock: the first event's time, running ``speed`` times faster
    than real time from ``started`` (a ``time.monotonic()`` reading), never past now."""

    first: datetime
    speed: float
    started: float

    def now(self, monotonic: float) -> datetime:
        replayed = self.first + timedelta(seconds=(monotonic - self.started) * self.speed)
        return min(replayed, _real_now())


@transaction.atomic
def ensure_bots(*, team: Team) -> list[User]:
    """The simulated agents' users, created once: agents in ``team`` who cannot sign in."""
    users = []
    for username, display_name, signature in BOTS:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=roles.AGENT))
        profile, _ = AgentProfile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": display_name,
                "signature": signature,
                "sign_off": f"Best wishes,\n{_called(display_name)}\nCare team",
            },
        )
        profile.teams.add(team)
        users.append(user)
    return users


def ensure_sla_policy() -> None:
    """Give an installation without SLA policies ``DEMO_POLICY``, around the clock, so the
    simulated agents' slow answers show as breaches. Call it before ingesting."""
    if not SLAPolicy.objects.exists():
        SLAPolicy.objects.create(**DEMO_POLICY)


# The cases' state, as the agents read it.


@dataclass(frozen=True)
class CaseState:
    id: int
    status: str
    assignee_id: int | None
    team_id: int | None
    customer_name: str
    last_reply_at: datetime | None
    # The customer's oldest message after our last reply that needs one, and its platform
    # ("x", "facebook" or "email"). Messages may be stored before the time they were sent
    # comes round in the simulation (the demo's --no-serve stores the week at once).
    unanswered_at: datetime | None
    platform: str
    replies: int
    hand_offs: int
    last_hand_off_at: datetime | None
    # The latest thing a person did on the case: the next thing comes after it.
    last_action_at: datetime | None


def _count(model: Any, **where: Any) -> Coalesce:
    rows = model.objects.filter(case_id=OuterRef("pk"), **where).order_by().values("case_id")
    return Coalesce(
        Subquery(rows.annotate(n=Count("pk")).values("n")), 0, output_field=IntegerField()
    )


def _latest(model: Any, field: str, **where: Any) -> Subquery:
    rows = model.objects.filter(case_id=OuterRef("pk"), **where).order_by()
    return Subquery(rows.values("case_id").annotate(at=Max(field)).values("at"))


def case_states(*, bots: list[int], case_ids: list[int] | None = None) -> list[CaseState]:
    """The active cases the ``bots`` (user ids) may work, or those of ``case_ids``: not spam,
    not folded into another, held by nobody or a bot, and never acted on by anyone else."""
    # Whoever is not a bot is a person; the system's own events have no actor.
    touched = CaseEvent.objects.filter(actor__isnull=False).exclude(actor_id__in=bots)
    cases = Case.objects.filter(
        Q(assignee__isnull=True) | Q(assignee_id__in=bots),
        status__in=ACTIVE,
        spam=False,
        merged_into__isnull=True,
    ).exclude(pk__in=touched.values("case_id"))
    if case_ids is not None:
        cases = cases.filter(pk__in=case_ids)
    outbound = {"direction": Message.Direction.OUTBOUND}
    handed = {"kind": CaseEvent.Kind.HANDED_OFF}
    unanswered = Message.objects.filter(
        case_id=OuterRef("pk"),
        direction=Message.Direction.INBOUND,
        automated="",
        needs_reply=True,
        sent_at__gt=OuterRef("replied_floor"),
    ).order_by("sent_at", "pk")
    rows = (
        cases.annotate(last_reply_at=_latest(Message, "sent_at", **outbound))
        .annotate(replied_floor=Coalesce("last_reply_at", Value(EPOCH)))
        .annotate(
            unanswered_at=Subquery(unanswered.values("sent_at")[:1]),
            unanswered_channel=Subquery(unanswered.values("channel")[:1]),
            replies=_count(Message, **outbound),
            hand_offs=_count(CaseEvent, **handed),
            last_hand_off_at=_latest(CaseEvent, "occurred_at", **handed),
            last_action_at=_latest(CaseEvent, "occurred_at", actor__isnull=False),
        )
        .values(
            "pk",
            "status",
            "assignee_id",
            "team_id",
            "customer__display_name",
            "last_reply_at",
            "unanswered_at",
            "unanswered_channel",
            "replies",
            "hand_offs",
            "last_hand_off_at",
            "last_action_at",
        )
    )
    return [
        CaseState(
            id=row["pk"],
            status=row["status"],
            assignee_id=row["assignee_id"],
            team_id=row["team_id"],
            customer_name=row["customer__display_name"],
            last_reply_at=row["last_reply_at"],
            unanswered_at=row["unanswered_at"],
            platform=(row["unanswered_channel"] or "email").split(".")[0],
            replies=row["replies"],
            hand_offs=row["hand_offs"],
            last_hand_off_at=row["last_hand_off_at"],
            last_action_at=row["last_action_at"],
        )
        for row in rows
    ]


# What the agents do.


@dataclass(frozen=True)
class Step:
    """One thing an agent does to a case at a moment: ``kind`` is "answer", "resolve",
    "pending" or "hand_off"."""

    at: datetime
    case_id: int
    kind: str
    agent_id: int
    # For an answer to an unassigned case: the supervisor who assigns it first, if any.
    triage_by: int | None = None
    # For a hand-off: the colleague and the team (if it changes) the case goes to.
    to_user_id: int | None = None
    to_team_id: int | None = None


@dataclass
class Staff:
    """Who works cases: agents claim, answer and hand off; supervisors also triage."""

    agents: list[User]
    supervisors: list[User]
    teams: dict[int, list[int]]  # user id -> team ids

    @classmethod
    def load(cls) -> "Staff":
        """The simulated agents (``BOTS``) that are active, with the agent or supervisor
        role. People's logins are never among them."""
        users = (
            get_user_model()
            .objects.filter(
                username__in=BOT_USERNAMES,
                is_active=True,
                is_superuser=False,
                agent_profile__isnull=False,
                groups__name__in=[roles.AGENT, roles.SUPERVISOR],
            )
            .distinct()
            .select_related("agent_profile")
            .prefetch_related("agent_profile__teams", "groups")
            .order_by("username")
        )
        workers = [u for u in users if u.has_perm("cases.work_case")]
        supervisors = [u for u in workers if u.has_perm("cases.reassign_case")]
        return cls(
            agents=[u for u in workers if u not in supervisors],
            supervisors=supervisors,
            teams={u.pk: [t.pk for t in u.agent_profile.teams.all()] for u in workers},
        )

    @property
    def ids(self) -> list[int]:
        return [u.pk for u in [*self.agents, *self.supervisors]]

    def user(self, user_id: int) -> User:
        return next(u for u in [*self.agents, *self.supervisors] if u.pk == user_id)

    @property
    def everyone(self) -> list[User]:
        return self.agents or self.supervisors


def _answer_delay(rng: random.Random, platform: str, since: datetime) -> timedelta:
    median = MEDIAN_ANSWER_MINUTES.get(platform, 60)
    minutes = median * math.exp(rng.gauss(0, 0.8))
    if rng.random() < FORGOTTEN_SHARE:
        minutes += rng.uniform(6 * 60, 20 * 60)
    at = since + timedelta(minutes=minutes)
    local = timezone.localtime(at)
    if (local.time() >= NIGHT_STARTS or local.time() < MORNING) and rng.random() < (
        NIGHT_WAITS_SHARE
    ):
        morning = local.date() + timedelta(days=1 if local.time() >= NIGHT_STARTS else 0)
        start = timezone.make_aware(datetime.combine(morning, MORNING), local.tzinfo)
        at = start + timedelta(minutes=rng.uniform(0, 90))
    return at - since


class Simulation:
    """Simulated agents working the cases up to a moment; ``step`` does what is due."""

    def __init__(self, *, seed: int = 1) -> None:
        self.seed = seed
        self.staff = Staff.load()
        # Cases whose next step failed in this state (someone took the case, say).
        self.failed: set[tuple[int, datetime | None]] = set()

    def _rng(self, state: CaseState, what: str) -> random.Random:
        return random.Random(f"{self.seed}:{state.id}:{state.replies}:{state.hand_offs}:{what}")

    def next_step(self, state: CaseState, load: Counter) -> Step | None:
        """What happens next on the case, and when; ``None`` while nothing will until the
        customer writes."""
        staff = self.staff
        if not staff.everyone or (state.id, state.last_action_at) in self.failed:
            return None
        # Two minutes: an answer to an unassigned case is claimed a minute before it is sent.
        after = (state.last_action_at or EPOCH) + timedelta(minutes=2)
        if state.unanswered_at is not None:
            # The customer is waiting: answer, whatever the status (their message reopened
            # a pending case).
            rng = self._rng(state, "answer")
            delay = _answer_delay(rng, state.platform, state.unanswered_at)
            at = max(after, state.unanswered_at + delay)
            if state.assignee_id is not None:
                return Step(at, state.id, "answer", state.assignee_id)
            agent = min(staff.everyone, key=lambda u: (load[u.pk], rng.random()))
            triage = staff.supervisors and rng.random() < TRIAGE_SHARE
            return Step(
                at,
                state.id,
                "answer",
                agent.pk,
                triage_by=staff.supervisors[0].pk if triage else None,
            )
        if state.assignee_id is None or state.last_reply_at is None:
            return None
        if state.status == Case.Status.PENDING:
            assert state.last_action_at is not None
            wait = timedelta(hours=self._rng(state, "pending").uniform(*PENDING_HOURS))
            return Step(state.last_action_at + wait, state.id, "resolve", state.assignee_id)
        rng = self._rng(state, "then")
        if state.last_hand_off_at and state.last_hand_off_at > state.last_reply_at:
            # The colleague who received the case introduces themselves to the customer.
            at = state.last_hand_off_at + timedelta(minutes=rng.uniform(15, 240))
            return Step(max(after, at), state.id, "answer", state.assignee_id)
        roll = rng.random()
        at = max(after, state.last_reply_at + timedelta(minutes=rng.uniform(5, 90)))
        if roll < RESOLVE_SHARE or state.hand_offs >= MAX_HAND_OFFS:
            return Step(at, state.id, "resolve", state.assignee_id)
        if roll < RESOLVE_SHARE + PENDING_SHARE:
            return Step(at, state.id, "pending", state.assignee_id)
        if roll < RESOLVE_SHARE + PENDING_SHARE + HAND_OFF_SHARE:
            return self._hand_off(state, at, rng)
        return None

    def _hand_off(self, state: CaseState, at: datetime, rng: random.Random) -> Step | None:
        assert state.assignee_id is not None
        others = [
            u for u in self.staff.everyone + self.staff.supervisors if u.pk != state.assignee_id
        ]
        if not others:
            return None
        to = rng.choice(others)
        teams = self.staff.teams.get(to.pk, [])
        to_team = rng.choice(teams) if teams and rng.random() < 0.5 else None
        if to_team == state.team_id:
            to_team = None
        return Step(
            at, state.id, "hand_off", state.assignee_id, to_user_id=to.pk, to_team_id=to_team
        )

    def step(self, *, until: datetime) -> Counter:
        """Do every step due by ``until``, in time order, with the SLA breach check running
        before each, as beat runs it every minute. Returns what was done, by kind."""
        done: Counter = Counter()
        states = case_states(bots=self.staff.ids)
        load: Counter = Counter(s.assignee_id for s in states if s.assignee_id)
        due: list[tuple[datetime, int, Step]] = []
        for state in states:
            self._push(due, self.next_step(state, load), until)
        while due:
            _, _, step = heapq.heappop(due)
            done["sla_breached"] += _check_breaches(step.at)
            self._do(step, done, load)
            fresh = case_states(bots=self.staff.ids, case_ids=[step.case_id])
            if fresh:
                self._push(due, self.next_step(fresh[0], load), until)
        done["sla_breached"] += _check_breaches(until)
        return +done

    @staticmethod
    def _push(due: list, step: Step | None, until: datetime) -> None:
        if step is not None and step.at <= until:
            heapq.heappush(due, (step.at, step.case_id, step))

    def _do(self, step: Step, done: Counter, load: Counter) -> None:
        """Do the step; ``done`` and the agents' ``load`` (cases held) follow. A case a
        person touched since the step was planned is left to them."""
        if not case_states(bots=self.staff.ids, case_ids=[step.case_id]):
            return
        agent = self.staff.user(step.agent_id)
        try:
            if step.kind == "answer":
                if self._answer(step, agent, done):
                    load[agent.pk] += 1
            elif step.kind in ("resolve", "pending"):
                status = Case.Status.RESOLVED if step.kind == "resolve" else Case.Status.PENDING
                act_at(
                    step.at,
                    lambda: actions.set_status(case_id=step.case_id, by=agent, status=status),
                )
                done[status] += 1
                load[agent.pk] -= 1 if step.kind == "resolve" else 0
            else:
                note = _note(step, self.staff)
                act_at(
                    step.at,
                    lambda: actions.hand_off_case(
                        case_id=step.case_id,
                        by=agent,
                        note=note,
                        to_user_id=step.to_user_id,
                        to_team_id=step.to_team_id,
                    ),
                )
                done["handed_off"] += 1
                load[agent.pk] -= 1
                load[step.to_user_id] += 1
        except (ActionNotAllowed, CaseTaken, ReplyNotPossible) as exc:
            logger.info("Simulated %s on case %s skipped: %s", step.kind, step.case_id, exc)
            state = case_states(bots=self.staff.ids, case_ids=[step.case_id])
            if state:
                self.failed.add((step.case_id, state[0].last_action_at))

    def _answer(self, step: Step, agent: User, done: Counter) -> bool:
        """Reply, first claiming the case (or having a supervisor assign it) if nobody has
        it. Returns whether the agent took the case on."""
        state = case_states(bots=self.staff.ids, case_ids=[step.case_id])[0]
        taking = state.assignee_id is None
        if taking:
            if step.triage_by is not None:
                supervisor = self.staff.user(step.triage_by)
                teams = self.staff.teams.get(agent.pk, [])
                act_at(
                    step.at - timedelta(minutes=1),
                    lambda: actions.reassign_case(
                        case_id=step.case_id,
                        by=supervisor,
                        to_user_id=agent.pk,
                        to_team_id=teams[0] if teams and state.team_id is None else None,
                    ),
                )
                done["reassigned"] += 1
            else:
                act_at(
                    step.at - timedelta(minutes=1),
                    lambda: actions.claim_case(case_id=step.case_id, agent=agent),
                )
                done["claimed"] += 1
        text = _reply_text(state, agent)
        # The customer's latest message by then: later ones are not there yet.
        answering = (
            Message.objects.filter(
                case_id=step.case_id, direction=Message.Direction.INBOUND, sent_at__lte=step.at
            )
            .order_by("-sent_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        act_at(
            step.at,
            lambda: actions.reply_to_case(
                case_id=step.case_id, agent=agent, text=text, answering_id=answering
            ),
        )
        done["replied"] += 1
        return taking


def _check_breaches(at: datetime) -> int:
    with clock_at(at):
        return breaches.record_breaches(now=at)


def _first_name(name: str) -> str:
    return name.split()[0] if name.strip() else "there"


def _called(display_name: str) -> str:
    """What a simulated agent calls themselves: "Ada" for "Demo bot Ada"."""
    return display_name.split()[-1] if display_name.strip() else "the team"


def _reply_text(state: CaseState, agent: User) -> str:
    """A short reply, different on every case and every time: X refuses duplicate posts."""
    customer = _first_name(state.customer_name)
    me = _called(names.display_name(agent))
    number = f"case {state.id}" + (f", update {state.replies}" if state.replies else "")
    if state.last_hand_off_at and (
        state.last_reply_at is None or state.last_hand_off_at > state.last_reply_at
    ):
        return (
            f"Hi {customer}, {me} here: I have taken over your case and will keep you posted "
            f"({number})."
        )
    if state.replies:
        return f"Thanks {customer}, noted. We are on it and will update you today ({number})."
    return f"Hi {customer}, sorry about this. We are looking into it now ({number})."


def _note(step: Step, staff: Staff) -> str:
    to = (
        _called(names.display_name(staff.user(step.to_user_id))) if step.to_user_id else "the team"
    )
    return f"Over to {to}: the customer has our answer and needs a follow-up."
