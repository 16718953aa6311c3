import json

import pytest

from cases.models import Message
from intake.models import QuarantinedPayload
from intake.services import ingest_payloads, retry_quarantined

pytestmark = pytest.mark.django_db


def event(event_id, **fields):
    base = {
        "id": event_id,
        "at": "2026-11-02T08:09:41Z",
        "channel": "x.mention",
        "author": {"id": "431221750", "handle": "neilcarver", "name": "Neil", "followers": 97},
        "text": "@acme_care HomeHub flashing orange",
    }
    return json.dumps(base | fields).encode()


def test_malformed_event_is_quarantined_and_the_rest_of_the_batch_is_stored(accounts):
    batch = [event("e1"), b'{"id": "e2", "channel": "x.mention"', event("e3", at="yesterday")]
    batch.append(event("e4"))

    result = ingest_payloads(source="sample", payloads=batch, accounts=accounts)

    assert (result.stored, result.duplicates, len(result.quarantined)) == (2, 0, 2)
    assert set(Message.objects.values_list("external_id", flat=True)) == {"e1", "e4"}
    errors = sorted(QuarantinedPayload.objects.values_list("error", flat=True))
    assert errors[0].startswith("Event 'e3': 'yesterday' is not an ISO 8601 time")
    assert errors[1].startswith("Not a JSON event")
    kept = QuarantinedPayload.objects.get(error__startswith="Not a JSON")
    assert bytes(kept.raw_payload) == b'{"id": "e2", "channel": "x.mention"'


def test_the_same_bad_payload_again_counts_an_attempt_on_one_row(accounts):
    for _ in range(3):
        ingest_payloads(source="sample", payloads=[b"not json"], accounts=accounts)

    item = QuarantinedPayload.objects.get()
    assert item.attempts == 3


def test_retry_ingests_a_payload_once_its_account_is_connected(accounts):
    result = ingest_payloads(
        source="sample",
        payloads=[event("e9", channel="email", author={"email": "A@B.example"})],
        accounts={"x": accounts["x"]},
    )
    item = result.quarantined[0]
    assert "No email channel account" in item.error

    assert retry_quarantined(item=item)

    item.refresh_from_db()
    assert item.status == QuarantinedPayload.Status.INGESTED
    message = Message.objects.get(external_id="e9")
    assert message.author_identity.external_id == "a@b.example"
