"""The agents' roll-up (``AgentActivity``) is kept in step with the history that defines it,
and the agents dashboard, reading it, leaves out spam and folded cases as they change: on
the week of ``test_dashboards``, worked through the real services and the sandbox."""

import importlib
from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.db.models import BigIntegerField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from cases.models import AgentActivity, Case, CaseEvent
from casework import actions
from casework.merge import merge_customers
from demo.simulation import clock_at
from reporting.agents import activity, agents
from reporting.figures import NO_TEAM, Filters
from tests.reporting.test_dashboards import at, staff, week  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)  # replies are sent on commit

START, END = date(2026, 11, 2), date(2026, 11, 4)

# (measure, the kinds of event it counts, whom they count for, resolutions only), as the
# agents dashboard counted them from the history before the roll-up.
FROM_HISTORY = [
    ("taken-on", ["claimed", "handed_off", "reassigned"], "to", False),
    ("replied", ["reply_sent"], "actor", False),
    ("resolved-by", ["status_changed"], "actor", True),
    ("handed-off", ["handed_off"], "actor", False),
    ("handed-to", ["handed_off"], "to", False),
]


def recomputed() -> Counter:
    """Every (case, agent, measure, time) the history counts, read from the events."""
    rows: Counter = Counter()
    for measure, kinds, who, resolved_only in FROM_HISTORY:
        events = CaseEvent.objects.filter(kind__in=kinds)
        if resolved_only:
            events = events.filter(data__to="resolved")
        if who == "actor":
            agents = events.filter(actor__isnull=False).values_list(
                "case_id", "actor_id", "occurred_at"
            )
        else:
            # A hand-off to a team alone names no receiver: "to" is null.
            agents = (
                events.exclude(data__to=None)
                .annotate(to=Cast(KeyTextTransform("to", "data"), BigIntegerField()))
                .values_list("case_id", "to", "occurred_at")
            )
        rows.update((case, agent, measure, at) for case, agent, at in agents)
    return rows


def stored() -> Counter:
    return Counter(
        AgentActivity.objects.values_list("case_id", "agent_id", "measure", "occurred_at")
    )


def counted_from_history(filters: Filters) -> set[tuple[str, int, int]]:
    """(measure, agent, case) in the range of the cases the filters count, from the history."""
    ids = set(Case.objects.filter(filters.counted_q()).values_list("pk", flat=True))
    return {
        (m, agent, case)
        for case, agent, m, when in recomputed()
        if case in ids and filters.since <= when < filters.until
    }


def counted_by_dashboard(filters: Filters) -> set[tuple[str, int, int]]:
    return set(activity(filters).values_list("measure", "agent_id", "case_id"))


def test_the_roll_up_holds_what_the_history_counts(week, staff):  # noqa: F811
    with clock_at(at(2, "10:00")):  # to a team, no one in particular
        actions.hand_off_case(
            case_id=week["eve"], by=staff["sam"], note="Email it", to_team_id=staff["email"].pk
        )

    rows = stored()

    assert rows == recomputed()
    assert Counter(measure for _, _, measure, _ in rows.elements()) == {
        "taken-on": 8,  # 2 claims, 2 by a reply, 3 hand-offs to someone, 1 reassignment
        "replied": 6,
        "resolved-by": 3,
        "handed-off": 4,  # the hand-off to a team counts for the one who handed it off
        "handed-to": 3,
    }


def test_the_dashboard_follows_spam_and_merges(week, staff):  # noqa: F811
    everyone = Filters(START, END)
    filters = [
        everyone,
        Filters(START, END, str(staff["social"].pk)),
        Filters(START, END, NO_TEAM),
        Filters(START, END, viewer=staff["sam"].pk),
    ]
    jo = staff["jo"].pk

    def replied_by_jo() -> set[int]:
        return {case for m, agent, case in counted_by_dashboard(everyone) if
                (m, agent) == ("replied", jo)}  # fmt: skip

    def check() -> None:
        assert stored() == recomputed()
        for f in filters:
            assert counted_by_dashboard(f) == counted_from_history(f), f

    check()
    assert replied_by_jo() == {week["ann"], week["dan"], week["fay"]}

    with clock_at(at(3, "09:00")):
        actions.set_spam(case_id=week["fay"], by=staff["sam"], spam=True)
    check()
    assert replied_by_jo() == {week["ann"], week["dan"]}

    with clock_at(at(3, "09:05")):
        actions.set_spam(case_id=week["fay"], by=staff["sam"], spam=False)
    check()
    assert replied_by_jo() == {week["ann"], week["dan"], week["fay"]}

    # Dan writes again, and turns out to be Bob: Dan's case folds into Bob's.
    dan, bob = Case.objects.get(pk=week["dan"]), Case.objects.get(pk=week["bob"])
    with clock_at(at(3, "09:08")):
        actions.set_status(case_id=dan.pk, by=staff["jo"], status="open")
    with clock_at(at(3, "09:10")):
        merge_customers(source=dan.customer, target=bob.customer, actor=staff["sam"])
    assert Case.objects.get(pk=dan.pk).merged_into_id == bob.pk
    check()
    assert replied_by_jo() == {week["ann"], week["fay"]}
    jo_row = next(row for row in agents(everyone).rows if row[0].value == "Jo Lee")
    assert [cell.value for cell in jo_row[1:]] == [0, 3, 2, 1, 2, 1]  # no longer Dan's


@pytest.mark.postgres
def test_the_upgrade_fills_the_roll_up_as_recording_writes_it(week):  # noqa: F811
    migration = importlib.import_module("cases.migrations.0018_agent_activity")
    written = stored()
    AgentActivity.objects.all().delete()

    with connection.cursor() as cursor:
        cursor.execute(migration.FILL_SQL)

    assert stored() == written == recomputed()
    assert written
