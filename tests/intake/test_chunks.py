"""Ingest runs a transaction a chunk: a payload the database refuses is found by halving its
chunk, kept in quarantine, and every other message of the chunk lands."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from cases.models import Message
from intake.models import QuarantinedPayload
from intake.services import ingest_payloads

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def tweet(n: int, event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "at": (T0 + timedelta(minutes=n)).isoformat(),
            "channel": "x.mention",
            "author": {"id": str(1000 + n % 7), "handle": f"user{n % 7}", "name": "Someone"},
            "text": f"@acme_care message {n}",
        }
    ).encode()


@pytest.fixture
def refusing_poison():
    """The database itself refuses a message whose id is "poison", as it refuses a value it
    cannot store: with a data exception, inside the chunk's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_poison() RETURNS trigger AS $$
            BEGIN
                IF NEW.external_id = 'poison' THEN
                    RAISE EXCEPTION 'cannot store this message' USING ERRCODE = '22023';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_refuse_poison BEFORE INSERT ON tickets_message
                FOR EACH ROW EXECUTE FUNCTION test_refuse_poison();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER test_refuse_poison ON tickets_message; "
            "DROP FUNCTION test_refuse_poison();"
        )


def test_a_payload_the_database_refuses_is_quarantined_and_the_rest_of_its_chunk_lands(
    accounts, refusing_poison, settings
):
    settings.CAREINBOX_INGEST_CHUNK = 16
    payloads = [tweet(n, f"t{n}") for n in range(40)]
    poison = tweet(17, "poison")
    payloads.insert(17, poison)

    result = ingest_payloads(source="sample", payloads=payloads, accounts=accounts)

    assert result.stored == 40
    assert [bytes(q.raw_payload) for q in result.quarantined] == [poison]
    assert "cannot store this message" in result.quarantined[0].error
    assert Message.objects.count() == 40
    assert not Message.objects.filter(external_id="poison").exists()
    assert QuarantinedPayload.objects.get().raw_payload.tobytes() == poison
