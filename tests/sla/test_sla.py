"""Service levels: business-hours arithmetic, due times on cases, pauses, breaches and the
"SLA at risk" queue. The clock is frozen; every expected time is worked out by hand."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection

from careinbox.celery import app as celery_app
from cases import clocks, inbox
from cases.models import Case, CaseEvent, SLABreach
from cases.services import change_status
from casework import actions, breaches
from casework.replies import queue_reply
from casework.tasks import check_sla_breaches_task
from notifications.models import Notification
from sla.calendar import Hours, add_business_time, business_time_between, due_time
from sla.models import BusinessCalendar, BusinessHours, Holiday, SLAPolicy
from staff import roles
from staff.models import Team
from tests.conftest import NOW, make_user
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NINE_TO_FIVE = {day: [(time(9), time(17))] for day in range(5)}
UK_OFFICE = Hours(zone=LONDON, periods=NINE_TO_FIVE)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# November 2026 in London is GMT, so these UTC times are also the office's local times.
MONDAY_10 = NOW  # 2026-11-02 10:00 UTC, where the clock fixture starts


# Business-hours arithmetic.


def test_a_target_within_opening_hours_is_plain_time():
    assert add_business_time(MONDAY_10, timedelta(hours=2), UK_OFFICE) == utc(2026, 11, 2, 12)


def test_a_target_running_past_closing_time_carries_on_the_next_morning():
    start = utc(2026, 11, 2, 16, 30)

    assert add_business_time(start, timedelta(hours=2), UK_OFFICE) == utc(2026, 11, 3, 10, 30)


def test_a_message_sent_overnight_starts_its_clock_at_opening_time():
    start = utc(2026, 11, 2, 22, 15)

    assert add_business_time(start, timedelta(hours=1), UK_OFFICE) == utc(2026, 11, 3, 10)


def test_weekends_are_skipped():
    friday_4pm = utc(2026, 11, 6, 16)

    assert add_business_time(friday_4pm, timedelta(hours=2), UK_OFFICE) == utc(2026, 11, 9, 10)
    saturday = utc(2026, 11, 7, 12)
    assert add_business_time(saturday, timedelta(minutes=30), UK_OFFICE) == utc(2026, 11, 9, 9, 30)


def test_holidays_are_closed_all_day():
    office = Hours(zone=LONDON, periods=NINE_TO_FIVE, holidays=frozenset({date(2026, 11, 9)}))
    friday_4pm = utc(2026, 11, 6, 16)

    assert add_business_time(friday_4pm, timedelta(hours=2), office) == utc(2026, 11, 10, 10)


def test_opening_hours_are_in_the_calendars_own_time_zone():
    new_york = Hours(zone=ZoneInfo("America/New_York"), periods=NINE_TO_FIVE)  # EST, UTC-5
    # 12:00 UTC is 07:00 in New York: the clock starts at 09:00 there, 14:00 UTC.

    assert add_business_time(utc(2026, 11, 2, 12), timedelta(hours=1), new_york) == utc(
        2026, 11, 2, 15
    )
    # 21:30 UTC is 16:30 there: half an hour today, the rest from 09:00 (14:00 UTC) tomorrow.
    assert add_business_time(utc(2026, 11, 2, 21, 30), timedelta(hours=2), new_york) == utc(
        2026, 11, 3, 15, 30
    )


def test_opening_time_stays_local_across_the_change_to_summer_time():
    # The UK's clocks go forward on Sunday 29 March 2026: Friday 16:00 is 16:00 UTC (GMT),
    # Monday 10:00 is 09:00 UTC (BST).
    friday_4pm = utc(2026, 3, 27, 16)

    assert add_business_time(friday_4pm, timedelta(hours=2), UK_OFFICE) == utc(2026, 3, 30, 9)
    assert business_time_between(friday_4pm, utc(2026, 3, 30, 9), UK_OFFICE) == timedelta(hours=2)


def test_a_night_shift_on_the_night_the_clocks_go_forward_is_an_hour_shorter():
    nights = Hours(zone=LONDON, periods={day: [(time(22), time(6))] for day in range(7)})
    # Saturday 22:00 GMT to Sunday 06:00 BST is 22:00 to 05:00 UTC: seven hours. The eighth
    # is from Sunday 22:00 BST, 21:00 UTC.
    start = utc(2026, 3, 28, 22)

    assert add_business_time(start, timedelta(hours=8), nights) == utc(2026, 3, 29, 22)


def test_a_whole_day_calendar_counts_real_time_across_the_change_to_winter_time():
    every_day = Hours(zone=LONDON, periods={day: [(time(0), time(0))] for day in range(7)})
    # Sunday 25 October 2026 has 25 hours in London.
    saturday_noon = utc(2026, 10, 24, 12)

    assert add_business_time(saturday_noon, timedelta(hours=48), every_day) == utc(
        2026, 10, 26, 12
    )


def test_around_the_clock_is_elapsed_time():
    assert add_business_time(MONDAY_10, timedelta(hours=30), None) == utc(2026, 11, 3, 16)
    assert business_time_between(MONDAY_10, utc(2026, 11, 3, 16), None) == timedelta(hours=30)


def test_a_calendar_without_opening_hours_is_refused():
    closed = Hours(zone=LONDON, periods={})

    with pytest.raises(ValueError, match="no opening hours"):
        add_business_time(MONDAY_10, timedelta(hours=1), closed)


def test_a_pause_moves_the_due_time_by_the_open_time_it_held():
    # Four hours from Monday 10:00 is 14:00; paused from 11:00 to Tuesday 11:00 (eight open
    # hours), three remain from Tuesday 11:00.
    pause = (utc(2026, 11, 2, 11), utc(2026, 11, 3, 11))

    assert due_time(MONDAY_10, timedelta(hours=4), UK_OFFICE, [pause]) == utc(2026, 11, 3, 14)
    # A pause after the due time changes nothing.
    later = (utc(2026, 11, 2, 15), utc(2026, 11, 2, 16))
    assert due_time(MONDAY_10, timedelta(hours=4), UK_OFFICE, [later]) == utc(2026, 11, 2, 14)


# Due times on cases.


@pytest.fixture
def office(db):
    calendar = BusinessCalendar.objects.create(name="UK office", time_zone="Europe/London")
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=day, opens=time(9), closes=time(17))
        for day in range(5)
    )
    return calendar


@pytest.fixture
def standard(office):
    """One business hour to a first answer, two to each next one, a business day to
    resolve."""
    return SLAPolicy.objects.create(
        name="Standard",
        calendar=office,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=8 * 60,
    )


def receive(ingest, *, at: datetime, channel: str = "x.mention", author=None, **fields) -> Case:
    return ingest(
        channel=channel, sent_at=at, author=author or AuthorFactory(), **fields
    ).message.case


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_identical_messages_get_identical_deadlines_on_every_channel_and_follower_count(
    ingest, standard, clock
):
    at = utc(2026, 11, 2, 16, 30)
    clock.at = at
    senders = [
        ("x.mention", AuthorFactory(follower_count=3)),
        ("x.mention", AuthorFactory(follower_count=2_000_000)),
        ("x.dm", AuthorFactory(follower_count=45_000)),
        ("facebook.post", AuthorFactory(follower_count=None)),
        ("facebook.message", AuthorFactory(follower_count=None)),
        ("email", AuthorFactory(external_id="kim@example.org", follower_count=None)),
    ]
    text = "My washing machine is leaking again, can someone call me?"

    cases = [
        receive(ingest, at=at, channel=channel, author=author, text=text)
        for channel, author in senders
    ]

    # Half an hour on Monday, then the rest on Tuesday from 09:00.
    dues = {(c.first_response_due_at, c.next_response_due_at, c.resolution_due_at) for c in cases}
    assert dues == {(utc(2026, 11, 3, 9, 30), None, utc(2026, 11, 3, 16, 30))}
    assert {fresh(c).sla_policy for c in cases} == {standard}


def test_the_calendars_holidays_and_time_zone_set_the_due_times(ingest, standard, clock):
    Holiday.objects.create(calendar=standard.calendar, date=date(2026, 11, 3), name="Strike day")

    case = receive(ingest, at=utc(2026, 11, 2, 16, 30))

    assert case.first_response_due_at == utc(2026, 11, 4, 9, 30)


def test_a_reply_stops_the_response_clock_and_each_new_message_starts_the_next(
    ingest, standard, agent, clock
):
    author = AuthorFactory()
    case = receive(ingest, at=MONDAY_10, author=author)
    assert (case.first_response_due_at, case.resolution_due_at) == (
        utc(2026, 11, 2, 11),
        utc(2026, 11, 3, 10),
    )

    clock.at = utc(2026, 11, 2, 10, 30)
    queue_reply(case=fresh(case), agent=agent, text="Sorry to hear that, looking now.")
    case = fresh(case)
    assert (case.first_response_due_at, case.next_response_due_at) == (None, None)
    assert case.resolution_due_at == utc(2026, 11, 3, 10)

    clock.at = utc(2026, 11, 2, 12, 30)
    receive(ingest, at=utc(2026, 11, 2, 12), author=author, text="Any news?")
    receive(ingest, at=utc(2026, 11, 2, 12, 30), author=author, text="Hello??")
    # The clock runs from the oldest message still waiting, not the latest.
    assert fresh(case).next_response_due_at == utc(2026, 11, 2, 14)
    assert fresh(case).first_response_due_at is None

    clock.at = utc(2026, 11, 2, 13)
    queue_reply(case=fresh(case), agent=agent, text="An engineer can come on Thursday.")
    assert fresh(case).next_response_due_at is None

    clock.at = utc(2026, 11, 2, 16)
    receive(ingest, at=utc(2026, 11, 2, 16), author=author, text="Morning or afternoon?")
    assert fresh(case).next_response_due_at == utc(2026, 11, 3, 10)


def test_pending_pauses_every_clock_and_the_customers_answer_restarts_them(
    ingest, standard, agent, clock
):
    author = AuthorFactory()
    case = receive(ingest, at=MONDAY_10, author=author)
    clock.at = utc(2026, 11, 2, 10, 30)
    queue_reply(case=fresh(case), agent=agent, text="What is your order number?")
    clock.at = utc(2026, 11, 2, 11)
    actions.set_status(case_id=case.pk, by=agent, status=Case.Status.PENDING)

    paused = fresh(case)
    assert (
        paused.first_response_due_at,
        paused.next_response_due_at,
        paused.resolution_due_at,
    ) == (None, None, None)

    clock.at = utc(2026, 11, 3, 11)
    receive(ingest, at=utc(2026, 11, 3, 11), author=author, text="It is AH-20931-UK")

    case = fresh(case)
    assert case.status == Case.Status.OPEN
    assert case.next_response_due_at == utc(2026, 11, 3, 13)
    # Due Tuesday 10:00 before the pause; Monday 11:00 to Tuesday 11:00 held eight open
    # hours, so it moves by a business day: Wednesday 10:00.
    assert case.resolution_due_at == utc(2026, 11, 4, 10)


def test_resolving_stops_the_clocks_and_closing_clears_them(ingest, standard, agent, clock):
    author = AuthorFactory()
    case = receive(ingest, at=MONDAY_10, author=author)
    clock.at = utc(2026, 11, 2, 10, 15)
    queue_reply(case=fresh(case), agent=agent, text="Refund sent.")
    actions.set_status(case_id=case.pk, by=agent, status=Case.Status.RESOLVED)
    assert fresh(case).resolution_due_at is None

    # Reopened an hour later: resolution was due Tuesday 10:00, now an hour later.
    clock.at = utc(2026, 11, 2, 11, 15)
    receive(ingest, at=utc(2026, 11, 2, 11, 15), author=author, text="It has not arrived")
    assert fresh(case).resolution_due_at == utc(2026, 11, 3, 11)

    case = Case.objects.select_for_update().get(pk=case.pk)
    change_status(case, Case.Status.CLOSED, reason="Test.")
    closed = fresh(case)
    assert (closed.next_response_due_at, closed.resolution_due_at, closed.sla_policy) == (
        None,
        None,
        None,
    )


def test_the_most_specific_policy_applies_and_a_priority_change_recomputes(
    ingest, standard, agent, clock
):
    care = Team.objects.create(name="Care")
    SLAPolicy.objects.create(name="Urgent", priority="urgent", first_response_minutes=15)
    team_urgent = SLAPolicy.objects.create(
        name="Care urgent", priority="urgent", team=care, first_response_minutes=5
    )
    case = receive(ingest, at=MONDAY_10)

    actions.set_priority(case_id=case.pk, by=agent, priority=Case.Priority.URGENT)
    case = fresh(case)
    assert (case.sla_policy.name, case.first_response_due_at) == (
        "Urgent",
        utc(2026, 11, 2, 10, 15),
    )

    actions.hand_off_case(case_id=case.pk, by=agent, to_team_id=care.pk, note="Care's call")
    case = fresh(case)
    assert (case.sla_policy, case.first_response_due_at) == (team_urgent, utc(2026, 11, 2, 10, 5))
    # Around the clock, without a calendar, and no resolution target in this policy.
    assert case.resolution_due_at is None


def test_without_a_policy_a_case_has_no_due_times(ingest, clock):
    case = receive(ingest, at=MONDAY_10)

    assert (case.first_response_due_at, case.resolution_due_at, case.sla_policy) == (
        None,
        None,
        None,
    )


# Breaches.


@pytest.fixture
def escalating(office):
    care = Team.objects.create(name="Care")
    escalations = Team.objects.create(name="Escalations")
    return SLAPolicy.objects.create(
        name="Care standard",
        team=care,
        calendar=office,
        first_response_minutes=60,
        resolution_minutes=8 * 60,
        escalate_to_priority=Case.Priority.HIGH,
        escalate_to_team=escalations,
    )


def with_email(user, address: str):
    user.email = address
    user.save(update_fields=["email"])
    return user


def test_a_missed_first_response_is_recorded_once_notified_and_escalated(
    ingest, escalating, agent, supervisor, other_agent, django_capture_on_commit_callbacks, clock
):
    care, escalations = escalating.team, escalating.escalate_to_team
    with_email(agent, "jo@acme-home.example")
    with_email(supervisor, "sam@acme-home.example")
    supervisor.agent_profile.teams.add(care)
    other_agent.agent_profile.teams.add(care)  # an agent of the team, not a supervisor
    boss = with_email(make_user("lee", roles.SUPERVISOR), "lee@acme-home.example")
    boss.agent_profile.teams.add(escalations)
    # High priority has a stricter target, already missed after the escalation: the same
    # wait for a reply still breaches only once.
    SLAPolicy.objects.create(name="High", priority="high", first_response_minutes=30)
    case = receive(ingest, at=MONDAY_10, text="@acme_care my oven caught fire")
    Case.objects.filter(pk=case.pk).update(team=care)
    case = fresh(case)
    clocks.recompute(case)
    actions.claim_case(case_id=case.pk, agent=agent)

    clock.at = utc(2026, 11, 2, 11, 1)
    with django_capture_on_commit_callbacks(execute=True):
        check_sla_breaches_task()
        check_sla_breaches_task()

    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.SLA_BREACHED)
    assert event.occurred_at == utc(2026, 11, 2, 11)
    assert event.data == {
        "target": "first_response",
        "due_at": "2026-11-02T11:00:00+00:00",
        "policy": escalating.pk,
        "policy_name": "Care standard",
        "escalated": {
            "priority": {"from": "normal", "to": "high"},
            "team": {
                "from": care.pk,
                "from_name": "Care",
                "to": escalations.pk,
                "to_name": "Escalations",
            },
        },
    }
    case = fresh(case)
    assert (case.priority, case.team, case.assignee) == ("high", escalations, agent)
    assert (case.sla_policy.name, case.first_response_due_at) == ("High", utc(2026, 11, 2, 10, 30))
    raised = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.PRIORITY_CHANGED)
    assert raised.data["reason"] == "The first response target was missed."
    notified = Notification.objects.filter(kind=Notification.Kind.SLA_BREACHED, case=case)
    assert sorted(n.recipient.username for n in notified) == ["jo", "lee", "sam"]
    assert f"Case #{case.pk} missed its first response target" in notified[0].text
    assert sorted(m.to[0] for m in mail.outbox) == [
        "jo@acme-home.example",
        "lee@acme-home.example",
        "sam@acme-home.example",
    ]
    assert mail.outbox[0].subject == f"SLA breached: case #{case.pk} (first response)"
    assert f"/cases/{case.pk}/" in mail.outbox[0].body
    assert SLABreach.objects.filter(case=case).count() == 1


def test_a_case_answered_in_time_or_pending_never_breaches(ingest, standard, agent, clock):
    answered = receive(ingest, at=MONDAY_10)
    waiting = receive(ingest, at=MONDAY_10)
    clock.at = utc(2026, 11, 2, 10, 59)
    queue_reply(case=fresh(answered), agent=agent, text="On it.")
    actions.set_status(case_id=waiting.pk, by=agent, status=Case.Status.PENDING)

    # The answered case misses its resolution target.
    assert breaches.record_breaches(now=utc(2026, 11, 9, 12)) == 1

    assert list(SLABreach.objects.values_list("case", "target")) == [(answered.pk, "resolution")]


def test_each_new_wait_for_a_reply_can_breach_again(ingest, standard, agent, clock):
    author = AuthorFactory()
    case = receive(ingest, at=MONDAY_10, author=author)
    assert breaches.record_breaches(now=utc(2026, 11, 2, 11, 30)) == 1
    clock.at = utc(2026, 11, 2, 11, 30)
    queue_reply(case=fresh(case), agent=agent, text="Sorry for the wait.")
    receive(ingest, at=utc(2026, 11, 2, 12), author=author, text="And now?")

    assert breaches.record_breaches(now=utc(2026, 11, 2, 13)) == 0
    assert breaches.record_breaches(now=utc(2026, 11, 2, 14, 1)) == 1
    assert breaches.record_breaches(now=utc(2026, 11, 2, 14, 2)) == 0

    assert sorted(SLABreach.objects.values_list("target", flat=True)) == [
        "first_response",
        "next_response",
    ]


def test_the_breach_check_runs_on_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["check-sla-breaches"]

    assert entry["task"] == "casework.tasks.check_sla_breaches_task"
    assert entry["task"] in celery_app.tasks


# The "SLA at risk" queue.


def test_the_at_risk_queue_holds_cases_due_within_the_window_or_overdue(
    ingest, standard, agent, settings, clock
):
    settings.CAREINBOX_SLA_AT_RISK_MINUTES = 30
    overdue = receive(ingest, at=utc(2026, 11, 2, 9))  # due 10:00
    soon = receive(ingest, at=utc(2026, 11, 2, 9, 20))  # due 10:20
    later = receive(ingest, at=utc(2026, 11, 2, 9, 45))  # due 10:45
    paused = receive(ingest, at=utc(2026, 11, 2, 9, 10))
    actions.set_status(case_id=paused.pk, by=agent, status=Case.Status.PENDING)
    now = MONDAY_10

    at_risk = set(
        Case.objects.filter(clocks.due_by_q(clocks.at_risk_horizon(now))).values_list(
            "pk", flat=True
        )
    )
    breached = set(Case.objects.filter(clocks.breached_q(now)).values_list("pk", flat=True))

    assert at_risk == {overdue.pk, soon.pk}
    assert breached == {overdue.pk}
    assert [clocks.soonest_due(fresh(c), now=now).state for c in (overdue, soon, later)] == [
        "breached",
        "at_risk",
        "ok",
    ]
    assert clocks.soonest_due(fresh(paused), now=now) is None


def test_the_at_risk_count_follows_due_times_whatever_writes_them(
    ingest, standard, agent, settings, clock
):
    """The count reads each case's soonest due time, which the database keeps from the three
    due times: a bare update of them moves the case in or out of the queue."""
    settings.CAREINBOX_SLA_AT_RISK_MINUTES = 30
    later = receive(ingest, at=utc(2026, 11, 2, 9, 45))  # due 10:45

    def at_risk() -> int:
        (sla,) = [c for c in inbox.queue_counts(user=agent) if c.queue.key == "sla"]
        return sla.count

    assert at_risk() == 0
    Case.objects.filter(pk=later.pk).update(resolution_due_at=MONDAY_10 + timedelta(minutes=5))
    assert at_risk() == 1
    assert fresh(later).soonest_due_at == MONDAY_10 + timedelta(minutes=5)
    Case.objects.filter(pk=later.pk).update(
        first_response_due_at=None, next_response_due_at=None, resolution_due_at=None
    )
    assert at_risk() == 0
    assert fresh(later).soonest_due_at is None


# Two breach checkers at once.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_checking_at_once_record_each_breach_once(ingest, standard, supervisor):
    cases = [receive(ingest, at=MONDAY_10) for _ in range(6)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def check() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(breaches.record_breaches(now=utc(2026, 11, 3, 12)))
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Whatever one skipped because the other held it is left for the next run.
    results.append(breaches.record_breaches(now=utc(2026, 11, 3, 12)))

    # Each case missed its first response and its resolution.
    assert sum(results) == 12
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.SLA_BREACHED).count() == 12
    assert SLABreach.objects.filter(case__in=cases).count() == 12
    assert Notification.objects.filter(recipient=supervisor).count() == 12
