"""Incidents found at ingest, on the sample week."""

from pathlib import Path

import pytest
from django.core.management import call_command

from bench.incidents import scores
from cases.export import export_cases

pytestmark = pytest.mark.django_db

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
