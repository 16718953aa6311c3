"""Auto-assignment: round-robin among a team's online agents under capacity, pausing, manual
claims, the availability page, and fairness under concurrent ingestion on PostgreSQL."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from cases.models import Case, CaseEvent
from casework import actions, assignment
from casework.exceptions import ActionNotAllowed
from notifications.models import Notification
from routing import rules
from routing.models import RoutingRule
from staff import roles
from staff.models import AgentProfile, Team
from tests.conftest import NOW, client_for, make_user
from tests.processes import child_database_url, run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def care(db):
    """A team with auto-assignment that every new message is routed to."""
    team = Team.objects.create(name="Care", auto_assign=True)
    rules.save_rule(rule=RoutingRule(name="Everything to Care", set_team=team))
    return team


def member(user, team: Team, *, seen: datetime | None = NOW, capacity: int = 8) -> AgentProfile:
    profile = user.agent_profile
    profile.teams.add(team)
    profile.last_seen_at = seen
    profile.max_active_cases = capacity
    profile.save()
    return profile


@pytest.fixture
def ana(db):
    return make_user("ana", roles.AGENT, display_name="Ana Silva")


def receive(ingest, **fields) -> Case:
    return ingest(**fields).message.case


def test_new_cases_go_to_online_agents_in_turn(ingest, care, agent, other_agent, ana, clock):
    for user in (agent, other_agent, ana):
        member(user, care)

    cases = [receive(ingest) for _ in range(6)]

    assert [c.assignee.username for c in cases] == ["jo", "priya", "ana", "jo", "priya", "ana"]
    assert all(Case.objects.get(pk=c.pk).status == Case.Status.OPEN for c in cases)
    event = CaseEvent.objects.get(case=cases[0], kind=CaseEvent.Kind.AUTO_ASSIGNED)
    assert event.data == {
        "to": agent.pk,
        "to_name": "Jo Lee",
        "team": care.pk,
        "held": 1,
        "capacity": 8,
    }
    notice = Notification.objects.get(recipient=agent, case=cases[0])
    assert (notice.kind, notice.text) == (
        Notification.Kind.ASSIGNED,
        f"Case #{cases[0].pk} was assigned to you automatically: {cases[0].subject}",
    )


def test_offline_and_paused_agents_get_nothing(ingest, care, agent, other_agent, ana, clock):
    member(agent, care)
    member(other_agent, care, seen=NOW - timedelta(minutes=10))
    paused = member(ana, care)
    paused.assignment_paused = True
    paused.save()

    cases = [receive(ingest) for _ in range(3)]

    assert {c.assignee for c in cases} == {agent}


def test_capacity_is_respected_and_waiting_cases_go_out_as_it_frees_up(
    ingest, care, agent, other_agent, clock
):
    member(agent, care, capacity=1)
    member(other_agent, care, capacity=1)
    # A pending case counts against capacity: the agent still holds it.
    held = receive(ingest)
    actions.set_status(case_id=held.pk, by=agent, status=Case.Status.PENDING)

    first, second, third = (receive(ingest) for _ in range(3))

    assert (held.assignee, first.assignee, second.assignee, third.assignee) == (
        agent,
        other_agent,
        None,
        None,
    )
    assert assignment.assign_waiting() == 0

    actions.set_status(case_id=held.pk, by=agent, status=Case.Status.RESOLVED)
    assert assignment.assign_waiting() == 1
    assert Case.objects.get(pk=second.pk).assignee == agent
    assert Case.objects.get(pk=third.pk).assignee is None


def test_a_team_without_auto_assignment_assigns_nothing(ingest, care, agent, clock):
    member(agent, care)
    care.auto_assign = False
    care.save()

    assert receive(ingest).assignee is None


def test_claiming_by_hand_ignores_pause_and_capacity(ingest, care, agent, other_agent, clock):
    member(other_agent, care)
    full = member(agent, care, capacity=0)
    full.assignment_paused = True
    full.save()
    case = receive(ingest)
    actions.release_case(case_id=case.pk, agent=other_agent)

    actions.claim_case(case_id=case.pk, agent=agent)

    assert Case.objects.get(pk=case.pk).assignee == agent


def test_the_middleware_marks_a_signed_in_agent_online(client, agent, settings, clock):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "staff.middleware.LastSeenMiddleware"]
    client.force_login(agent)

    client.get("/notifications/bell/")

    assert AgentProfile.objects.get(user=agent).last_seen_at == NOW


def test_supervisors_see_availability_and_pause_agents(ingest, care, agent, supervisor, clock):
    member(agent, care, capacity=3)
    receive(ingest)
    client = client_for(supervisor)

    page = client.get("/agents/").content.decode()
    response = client.post(f"/agents/{agent.pk}/pause/", {"paused": "1"})

    assert "Jo Lee" in page and "1 of 3" in page and "online" in page
    assert response.status_code == 302
    assert AgentProfile.objects.get(user=agent).assignment_paused
    assert "paused" in client.get("/agents/").content.decode()
    client.post(f"/agents/{agent.pk}/pause/", {"paused": "0"})
    assert not AgentProfile.objects.get(user=agent).assignment_paused


def test_agents_and_managers_cannot_pause_anyone(agent, other_agent, manager):
    for user in (agent, manager):
        client = client_for(user)
        assert client.get("/agents/").status_code == 403
        assert client.post(f"/agents/{other_agent.pk}/pause/", {"paused": "1"}).status_code == 403
    with pytest.raises(ActionNotAllowed):
        assignment.set_paused(agent_id=other_agent.pk, paused=True, by=agent)
    assert not AgentProfile.objects.get(user=other_agent).assignment_paused


# Concurrent ingestion on PostgreSQL.


def new_customers(count: int) -> list[dict]:
    """One first message from each of ``count`` customers never seen before."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    return [
        {
            "id": f"aa{n}",
            "at": (start + timedelta(seconds=n)).isoformat(),
            "channel": "x.mention",
            "author": {"id": str(90_000 + n), "handle": f"cust{n}", "name": f"Customer {n}"},
            "text": f"@acme_care my order {n} has not arrived",
        }
        for n in range(count)
    ]


def race(tmp_path: Path, events: list[dict]) -> None:
    """Two processes ingest alternate messages at the same moment."""
    files = []
    for half in (0, 1):
        file = tmp_path / f"half{half}.jsonl"
        file.write_text("".join(json.dumps(e) + "\n" for e in events[half::2]))
        files.append(("batch", file))
    counts = run_together(files, database_url=child_database_url())
    assert sum(c["stored"] for c in counts) == len(events)


@pytest.fixture
def online_team(care, agent, other_agent, ana, monkeypatch):
    # The processes run on the real clock, however long the machine takes to start them.
    monkeypatch.setenv("CAREINBOX_AGENT_ONLINE_SECONDS", "86400")
    return care


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_ingesting_at_once_never_give_away_more_than_capacity(
    tmp_path, online_team, agent, other_agent, ana
):
    for user in (agent, other_agent, ana):
        member(user, online_team, seen=timezone.now(), capacity=4)

    race(tmp_path, new_customers(30))

    held = Counter(
        Case.objects.exclude(assignee=None).values_list("assignee__username", flat=True)
    )
    assert held == {"jo": 4, "priya": 4, "ana": 4}
    assert Case.objects.filter(assignee=None).count() == 18
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.AUTO_ASSIGNED).count() == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_ingesting_at_once_share_cases_out_evenly(
    tmp_path, online_team, agent, other_agent, ana
):
    for user in (agent, other_agent, ana):
        member(user, online_team, seen=timezone.now(), capacity=100)

    race(tmp_path, new_customers(30))

    held = Counter(Case.objects.values_list("assignee__username", flat=True))
    assert held == {"jo": 10, "priya": 10, "ana": 10}
    turns = sorted(AgentProfile.objects.values_list("assignment_turn", flat=True))
    assert turns == [28, 29, 30]


def test_the_waiting_cases_task_runs_on_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["assign-waiting-cases"]

    assert entry["task"] == "casework.tasks.assign_waiting_cases_task"
