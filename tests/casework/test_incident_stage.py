"""Incidents found at ingest: a spike proposes one and tells the supervisors; the sample
week finds its two."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.incidents import scores
from cases.export import export_cases
from cases.models import Message
from incidents.models import Incident
from notifications.models import Notification
from tests.factories import T0, AuthorFactory
from tests.incidents.world import SPIKE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def detection_on(settings):
    settings.CAREINBOX_INCIDENTS = True


SAMPLE = Path(__file__).resolve().parents[2] / "demo" / "sample_data" / "traffic.jsonl"


def test_the_sample_week_finds_its_two_incidents_and_no_other(settings, capsys):
    settings.CAREINBOX_INGEST_CHUNK = 20
    call_command("ingest_sample", str(SAMPLE))
    figures = scores(list(export_cases()), SAMPLE)
    for topic in ("manchester-broadband-outage", "myacme-payments-down"):
        held = float(figures[f"{topic}: held by that incident"].split()[0])
        outside = float(figures[f"{topic}: that incident's messages from outside"].split()[0])
        assert held >= 0.8
        assert outside <= 0.1
    assert figures["incidents from unlabelled traffic"] == "0"


def test_a_spike_proposes_one_incident_and_tells_the_supervisors(ingest, supervisor, agent):
    authors = [AuthorFactory() for _ in range(6)]
    for n, text in enumerate(SPIKE):
        ingest(text=text, author=authors[n % 6], sent_at=T0 + timedelta(minutes=5 * n))
    ingest(text="@acme_care my kettle is leaking", sent_at=T0 + timedelta(minutes=3))

    [incident] = Incident.objects.all()
    assert incident.status == Incident.Status.PROPOSED
    linked = Message.objects.filter(incident_link__incident=incident)
    assert linked.count() == len(SPIKE)
    assert not linked.filter(text__contains="kettle").exists()
    told = Notification.objects.filter(kind=Notification.Kind.INCIDENT)
    assert {n.recipient_id for n in told} == {supervisor.pk}


def test_fewer_customers_than_the_threshold_propose_nothing(ingest):
    author = AuthorFactory()
    for n, text in enumerate(SPIKE):
        ingest(text=text, author=author, sent_at=T0 + timedelta(minutes=5 * n))
    assert not Incident.objects.exists()
