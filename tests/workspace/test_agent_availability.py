"""The Agents page flags an agent over capacity, and a paused agent is told so on every
workspace page."""

import re

import pytest

from casework import actions
from staff.models import AgentProfile
from tests.conftest import client_for
from tests.factories import InboundFactory
from workspace import context_processors

pytestmark = pytest.mark.django_db


def pause(user) -> None:
    AgentProfile.objects.filter(user=user).update(assignment_paused=True)


def banner(html: str) -> str:
    match = re.search(r'<div class="paused-banner"[^>]*>(.*?)</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def test_an_agent_holding_more_than_their_capacity_is_flagged(
    ingest, agent, other_agent, supervisor
):
    AgentProfile.objects.filter(user=agent).update(max_active_cases=1)
    for _ in range(2):
        actions.claim_case(case_id=ingest(InboundFactory()).message.case_id, agent=agent)
    actions.claim_case(case_id=ingest(InboundFactory()).message.case_id, agent=other_agent)

    html = client_for(supervisor).get("/agents/").content.decode()

    rows = {
        re.search(r'<th scope="row">(.*?)</th>', row).group(1): row
        for row in re.findall(r'<tr data-testid="agent-row">(.*?)</tr>', html, re.S)
    }
    assert (
        '<td class="over-capacity" data-testid="over-capacity">2 of 1 '
        "<strong>— over capacity</strong></td>"
    ) in rows["Jo Lee"]
    assert "<td>1 of 8</td>" in rows["Priya Shah"]
    assert html.count("over capacity") == 1


def test_a_paused_agent_is_told_on_the_inbox_and_asked_to_see_a_supervisor(
    agent, other_agent, manager
):
    pause(agent)
    pause(manager)  # works no cases: nothing is assigned to them anyway

    mine = client_for(agent).get("/").content.decode()
    theirs = client_for(other_agent).get("/").content.decode()

    assert banner(mine) == (
        "You are paused: no new cases are assigned to you automatically; you can still claim "
        "them. Ask a supervisor to resume you."
    )
    assert 'data-testid="paused-banner"' not in theirs
    assert "You are paused" not in theirs
    dashboards = client_for(manager).get("/dashboards/")
    assert dashboards.status_code == 200 and "You are paused" not in dashboards.content.decode()


def test_a_paused_supervisor_resumes_themselves_from_the_banner(supervisor, agent):
    pause(supervisor)
    client = client_for(supervisor)

    page = client.get("/notifications/").content.decode()
    resumed = client.post(f"/agents/{supervisor.pk}/pause/", {"paused": "0"}, follow=True)

    assert "You are paused" in banner(page)
    assert f'action="/agents/{supervisor.pk}/pause/"' in page
    assert not AgentProfile.objects.get(user=supervisor).assignment_paused
    assert "Resumed automatic assignment for Sam Ortiz." in resumed.content.decode()
    assert 'data-testid="paused-banner"' not in resumed.content.decode()


def test_the_banner_reads_the_profile_the_top_bar_reads_for_the_name(
    agent, django_assert_num_queries
):
    pause(agent)
    user = type(agent).objects.get(pk=agent.pk)

    with django_assert_num_queries(1):
        name = context_processors.my_name(user)
        paused = context_processors.assignment_paused(user)

    assert (name, paused) == ("Jo Lee", True)
