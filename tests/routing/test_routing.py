"""Routing rules at ingest: conditions, actions, order, the store list, closing thank-yous, and
the admins' pages with their preview."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client

from cases.models import Case, CaseEvent, Message
from casework import actions
from casework.replies import queue_reply
from demo import sample
from routing import rules
from routing.models import RoutingRule, Store
from sla.models import SLAPolicy
from staff import roles
from staff.models import Team
from tests.conftest import client_for, make_user
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db

EVENTS = {
    event["id"]: event
    for event in map(json.loads, sample.DEMO_TRAFFIC.read_text().splitlines())
    if event
}


def ingest_events(ingest, *ids: str) -> dict[str, Message]:
    """Ingest sample events by id, in platform-time order as a batch of them lands."""
    events = [sample.normalise(json.dumps(EVENTS[i]).encode()) for i in ids]
    for inbound in sorted(events, key=lambda m: (m.sent_at, m.channel, m.external_id)):
        ingest(inbound)
    return {m.external_id: m for m in Message.objects.filter(external_id__in=ids)}


def receive(ingest, **fields) -> Message:
    return ingest(**fields).message


def rule(name: str, **fields) -> RoutingRule:
    return rules.save_rule(rule=RoutingRule(name=name, **fields))


def tags(case: Case) -> list[str]:
    return sorted(case.tags.values_list("name", flat=True))


@pytest.fixture
def stores(db):
    leeds = Team.objects.create(name="Leeds")
    manchester = Team.objects.create(name="Manchester")
    Store.objects.create(city="Leeds", name="White Rose", team=leeds)
    Store.objects.create(city="Leeds", name="Crown Point", aliases="Kirkstall", team=leeds)
    Store.objects.create(city="Manchester", name="Arndale", team=manchester)
    return {"leeds": leeds, "manchester": manchester}


def test_a_message_naming_a_store_reaches_the_stores_team(ingest, stores):
    rule("Stores", names_store=True, team_from_store=True)

    messages = ingest_events(ingest, "e21", "e158", "e154", "e123", "e199")

    teams = {key: m.case.team.name if m.case.team else None for key, m in messages.items()}
    assert teams == {
        "e21": "Leeds",  # "Does the Leeds White Rose store do click and collect on Sundays?"
        "e158": "Manchester",  # "I went into your Manchester Arndale store on Saturday"
        "e154": "Leeds",  # "Lindsey at the Leeds store was brilliant today"
        "e123": None,  # "same with my HomeHub 2 in Leeds": a city, but no store
        "e199": None,  # "is there an outage in Manchester?"
    }
    routed = CaseEvent.objects.get(kind=CaseEvent.Kind.ROUTED, message=messages["e21"])
    assert routed.data == {
        "rules": ["Stores"],
        "team": {"id": stores["leeds"].pk, "name": "Leeds"},
        "store": "Leeds White Rose",
    }


def test_every_matching_rule_applies_in_order_until_one_stops(ingest):
    care, billing = Team.objects.create(name="Care"), Team.objects.create(name="Billing")
    rule("Everything", set_team=care, add_tags="inbound")
    rule("Refunds", keywords="refund, money back", set_team=billing, set_priority="high")
    rule("Refund tag", keywords="refund", add_tags="refund, inbound", stop_processing=True)
    rule("Never reached", keywords="refund", set_priority="urgent")
    rule("Disabled", enabled=False, add_tags="disabled")

    refund = receive(ingest, text="@acme_care I want my refund for order AH-20931-UK").case
    other = receive(ingest, text="@acme_care the kettle whistles").case

    assert (refund.team, refund.priority, tags(refund)) == (billing, "high", ["inbound", "refund"])
    assert (other.team, other.priority, tags(other)) == (care, "normal", ["inbound"])
    routed = CaseEvent.objects.get(kind=CaseEvent.Kind.ROUTED, case=refund)
    assert routed.data["rules"] == ["Everything", "Refunds", "Refund tag"]


def test_a_rule_sets_the_team_of_a_new_case_only_and_only_raises_the_priority(ingest):
    care, billing = Team.objects.create(name="Care"), Team.objects.create(name="Billing")
    rule("Care", keywords="kettle", set_team=care, set_priority="high")
    rule("Billing", keywords="invoice", set_team=billing, set_priority="low", add_tags="billing")
    author = AuthorFactory()

    receive(ingest, author=author, text="@acme_care my kettle leaks")
    case = receive(ingest, author=author, text="@acme_care and my invoice is wrong").case

    assert (case.team, case.priority, tags(case)) == (care, "high", ["billing"])
    last = CaseEvent.objects.filter(kind=CaseEvent.Kind.ROUTED, case=case).latest("pk")
    assert last.data == {"rules": ["Billing"], "tags": ["billing"]}


def test_conditions_on_account_platform_pattern_and_language(accounts, ingest):
    spanish = Team.objects.create(name="Spanish")
    rule("Email", platform="email", add_tags="email")
    rule("X account", channel_account=accounts["x"], add_tags="x")
    rule("Orders", pattern=r"\bAH-\d{5}-[A-Z]{2}\b", add_tags="order")
    rule("Spanish", language="es", set_team=spanish)

    messages = ingest_events(ingest, "e77", "e15", "e24")

    assert tags(messages["e77"].case) == ["x"]
    assert messages["e77"].case.team == spanish  # "Hola, compré un refrigerador..."
    assert tags(messages["e15"].case) == ["order", "x"]  # an X DM quoting AH-20931-UK
    assert tags(messages["e24"].case) == ["email"]
    assert messages["e15"].case.team is None


@pytest.mark.parametrize(
    ("event", "language"),
    [
        ("e77", "es"),
        ("e237", "es"),
        ("e125", "de"),
        ("e339", "de"),
        ("e324", "fr"),
        ("e105", "ja"),
        ("e75", "ar"),
        ("e2", "en"),
        ("e148", ""),  # "cheers": too short to tell
    ],
)
def test_the_language_detector_on_sample_messages(event, language):
    message = Message(text=EVENTS[event]["text"], channel=EVENTS[event]["channel"])

    assert rules.detect_language(rules.message_text(message)) == language


def test_the_closing_thanks_detector_never_silences_a_message_that_needs_a_reply():
    """Against the sample week's labels: everything it flags needs no reply (a missed one
    just keeps its clock), and it finds most of the customers' closing messages."""
    flagged, closing = set(), set()
    for event in EVENTS.values():
        if event["truth"].get("spam"):
            continue
        message = Message(
            text=event["text"], channel=event["channel"], subject=event.get("subject", "")
        )
        if rules.is_closing_thanks(rules.message_text(message)) and not event.get("attachments"):
            flagged.add(event["id"])
        if event["truth"].get("needs_reply") is False:
            closing.add(event["id"])

    assert flagged <= closing
    assert len(flagged) >= 45, sorted(closing - flagged)


@pytest.fixture
def closing_rule(db):
    return rule("Closing thanks", closing_thanks=True, mark_no_reply=True)


@pytest.fixture
def standard(db):
    """Answers due within an hour, around the clock."""
    return SLAPolicy.objects.create(
        name="Standard", first_response_minutes=60, next_response_minutes=60
    )


def test_a_closing_thanks_needs_no_reply_stays_visible_and_starts_no_clock(
    ingest, agent, closing_rule, standard
):
    author = AuthorFactory()
    first = receive(ingest, author=author, text="@acme_care where is my order?")
    case = first.case
    queue_reply(case=case, agent=agent, text="It arrives tomorrow, tracking is in your DMs.")
    actions.set_status(case_id=case.pk, by=agent, status=Case.Status.PENDING)

    thanks = receive(ingest, author=author, text="@acme_care brilliant, all sorted, thank you! 👍")

    thanks.refresh_from_db()
    case.refresh_from_db()
    assert thanks.case_id == case.pk
    assert (thanks.needs_reply, thanks.no_reply_reason) == (
        False,
        "Routing rule “Closing thanks”: needs no reply.",
    )
    assert case.status == Case.Status.PENDING
    assert (case.awaiting_reply_since, case.next_response_due_at) == (None, None)
    routed = CaseEvent.objects.get(kind=CaseEvent.Kind.ROUTED, message=thanks)
    assert routed.data == {
        "rules": ["Closing thanks"],
        "no_reply": "Routing rule “Closing thanks”: needs no reply.",
    }
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.MESSAGE_RECEIVED, message=thanks).exists()

    question = receive(ingest, author=author, text="@acme_care thanks, but it is still not here?")

    case.refresh_from_db()
    assert question.needs_reply
    assert case.status == Case.Status.OPEN
    assert case.next_response_due_at == question.sent_at + timedelta(hours=1)


def test_a_thank_you_on_a_resolved_case_leaves_it_resolved(ingest, agent, closing_rule):
    author = AuthorFactory()
    case = receive(ingest, author=author, text="@acme_care is the sale on in store?").case
    queue_reply(case=case, agent=agent, text="Yes, until Sunday.")
    actions.set_status(case_id=case.pk, by=agent, status=Case.Status.RESOLVED)

    receive(ingest, author=author, text="@acme_care cheers 👍")

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.messages.filter(needs_reply=False).count() == 1


# The admins' pages.


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.mark.parametrize("role", [roles.AGENT, roles.SUPERVISOR, roles.MANAGER])
def test_only_admins_manage_rules(role):
    client = client_for(make_user(f"user-{role}", role))
    existing = rule("Any", add_tags="x")

    assert client.get("/rules/").status_code == 403
    assert client.get("/rules/new/").status_code == 403
    assert client.post(f"/rules/{existing.pk}/enable/", {"enabled": "0"}).status_code == 403
    assert Client().get("/rules/").status_code == 302


def test_an_admin_creates_edits_reorders_and_disables_rules(admin_client):
    care = Team.objects.create(name="Care")

    response = admin_client.post(
        "/rules/new/",
        {
            "name": "Refunds",
            "keywords": "refund",
            "set_team": care.pk,
            "enabled": "on",
            "last": "200",
            "action": "save",
        },
    )
    assert response.status_code == 302
    rule("Second", add_tags="b")
    third = rule("Third", add_tags="c")
    refunds = RoutingRule.objects.get(name="Refunds")
    assert (refunds.set_team, refunds.enabled, refunds.position) == (care, True, 1)

    admin_client.post(f"/rules/{third.pk}/move/", {"direction": "up"})
    admin_client.post(f"/rules/{third.pk}/move/", {"direction": "up"})
    admin_client.post(f"/rules/{refunds.pk}/enable/", {"enabled": "0"})
    edited = admin_client.post(
        f"/rules/{refunds.pk}/",
        {
            "name": "Refunds",
            "keywords": "refund, money back",
            "set_priority": "high",
            "action": "save",
        },
    )

    assert edited.status_code == 302
    assert list(RoutingRule.objects.values_list("name", "enabled")) == [
        ("Third", True),
        ("Refunds", False),
        ("Second", True),
    ]
    page = admin_client.get("/rules/").content.decode()
    rows = re.findall(r'<th scope="row">(.*?)</th>', page)
    assert [re.sub(r"<[^>]+>", "", row) for row in rows] == ["Third", "Refunds disabled", "Second"]
    refunds.refresh_from_db()
    assert (refunds.keywords, refunds.set_priority, refunds.set_team) == (
        "refund, money back",
        "high",
        None,
    )


def test_an_invalid_regular_expression_gets_a_clear_form_error(admin_client):
    response = admin_client.post(
        "/rules/new/", {"name": "Orders", "pattern": "AH-(\\d{5}", "add_tags": "order"}
    )

    assert response.status_code == 400
    assert "This is not a valid regular expression: missing ), unterminated subpattern" in (
        response.content.decode()
    )
    assert not RoutingRule.objects.exists()


def test_a_rule_without_an_action_is_refused(admin_client):
    response = admin_client.post("/rules/new/", {"name": "Nothing", "keywords": "kettle"})

    assert response.status_code == 400
    assert "Choose at least one action" in response.content.decode()


def test_the_preview_shows_which_recent_messages_a_rule_matches_without_saving(
    admin_client, ingest, stores
):
    ingest_events(ingest, "e21", "e123", "e158", "e2")

    response = admin_client.post(
        "/rules/new/",
        {
            "name": "Stores",
            "names_store": "on",
            "team_from_store": "on",
            "action": "preview",
            "last": "3",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    # The last three stored: e2 is the oldest of the four in platform time, so it is out.
    assert "Matches 2 of the last 3 customer messages" in page
    assert "Does the Leeds White Rose store do click and collect on Sundays?" in page
    assert "team Leeds (Leeds White Rose)" in page
    assert "team Manchester (Manchester Arndale)" in page
    assert "same with my HomeHub 2 in Leeds" not in page
    assert not RoutingRule.objects.exists()
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.ROUTED).exists()

    saved = rule("Thanks", closing_thanks=True, mark_no_reply=True)
    ingest_events(ingest, "e23")  # "Oh that's brilliant, thank you. ... All sorted!"
    page = admin_client.get(f"/rules/{saved.pk}/?preview").content.decode()
    assert "Matches 1 of the last" in page
    assert "needs no reply" in page
