"""What the demo shows on every page besides the traffic: canned responses, stores and
routing rules, business hours, and a payload that could not be read. Created once; running
the demo again changes nothing here."""

import json

from django.db import transaction

from cases.models import CannedResponse
from intake.services import ingest_payloads
from routing.models import RoutingRule, Store
from sla.models import BusinessCalendar, BusinessHours, Priority, SLAPolicy
from staff.models import Team

# Title, text: the sample week's commonest questions.
CANNED_RESPONSES = [
    (
        "Outage: we are on it",
        "Hi {first_name}, sorry your service is down. There is a fault in your area and our "
        "engineers are working on it; we will update you here as soon as it is fixed. "
        "{agent_first_name}",
    ),
    (
        "Delivery: where is my order",
        "Hi {first_name}, sorry your delivery has not arrived. Could you send us your order "
        "number (it starts AH-) so we can check with the courier? {agent_first_name}",
    ),
    (
        "Refund: how refunds work",
        "Hi {first_name}, refunds go back to the card or account you paid with within 5 "
        "working days of the return reaching us. If it has been longer, send us your order "
        "number and we will chase it. {agent_first_name}",
    ),
    (
        "Store hours",
        "Hi {first_name}, our stores open 9am to 8pm Monday to Saturday and 10am to 4pm on "
        "Sunday; each store's page at acme-home.example/stores has its own hours. "
        "{agent_first_name}",
    ),
]
# City, name, aliases: stores the sample's customers name.
STORES = [
    ("Birmingham", "Bull Ring", ""),
    ("Edinburgh", "Princes Street", ""),
    ("Glasgow", "Glasgow Fort", ""),
    ("Leeds", "White Rose", "Crown Point"),
    ("Leicester", "Fosse Park", ""),
    ("Manchester", "Arndale", ""),
]
STORES_TEAM = "Stores team"
CALENDAR = "Care team hours"
# Weekday (Monday 0), opens, closes: the care team's hours, in London.
HOURS = [(day, "08:00", "20:00") for day in range(5)] + [(5, "09:00", "17:00")]
LOW_PRIORITY_POLICY = {
    "first_response_minutes": 8 * 60,
    "next_response_minutes": 8 * 60,
    "resolution_minutes": 5 * 12 * 60,
}
# A sample event without the sender's address: the sample normaliser refuses it, so intake
# quarantines it for an administrator to discard.
UNREADABLE_EVENT = {
    "id": "unreadable-1",
    "at": "2026-11-02T09:00:00Z",
    "channel": "email",
    "author": {"name": "Jamie Hart"},
    "subject": "Order AH-20417-UK",
    "text": "Hello, my washing machine was due yesterday and nobody came.",
}


def seed_demo(*, team: Team) -> None:
    """Create what is missing of the demo's canned responses, stores, routing rules and
    business hours (``team`` is the care team), and quarantine its unreadable payload."""
    with transaction.atomic():
        for title, text in CANNED_RESPONSES:
            CannedResponse.objects.get_or_create(title=title, defaults={"text": text})
        stores_team, _ = Team.objects.get_or_create(name=STORES_TEAM)
        for city, name, aliases in STORES:
            Store.objects.get_or_create(
                city=city, name=name, defaults={"aliases": aliases, "team": stores_team}
            )
        RoutingRule.objects.get_or_create(
            name="Store questions go to the store's team",
            defaults={
                "position": 10,
                "names_store": True,
                "team_from_store": True,
                "add_tags": "store",
            },
        )
        RoutingRule.objects.get_or_create(
            name="Outages are high priority",
            defaults={
                "position": 20,
                "keywords": "outage, no internet, broadband down, wifi down",
                "set_priority": Priority.HIGH,
                "set_team": team,
                "add_tags": "outage",
            },
        )
        calendar, created = BusinessCalendar.objects.get_or_create(
            name=CALENDAR, defaults={"time_zone": "Europe/London"}
        )
        if created:
            BusinessHours.objects.bulk_create(
                BusinessHours(calendar=calendar, weekday=day, opens=opens, closes=closes)
                for day, opens, closes in HOURS
            )
        # One policy per priority for every team: an installation's own stays.
        if not SLAPolicy.objects.filter(team=None, priority=Priority.LOW).exists():
            SLAPolicy.objects.create(
                name="Low priority (business hours)",
                priority=Priority.LOW,
                calendar=calendar,
                **LOW_PRIORITY_POLICY,
            )
    # The same payload again is counted on its one quarantined row, never stored twice.
    ingest_payloads(source="sample", payloads=[json.dumps(UNREADABLE_EVENT).encode()], accounts={})
