"""The Satisfaction dashboard: the surveys sent in the range per agent, team and channel,
with how many were answered, the average score and the CSAT."""

import csv
import io
from datetime import timedelta

import pytest

from cases.models import Case
from casework import actions, surveys
from staff.models import Team
from tests.conftest import NOW, client_for
from tests.factories import AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db


def surveyed_case(ingest, by, *, channel="x.dm", assignee=None, team=None):
    author = AuthorFactory(external_id="c@example.com") if channel == "email" else AuthorFactory()
    message = ingest(InboundFactory(author=author, channel=channel, sent_at=NOW)).message
    Case.objects.filter(pk=message.case_id).update(assignee=assignee, team=team)
    actions.set_status(case_id=message.case_id, by=by, status=Case.Status.RESOLVED)
    return surveys.offer_survey(case_id=message.case_id)


def export(client, key):
    day = NOW.date().isoformat()
    response = client.get("/dashboards/satisfaction/", {"start": day, "end": day, "export": key})
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_surveys_are_counted_per_agent_team_and_channel_with_the_response_rate(
    ingest, manager, agent, supervisor, clock
):
    care = Team.objects.create(name="Care")
    manager.agent_profile.teams.add(care)  # managers see their teams' figures
    answered = [
        surveyed_case(ingest, supervisor, assignee=agent, team=care),
        surveyed_case(ingest, supervisor, assignee=agent, team=care),
        surveyed_case(ingest, supervisor, channel="email", team=care),
    ]
    surveyed_case(ingest, supervisor, assignee=agent, team=care)  # never answered
    for survey, score in zip(answered, (5, 2, 4), strict=True):
        surveys.answer_survey(token=survey.token, score=score, now=NOW + timedelta(hours=1))
    client = client_for(manager)

    assert export(client, "satisfaction-agents") == [
        ["Agent", "Surveys sent", "Answered", "Response rate", "Average score", "CSAT"],
        ["Jo Lee", "3", "2", "66.7", "3.5", "50.0"],
        ["No agent", "1", "1", "100.0", "4.0", "100.0"],
        ["All", "4", "3", "75.0", "3.67", "66.7"],
    ]
    assert export(client, "satisfaction-channels")[1:] == [
        ["Email", "1", "1", "100.0", "4.0", "100.0"],
        ["X direct message", "3", "2", "66.7", "3.5", "50.0"],
        ["All", "4", "3", "75.0", "3.67", "66.7"],
    ]
    assert export(client, "satisfaction-teams")[1][:4] == ["Care", "4", "3", "75.0"]
    page = client.get("/dashboards/satisfaction/", {"start": NOW.date().isoformat()})
    html = page.content.decode()
    assert page.status_code == 200 and "Satisfaction per agent" in html
    assert 'aria-current="page">Satisfaction</a>' in html


def test_agents_cannot_see_the_dashboard(agent):
    assert client_for(agent).get("/dashboards/satisfaction/").status_code == 403
