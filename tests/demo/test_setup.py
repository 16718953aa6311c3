"""Setting up the demo on its database, as ``manage.py demo --no-serve`` does: the traffic
ends now, the seeds are there once, and a demo started again receives new traffic."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from cases.models import CannedResponse, Message
from customers.models import Customer
from demo.sample import DEMO_TRAFFIC
from demo.sandbox import mail
from demo.sandbox.server import Sandbox
from demo.setup import set_up_demo
from intake.models import QuarantinedPayload
from routing.models import RoutingRule, Store
from sla.models import BusinessCalendar, SLAPolicy
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)  # the poll commits as in the demo

# The first events of the sample week: every platform, a few hours.
EVENTS = 30


def start_demo(sandbox: Sandbox) -> None:
    """Set up and poll once with every event visible, as ``--no-serve`` does."""
    traffic = DEMO_TRAFFIC.read_bytes().splitlines()[:EVENTS]
    set_up_demo(sandbox=sandbox, speed=0, agents=False, traffic=traffic)
    mail.deliver_visible(sandbox)
    call_command("poll", once=True, stdout=io.StringIO())


def seeds() -> dict[str, int]:
    return {
        "canned": CannedResponse.objects.count(),
        "rules": RoutingRule.objects.count(),
        "stores": Store.objects.count(),
        "calendar hours": BusinessCalendar.objects.filter(hours__isnull=False).count(),
        "policies": SLAPolicy.objects.count(),
        "quarantined": QuarantinedPayload.objects.filter(status="pending").count(),
    }


def test_the_demo_s_traffic_ends_now_with_its_customers_since_their_first_message(sandbox):
    start_demo(sandbox)

    inbound = Message.objects.filter(direction="inbound")
    span = inbound.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    assert timedelta(0) <= timezone.now() - span["last"] < timedelta(minutes=2)
    assert span["last"] - span["first"] > timedelta(hours=3)
    for customer in Customer.objects.all():
        first = inbound.filter(case__customer=customer).aggregate(at=Min("sent_at"))["at"]
        assert customer.created_at == first, customer


def test_a_demo_started_again_on_its_database_receives_new_traffic(sandbox, tmp_path):
    start_demo(sandbox)
    first_run = Message.objects.filter(direction="inbound").count()
    seeded = seeds()
    assert first_run > 20
    assert all(seeded.values()), seeded

    again = Sandbox(maildir=tmp_path / "again", smtp_port=free_port()).start()
    try:
        start_demo(again)
    finally:
        again.stop()

    inbound = Message.objects.filter(direction="inbound")
    assert inbound.count() == 2 * first_run
    assert set(inbound.values_list("channel_account__platform", flat=True)) == {
        "x",
        "facebook",
        "email",
    }
    newest = inbound.aggregate(at=Max("sent_at"))["at"]
    assert timezone.now() - newest < timedelta(minutes=2)
    assert seeds() == seeded
