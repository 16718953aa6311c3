"""``manage.py retry_quarantined``: re-processing every waiting payload after a fix."""

import io

import pytest
from django.core.management import CommandError, call_command

from cases.models import Message
from intake.models import QuarantinedPayload
from intake.services import quarantine_payload


def test_the_fixed_payloads_are_stored_and_the_others_stay_with_their_new_error(
    accounts, demo_traffic_lines
):
    good = quarantine_payload(
        source="sample", raw=demo_traffic_lines[0], error="A bug, since fixed"
    )
    bad = quarantine_payload(source="sample", raw=b"{still broken", error="Unreadable")
    discarded = quarantine_payload(source="sample", raw=b"{junk", error="Unreadable")
    discarded.status = QuarantinedPayload.Status.DISCARDED
    discarded.save()
    out, err = io.StringIO(), io.StringIO()

    call_command("retry_quarantined", stdout=out, stderr=err)

    assert out.getvalue().splitlines() == ["retried: 2", "stored: 1", "still quarantined: 1"]
    assert err.getvalue().startswith(f"quarantined #{bad.pk}: ")
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, bad.status) == ("ingested", "pending")
    assert Message.objects.filter(direction="inbound").count() == 1
    assert QuarantinedPayload.objects.get(pk=discarded.pk).status == "discarded"


def test_only_the_named_source_is_retried(accounts):
    quarantine_payload(source="x", raw=b"{", error="Unreadable", account=accounts["x"])
    out = io.StringIO()
    call_command("retry_quarantined", source="facebook", stdout=out)
    assert out.getvalue().strip() == "No quarantined payload is waiting for a retry."


def test_ctrl_c_stops_between_payloads_and_says_how_far_it_got(accounts, monkeypatch):
    for n in range(3):
        quarantine_payload(source="x", raw=b"{%d" % n, error="Unreadable", account=accounts["x"])
    calls = []

    def interrupted_on_the_second(*, item):
        calls.append(item.pk)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(
        "intake.management.commands.retry_quarantined.retry_quarantined",
        interrupted_on_the_second,
    )
    with pytest.raises(CommandError, match="Stopped after 1 of 3 payloads"):
        call_command("retry_quarantined", stdout=io.StringIO())
