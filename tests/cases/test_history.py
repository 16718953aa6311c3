"""The case history cannot be rewritten, not even with SQL sent past the models; a customer's
erasure is the one exception, and it may only blank what staff typed."""

import pytest
from django.db import DatabaseError, connection, transaction

from cases import history
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


@pytest.fixture
def handed_off(ingest):
    case = ingest().message.case
    return history.record(case=case, kind=CaseEvent.Kind.HANDED_OFF, data={"note": "Gwen, 4 Elm"})


def test_the_erasure_blanks_what_staff_typed_and_an_update_after_it_is_refused(handed_off):
    refused = pytest.raises(DatabaseError, match="case history is append-only")

    with transaction.atomic():
        assert history.erase_typed_text(case_ids=[handed_off.case_id]) == 1
        # The exception ends with the erasure's own statement, not with its transaction.
        with refused, transaction.atomic():
            CaseEvent.objects.filter(pk=handed_off.pk).update(data={})

    assert CaseEvent.objects.get(pk=handed_off.pk).data == {"note": history.ERASED}
    with refused, transaction.atomic():
        CaseEvent.objects.filter(pk=handed_off.pk).update(data={})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tickets_caseevent SET occurred_at = now() WHERE id = %s",
        "UPDATE tickets_caseevent SET kind = 'claimed' WHERE id = %s",
        "DELETE FROM tickets_caseevent WHERE id = %s",
    ],
)
def test_while_erasing_the_database_still_refuses_all_but_a_change_of_data(handed_off, statement):
    refused = pytest.raises(DatabaseError, match="case history is append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL careinbox.erasing = 'on'")
        cursor.execute(statement, [handed_off.pk])

    assert CaseEvent.objects.get(pk=handed_off.pk).kind == CaseEvent.Kind.HANDED_OFF
