"""The side bar's queue counts, kept in step by the database, always equal a fresh count of
the cases, whatever changed them: ingest, agents' actions, merges, bulk writes, plain SQL."""

import pytest
from django.db import connection
from django.utils import timezone

from cases.bulk import update_rows
from cases.inbox import queue_counts
from cases.models import Case, CaseCount
from cases.services import compact_case_counts
from casework import actions
from casework.merge import merge_customers
from staff.models import Team
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db


def fresh(user) -> dict[str, int]:
    """What each queue holds, counted from the cases themselves."""
    return {
        c.queue.key: Case.objects.filter(c.queue.condition).count()
        for c in queue_counts(user=user)
    }


def kept(user) -> dict[str, int]:
    return {c.queue.key: c.count for c in queue_counts(user=user)}


def test_kept_counts_follow_every_kind_of_change(ingest, agent, supervisor):
    cases = [
        ingest(author=AuthorFactory(external_id=str(n)), text=f"help {n}").message.case
        for n in range(6)
    ]
    team = Team.objects.create(name="Leeds store")
    views = [agent, supervisor]
    assert all(kept(u) == fresh(u) for u in views)
    assert kept(agent)["unassigned"] == 6

    changes = [
        lambda: actions.claim_case(case_id=cases[0].pk, agent=agent),
        lambda: actions.set_status(case_id=cases[1].pk, by=supervisor, status="pending"),
        lambda: actions.set_status(case_id=cases[2].pk, by=supervisor, status="resolved"),
        lambda: actions.set_spam(case_id=cases[3].pk, by=supervisor, spam=True),
        lambda: merge_customers(source=cases[5].customer, target=cases[4].customer),
        lambda: Case.objects.filter(pk=cases[4].pk).update(team=team),
        lambda: update_rows(
            Case, [Case(pk=cases[0].pk, status="open", assignee_id=None)], ["status", "assignee"]
        ),
        compact_case_counts,
        lambda: _plain_sql("UPDATE tickets_case SET status = 'closed' WHERE id = %s", cases[2].pk),
        lambda: ingest(author=AuthorFactory(external_id="0"), text="again"),
        compact_case_counts,
    ]
    for change in changes:
        change()
        for user in views:
            assert kept(user) == fresh(user), change


def test_compacting_leaves_one_row_per_combination_and_the_same_counts(ingest, agent):
    for n in range(5):
        case = ingest(author=AuthorFactory(external_id=str(n))).message.case
        Case.objects.filter(pk=case.pk).update(status="pending", opened_at=timezone.now())
    before = kept(agent)
    rows = CaseCount.objects.count()

    compact_case_counts()

    assert kept(agent) == before
    assert CaseCount.objects.count() < rows
    assert CaseCount.objects.filter(delta=0).count() == 0


def test_queue_counts_read_no_case_rows_but_the_ones_due_soon(
    ingest, agent, django_assert_num_queries
):
    ingest()
    queue_counts(user=agent)  # the user's permissions and teams, read once, kept on the user

    with django_assert_num_queries(2):  # kept counts; cases due soon
        queue_counts(user=agent)


def _plain_sql(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
