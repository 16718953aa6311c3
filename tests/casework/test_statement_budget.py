"""Ingest's statement budget: each stage runs a constant number of SQL statements for the whole
batch, whatever its size, with the configuration a care team runs (routing rules, a
business-hours SLA policy and an auto-assigning team)."""

from collections import Counter
from datetime import time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, Message
from casework.ingest import STAGES, Batch, Item, ingest_batch
from routing.models import RoutingRule, Store
from routing.rules import save_rule
from sla.models import BusinessCalendar, BusinessHours, SLAPolicy
from staff import roles
from staff.models import AgentProfile, Team
from tests.factories import T0, AuthorFactory, InboundFactory
from webhooks.events import EVENT_NAMES
from webhooks.models import Endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# The statements each stage may run for a batch of any size. A stage that reads or writes
# once per message would show here as soon as the batch grows.
BUDGET = {
    "drop_repeats": 0,
    "resolve_identities": 4,  # read, insert customers, insert identities, read again
    "lock_customers": 1,
    "drop_stored": 1,
    # The newest message's profile, for every identity at once (and the customers named after
    # them, when a name changes: none does here).
    "refresh_profiles": 1,
    "load_threads": 1,  # the customers' cases (none replies, quotes a case or is automated)
    "score_sentiment": 0,  # a text function over each message
    "route": 2,  # the rules with their teams; the stores
    # The spam list; the authors' messages of the last week, everyone's of the last day and
    # the messages of the customers' open cases, with whether each was answered since.
    "find_spam": 2,
    # Only with a warm word in the batch ("thanks!"): who works cases with their teams, email
    # and whether they supervise; the stores; the teams.
    "find_praise": 3,
    # None here: only a batch holding a short rating on a private channel ("5") reads, once,
    # its customers' open surveys (and "write" then adds one update of those answered).
    "find_survey_answers": 0,
    "record_messages": 3,  # auto-assigning teams; the team's available agents; their load
    # Policies; the calendar, its hours and holidays; new cases; messages; evidence; history;
    # notifications; agents' turns; replies stored before the message they answer; the
    # touched cases' roll-ups, read and written, and the channel their case rows keep (read:
    # a new case is stored with it); the active webhook endpoints, read once for the batch's
    # events (with none there is nothing to insert).
    "write": 14,
    # The live incidents with their messages; the window's customer messages in no incident;
    # whoever may reassign cases, read only when an incident is proposed (none is here).
    # Incidents and links are written by "write", two more inserts when there are any.
    "find_incidents": 2,
}


@pytest.fixture(autouse=True)
def incidents_proposed(settings):
    """Whether the batch's alike messages make an incident depends on its size; here none
    does. A batch that proposes one adds a read (who may reassign) and two inserts."""
    settings.CAREINBOX_INCIDENTS = True
    settings.CAREINBOX_INCIDENT_MIN_MESSAGES = 10_000


@pytest.fixture
def care_team(db):
    """Three routing rules, a business-hours SLA policy and an auto-assigning team of four
    online agents."""
    care = Team.objects.create(name="Care", auto_assign=True)
    leeds = Team.objects.create(name="Leeds store")
    Store.objects.create(name="Leeds", city="Leeds", team=leeds)
    save_rule(rule=RoutingRule(name="Everything to Care", set_team=care))
    save_rule(rule=RoutingRule(name="Stores to their teams", team_from_store=True))
    save_rule(rule=RoutingRule(name="Thanks", closing_thanks=True, mark_no_reply=True))
    office = BusinessCalendar.objects.create(name="UK office", time_zone="Europe/London")
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=office, weekday=day, opens=time(8), closes=time(20))
        for day in range(5)
    )
    SLAPolicy.objects.create(name="Standard", calendar=office, first_response_minutes=120)
    agents = Group.objects.get(name=roles.AGENT)
    for n in range(4):
        user = get_user_model().objects.create_user(f"agent{n}")
        user.groups.add(agents)
        profile = AgentProfile.objects.create(user=user, display_name=f"Agent {n}")
        profile.teams.add(care)
        AgentProfile.objects.filter(pk=profile.pk).update(last_seen_at=timezone.now())
    return care


# Most messages go to the care team, whose agents take them in turn; some name the Leeds store
# and go to its team; some only say thanks and need no reply.
TEXTS = [
    "@acme_care my order {n} never came",
    "@acme_care still waiting for order {n}",
    "@acme_care the Leeds store said order {n} would be there by now",
    "@acme_care where is order {n}?",
    "thanks!",
]


def statements_per_stage(accounts, *, messages: int, customers: int) -> dict[str, int]:
    authors = [AuthorFactory() for _ in range(customers)]
    inbounds = [
        InboundFactory(
            author=authors[n % customers],
            sent_at=T0 + timedelta(seconds=n),
            text=TEXTS[n % len(TEXTS)].format(n=n),
        )
        for n in range(messages)
    ]
    batch = Batch(items=[Item(account=accounts[i.platform], inbound=i) for i in inbounds])
    counts = {}
    with transaction.atomic():
        for stage in STAGES:
            with CaptureQueriesContext(connection) as run:
                stage(batch)
            counts[stage.__name__] = len(run)
    return counts


def test_every_stage_runs_the_same_statements_for_50_or_500_messages(accounts, care_team):
    small = statements_per_stage(accounts, messages=50, customers=10)
    large = statements_per_stage(accounts, messages=500, customers=100)

    assert large == small
    assert large == BUDGET


def test_a_batch_of_500_lands_on_its_customers_cases_routed_and_assigned(accounts, care_team):
    statements_per_stage(accounts, messages=500, customers=100)

    assert Message.objects.count() == 500
    assert Case.objects.count() == 100
    care_cases = Case.objects.filter(team=care_team)
    # Customers 2, 7, 12, ... first named the store; the others are the care team's.
    assert Case.objects.filter(team__name="Leeds store").count() == 20
    assert care_cases.count() == 80
    # Customers 4, 9, 14, ... only said thanks: no clock runs, nobody needs to take them.
    assert Message.objects.filter(needs_reply=False).count() == 100
    assert care_cases.filter(awaiting_reply_since__isnull=False).count() == 60
    # The other 60 go round the four agents until each holds their eight.
    held = care_cases.exclude(assignee=None).values_list("assignee__username", flat=True)
    assert Counter(held) == {"agent0": 8, "agent1": 8, "agent2": 8, "agent3": 8}


def test_webhook_deliveries_add_one_insert_to_the_write_stage_whatever_the_batch(
    accounts, care_team
):
    Endpoint.objects.create(url="http://127.0.0.1:9/hooks", events=EVENT_NAMES)

    small = statements_per_stage(accounts, messages=50, customers=10)
    large = statements_per_stage(accounts, messages=500, customers=100)

    assert large == small == BUDGET | {"write": BUDGET["write"] + 1}


def statements_repeating(accounts, *, authors: int) -> int:
    """The statements of ingesting, for each of ``authors``, the text they posted an hour
    before: each new copy is spam, and so is each earlier one."""
    writers = [AuthorFactory() for _ in range(authors)]
    text = "@acme_care my parcel {n} is still missing after two weeks of waiting"

    def posts(at):
        return [
            (accounts["x"], InboundFactory(author=w, sent_at=at, text=text.format(n=n)))
            for n, w in enumerate(writers)
        ]

    repeated = Message.objects.filter(spam_reason__startswith="The same text")
    before = repeated.count()
    ingest_batch(arrivals=posts(T0))
    with CaptureQueriesContext(connection) as run:
        ingest_batch(arrivals=posts(T0 + timedelta(hours=1)))
    assert repeated.count() - before == 2 * authors
    return len(run)


def test_earlier_copies_found_spam_cost_the_same_statements_for_10_or_100_authors(
    accounts, care_team
):
    assert statements_repeating(accounts, authors=10) == statements_repeating(
        accounts, authors=100
    )
