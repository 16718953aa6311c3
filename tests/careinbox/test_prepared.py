"""Prepared reads: compiled once, run with new values, rows as ``values()`` gives them."""

from datetime import datetime

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext

from careinbox.prepared import PreparedRead, PreparedReadError
from cases.models import Case, CaseEvent
from casework import actions
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db

FIELDS = ["pk", "kind", "data", "occurred_at", "actor__username", "case__spam"]


def history(case_id: int, kind: str):
    return CaseEvent.objects.filter(case_id=case_id, kind=kind).values(*FIELDS).order_by("pk")


def test_a_prepared_read_gives_what_values_gives_for_any_values(ingest, agent):
    cases = [ingest(author=AuthorFactory()).message.case for _ in range(2)]
    actions.claim_case(case_id=cases[1].pk, agent=agent)
    read = PreparedRead(history, case_id=int, kind=str)

    for case in cases:
        for kind in ["created", "claimed"]:
            assert read.rows(case_id=case.pk, kind=kind) == list(history(case.pk, kind))
    claimed = read.rows(case_id=cases[1].pk, kind="claimed")[0]
    assert isinstance(claimed["occurred_at"], datetime)
    assert claimed["data"] == {"to": agent.pk}
    assert claimed["case__spam"] is False


def test_it_is_compiled_once_per_connection(ingest):
    case = ingest(author=AuthorFactory()).message.case
    read = PreparedRead(history, case_id=int, kind=str)
    read.rows(case_id=case.pk, kind="created")
    compiled = read.compiled[connections[DEFAULT_DB_ALIAS]]

    with CaptureQueriesContext(connection) as captured:
        rows = read.rows(case_id=case.pk + 1, kind="claimed")

    assert rows == []
    assert len(captured) == 1
    assert read.compiled[connections[DEFAULT_DB_ALIAS]] is compiled
    assert len(read.compiled) == 1


def test_a_parameter_that_does_not_reach_the_sql_whole_is_refused(db):
    read = PreparedRead(
        lambda word: Case.objects.filter(subject__icontains=word).values("pk"), word=str
    )

    with pytest.raises(PreparedReadError):
        read.rows(word="kettle")


def test_times_are_parameters_too(ingest):
    cases = [ingest(author=AuthorFactory()).message.case for _ in range(3)]
    read = PreparedRead(
        lambda since: Case.objects.filter(opened_at__gte=since).values("pk").order_by("pk"),
        since=datetime,
    )

    for case in cases:
        assert read.rows(since=case.opened_at) == list(
            Case.objects.filter(opened_at__gte=case.opened_at).values("pk").order_by("pk")
        )


def test_only_ints_strings_and_times_are_parameters():
    with pytest.raises(PreparedReadError):
        PreparedRead(lambda ids: Case.objects.filter(pk__in=ids).values("pk"), ids=list)
