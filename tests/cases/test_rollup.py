"""The per-case roll-up the dashboards read is kept in step with the history that defines it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import rollup
from cases.models import Case, CaseRollup
from casework import actions
from casework.merge import merge_customers
from sla.models import SLAPolicy
from staff.models import Team
from tests.factories import T0, AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db


def test_a_case_s_channel_is_its_earliest_message_s_even_when_that_arrives_last(ingest):
    author = AuthorFactory()
    case = ingest(InboundFactory(author=author, channel="x.dm", sent_at=T0)).message.case
    assert CaseRollup.objects.get(case=case).first_channel == "x.dm"

    ingest(InboundFactory(author=author, channel="x.mention", sent_at=T0 - timedelta(hours=1)))

    assert CaseRollup.objects.get(case=case).first_channel == "x.mention"


def test_a_new_case_is_stored_with_its_channel_and_not_written_again(ingest):
    author = AuthorFactory()
    with CaptureQueriesContext(connection) as first:
        case = ingest(InboundFactory(author=author, channel="facebook.message")).message.case

    case.refresh_from_db()
    assert case.first_channel == "facebook.message"
    assert [q for q in first if q["sql"].startswith('UPDATE "tickets_case"')] == []


def test_the_first_reply_and_the_first_resolution_are_kept_not_the_latest(ingest, agent):
    case = ingest(InboundFactory()).message.case
    actions.claim_case(case_id=case.pk, agent=agent)
    actions.set_status(case_id=case.pk, by=agent, status="resolved")
    first_resolved = CaseRollup.objects.get(case=case).first_resolved_at
    assert first_resolved is not None

    actions.set_status(case_id=case.pk, by=agent, status="open")
    actions.set_status(case_id=case.pk, by=agent, status="resolved")

    assert CaseRollup.objects.get(case=case).first_resolved_at == first_resolved


def test_every_stored_roll_up_reads_as_its_history_does(ingest, agent):
    author = AuthorFactory()
    for minutes in (30, 0, 10):
        ingest(InboundFactory(author=author, sent_at=T0 + timedelta(minutes=minutes)))
    other = ingest(InboundFactory(channel="x.dm")).message.case
    actions.claim_case(case_id=other.pk, agent=agent)
    actions.set_status(case_id=other.pk, by=agent, status="resolved")

    stored = {r.case_id: _fields(r) for r in CaseRollup.objects.all()}
    assert stored == {r.case_id: _fields(r) for r in rollup.rollups(stored)}
    assert len(stored) == 2


def _fields(row: CaseRollup) -> dict:
    return {f.name: getattr(row, f.attname) for f in CaseRollup._meta.concrete_fields}


def test_the_case_row_keeps_its_roll_up_s_channel_through_a_merge(ingest):
    mailed = ingest(InboundFactory(channel="email", sent_at=T0)).message.case
    tweeted = ingest(InboundFactory(channel="x.dm", sent_at=T0 - timedelta(hours=2))).message.case
    mailed.refresh_from_db()
    assert mailed.first_channel == "email"

    # The direct message, two hours earlier, folds into the email's case: now its first.
    merge_customers(source=tweeted.customer, target=mailed.customer)

    mailed.refresh_from_db()
    assert mailed.first_channel == "x.dm"
    assert CaseRollup.objects.get(case=mailed).first_channel == "x.dm"
    kept = dict(Case.objects.values_list("pk", "first_channel"))
    assert kept == dict(CaseRollup.objects.values_list("case_id", "first_channel"))


def _copy(case: Case) -> tuple:
    return CaseRollup.objects.values_list("team_id", "priority", "sla_policy_id").get(case=case)


def test_a_roll_up_keeps_its_case_s_team_priority_and_policy_whatever_changes_them(ingest):
    case = ingest(InboundFactory()).message.case
    team = Team.objects.create(name="Returns")
    policy = SLAPolicy.objects.create(name="Urgent", priority="urgent", first_response_minutes=15)

    # A bare statement, as a bulk change or the admin makes: no event, no refresh.
    Case.objects.filter(pk=case.pk).update(team=team, priority="urgent", sla_policy=policy)
    assert _copy(case) == (team.pk, "urgent", policy.pk)

    Case.objects.filter(pk=case.pk).update(priority="low")
    assert _copy(case) == (team.pk, "low", policy.pk)

    # Deleting them takes them off the case row (SET_NULL): the copy follows.
    team.delete()
    policy.delete()
    assert _copy(case) == (None, "low", None)


def test_a_new_roll_up_starts_with_its_case_row(ingest):
    case = ingest(InboundFactory()).message.case
    CaseRollup.objects.filter(case=case).delete()
    team = Team.objects.create(name="Returns")
    Case.objects.filter(pk=case.pk).update(team=team, priority="high")  # no roll-up to copy to

    rollup.refresh([case.pk])

    assert _copy(case) == (team.pk, "high", None)
