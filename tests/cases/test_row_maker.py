"""``RowMaker`` makes the unsaved rows the keyword form makes, related rows kept."""

from datetime import UTC, datetime

import pytest

from cases.bulk import RowMaker
from cases.models import Case, CaseEvent, Message

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def columns(row):
    return {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}


def test_a_row_has_the_values_and_defaults_the_keyword_form_gives():
    case, message = Case(pk=5), Message(pk=7)
    values = {"case": case, "kind": "message_received", "occurred_at": AT, "message": message}

    made = RowMaker(CaseEvent)(**values)

    assert columns(made) == columns(CaseEvent(**values))
    assert made.data == {} and made.data is not RowMaker(CaseEvent)(**values).data
    assert made._state.adding


def test_a_related_row_given_by_object_is_kept_even_before_it_is_saved():
    case = Case()  # saved later, with the event: insert_rows reads its id then

    made = RowMaker(CaseEvent)(case=case, kind="created", occurred_at=AT, actor=None)

    assert made.case is case and made.case_id is None
    assert made.actor is None


def test_a_field_the_model_does_not_have_is_an_error():
    with pytest.raises(TypeError, match="no field colour"):
        RowMaker(CaseEvent)(kind="created", colour="red")
