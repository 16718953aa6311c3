"""Praise at ingest: found, tagged, passed on to whom it names, and on the Kudos page."""

import json
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from bench.care import _praises
from cases.export import export_cases
from cases.models import Case
from notifications.models import Notification
from routing.models import Store
from staff.models import AgentProfile, Team
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
TRAFFIC = "demo/sample_data/traffic.jsonl"


@pytest.fixture
def care(agent, supervisor):
    team = Team.objects.create(name="Care")
    for user in (agent, supervisor):
        AgentProfile.objects.get(user=user).teams.add(team)
    agent.email, supervisor.email = "jo@example.com", "sam@example.com"
    agent.save()
    supervisor.save()
    return team


def test_praise_for_an_agent_reaches_them_and_their_supervisor(care, agent, supervisor, ingest):
    # The ingest fixture runs the on-commit work, as the commit would: the mail goes then.
    result = ingest(text="@acme_care Jo was brilliant today, sorted my broadband in minutes")

    message = result.message
    assert message.praise_for == "Jo (Care)"
    assert "praise" in set(message.case.tags.values_list("name", flat=True))
    praised = Notification.objects.filter(kind=Notification.Kind.PRAISED)
    assert set(praised.values_list("recipient", flat=True)) == {agent.pk, supervisor.pk}
    assert sorted(to for m in mail.outbox for to in m.to) == ["jo@example.com", "sam@example.com"]


def test_praise_for_a_store_person_who_is_not_a_user_emails_the_store(ingest):
    Store.objects.create(name="White Rose", city="Leeds", contact_email="leeds@example.com")
    result = ingest(text="Lindsey at the White Rose store was lovely, so patient with me.")

    assert result.message.praise_for == "Lindsey (White Rose store)"
    assert [m.to for m in mail.outbox] == [["leeds@example.com"]]
    assert not Notification.objects.filter(kind=Notification.Kind.PRAISED).exists()


def test_a_complaint_naming_someone_is_not_praise(ingest):
    result = ingest(text="@acme_care Joanne never called back, still waiting. Thanks a lot.")

    assert result.message.praise_for == ""
    assert not Case.objects.filter(tags__name="praise").exists()


def test_kudos_page_lists_praise_for_managers_only(care, agent, manager, ingest):
    ingest(
        text="@acme_care Jo was brilliant today, sorted my broadband in minutes",
        sent_at=timezone.now(),
    )

    page = client_for(manager).get("/kudos/")
    assert page.status_code == 200
    assert "Jo (Care)" in page.text
    assert client_for(agent).get("/kudos/").status_code == 403


def test_the_sample_week_finds_its_praise(db):
    call_command("ingest_sample", TRAFFIC)
    truth = {e["id"]: e["truth"] for e in map(json.loads, Path(TRAFFIC).read_text().splitlines())}
    found = {
        m["external_id"]: m["praise_for"]
        for row in export_cases()
        for m in row["messages"]
        if m["direction"] == "inbound"
    }
    praising = [i for i in truth if truth[i]["praise_for"]]
    others = [i for i in truth if not truth[i]["praise_for"]]
    right = [i for i in praising if _praises(found.get(i), truth[i]["praise_for"])]
    claimed = [i for i in others if found.get(i)]
    assert len(praising) == 15
    assert len(right) >= 0.8 * len(praising)
    assert len(claimed) <= len(others) / 100
