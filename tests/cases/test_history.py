"""The case history cannot be rewritten, not even with SQL sent past the models."""

import pytest
from django.db import DatabaseError, connection, transaction

from cases.models import CaseEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tickets_caseevent SET data = '{}' WHERE id = %s",
        "UPDATE tickets_caseevent SET occurred_at = occurred_at WHERE id = %s",
        "DELETE FROM tickets_caseevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(ingest, statement):
    event = CaseEvent.objects.filter(case=ingest().message.case).first()

    refused = pytest.raises(DatabaseError, match="case history is append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [event.pk])

    assert CaseEvent.objects.get(pk=event.pk).data == event.data


def test_querysets_are_refused_too(ingest):
    case = ingest().message.case

    events = CaseEvent.objects.filter(case=case)

    with pytest.raises(DatabaseError, match="case history is append-only"), transaction.atomic():
        events.update(data={"rewritten": True})
    with pytest.raises(DatabaseError, match="case history is append-only"), transaction.atomic():
        events._raw_delete(connection.alias)

    assert CaseEvent.objects.filter(case=case).exists()
