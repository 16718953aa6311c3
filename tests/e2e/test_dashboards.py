"""A manager reads the dashboards after the simulated agents have worked part of the sample
week: the charts draw under the Content-Security-Policy, and the README's screenshot is taken."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from demo.sample import DEMO_TRAFFIC
from demo.sandbox import mail
from demo.simulation import Simulation, ensure_bots, ensure_sla_policy
from staff.models import AgentProfile, Team
from tests.e2e.conftest import db_turn, poll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Most of the sample week's first day, on every channel.
EVENTS = 70


def test_a_manager_sees_the_worked_week_in_charts(
    sign_in, sandbox, agent, other_agent, supervisor, manager, screenshots
):
    with db_turn():
        team = Team.objects.create(name="Care team")
        for user in (agent, other_agent, supervisor):
            AgentProfile.objects.get(user=user).teams.add(team)
        ensure_bots(team=team)
        ensure_sla_policy()
    sandbox.state.load(DEMO_TRAFFIC.read_bytes().splitlines()[:EVENTS], rebase_to=timezone.now())
    mail.deliver_visible(sandbox)
    poll()
    with db_turn():
        done = Simulation(seed=3).step(until=timezone.now())
    assert done["resolved"] > 0 and done["handed_off"] > 0

    desk = sign_in(manager)
    desk.page.get_by_role("link", name="Dashboards").click()

    expect(desk.page.get_by_role("heading", name="Backlog now")).to_be_visible()
    charts = desk.page.locator("canvas")
    expect(charts.first).to_be_visible()
    # Chart.js sized and drew every chart: a canvas it never touched stays 300 by 150.
    assert charts.count() >= 2
    assert all(
        size != "300x150"
        for size in charts.evaluate_all("cs => cs.map(c => `${c.width}x${c.height}`)")
    )
    desk.page.screenshot(path=screenshots / "dashboard.png", full_page=True)
    assert desk.csp_violations == [] and desk.page_errors == []
