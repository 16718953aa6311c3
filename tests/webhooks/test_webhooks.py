"""Outbound webhooks against a real HTTP receiver on 127.0.0.1: signed bodies for the events
an endpoint subscribes to, retries with back-off, the delivery log, replay from the admin
site, and a slow receiver that holds up nothing but its own delivery."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases.models import Case
from casework import actions
from intake.privacy import erase_customer
from tests.factories import AuthorFactory
from tests.intake.test_privacy import every_text_in_the_database
from tests.privacy import GWEN_WORDS
from webhooks.delivery import backoff
from webhooks.events import EVENT_NAMES
from webhooks.models import Delivery, Endpoint
from webhooks.signing import signature_header, verify
from webhooks.tasks import deliver_due_webhooks_task

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver: records each request as it arrives, then answers the next of
    ``answers`` (200 once they run out) after sleeping ``sleep`` seconds."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.sleep = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                time.sleep(receiver.sleep)
                status = receiver.answers.pop(0) if receiver.answers else 200
                try:
                    self.send_response(status)
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def receiver():
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture(autouse=True)
def embedded(settings):
    """Tasks run in the calling process, as in the embedded default: deliveries wait for the
    sweep instead of being handed to a worker."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CAREINBOX_WEBHOOK_TIMEOUT_SECONDS = 5
    settings.CAREINBOX_WEBHOOK_MAX_ATTEMPTS = 8


def endpoint_for(receiver, events, *, active=True) -> Endpoint:
    return Endpoint.objects.create(url=receiver.url, events=events, active=active)


@pytest.fixture
def case(ingest):
    author = AuthorFactory(handle="neilcarver")
    return ingest(author=author, text="@acme_care my HomeHub is flashing orange").message.case


def test_a_claimed_case_is_sent_to_a_subscribed_endpoint_signed_with_its_secret(
    receiver, case, agent
):
    endpoint = endpoint_for(receiver, ["case.assigned"])

    actions.claim_case(case_id=case.pk, agent=agent)
    deliver_due_webhooks_task()

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    delivery = Delivery.objects.get()
    assert headers["Content-Type"] == "application/json"
    assert headers["CareInbox-Event"] == "case.assigned"
    assert headers["CareInbox-Delivery"] == str(delivery.pk)
    sent = json.loads(body)
    assert sent["id"] == str(delivery.pk)
    assert sent["event"] == "case.assigned"
    assert sent["case"] == {
        "id": case.pk,
        "status": "open",
        "priority": case.priority,
        "team_id": case.team_id,
        "assignee_id": agent.pk,
        "customer_id": case.customer_id,
    }
    assert (sent["message"], sent["actor"], sent["data"]) == (None, "jo", {"to": agent.pk})
    signature = headers["CareInbox-Signature"]
    assert verify(endpoint.secret, signature, body)
    assert not verify(endpoint.secret, signature, body.replace(b'"open"', b'"closed"'))
    assert not verify("another secret", signature, body)
    assert not verify(endpoint.secret, signature, body, now=time.time() + 301)
    stale = int(time.time()) - 600
    assert not verify(endpoint.secret, signature_header(endpoint.secret, stale, body), body)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    [attempt] = delivery.log.all()
    assert attempt.status_code == 200 and attempt.error == ""


def test_endpoints_not_subscribed_to_the_event_or_inactive_get_nothing(receiver, case, agent):
    endpoint_for(receiver, ["case.resolved", "reply.sent"])
    endpoint_for(receiver, EVENT_NAMES, active=False)

    actions.claim_case(case_id=case.pk, agent=agent)
    deliver_due_webhooks_task()

    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_resolving_a_case_is_sent_and_other_status_changes_are_not(receiver, case, agent):
    endpoint_for(receiver, ["case.resolved"])
    actions.claim_case(case_id=case.pk, agent=agent)  # new to open

    actions.set_status(case_id=case.pk, by=agent, status=Case.Status.RESOLVED)
    deliver_due_webhooks_task()

    assert [b["event"] for b in receiver.bodies()] == ["case.resolved"]
    assert receiver.bodies()[0]["data"]["to"] == "resolved"


def test_ingest_sends_case_created_and_message_received(receiver, ingest):
    endpoint_for(receiver, EVENT_NAMES)

    message = ingest(text="@acme_care the kettle leaks").message
    deliver_due_webhooks_task()

    bodies = sorted(receiver.bodies(), key=lambda b: b["event"])
    assert [b["event"] for b in bodies] == ["case.created", "message.received"]
    assert bodies[1]["message"] == {
        "id": message.pk,
        "platform": "x",
        "direction": "inbound",
        "text": "@acme_care the kettle leaks",
    }
    assert {b["case"]["id"] for b in bodies} == {message.case_id}


def test_a_failing_receiver_is_retried_after_the_back_off_and_every_attempt_logged(
    receiver, case, agent, clock
):
    endpoint_for(receiver, ["case.assigned"])
    receiver.answers = [500]
    actions.claim_case(case_id=case.pk, agent=agent)

    deliver_due_webhooks_task()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == clock.at + backoff(1) == clock.at + timedelta(seconds=30)
    deliver_due_webhooks_task()  # not due yet
    assert len(receiver.requests) == 1

    clock.at += timedelta(seconds=31)
    deliver_due_webhooks_task()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert delivery.delivered_at == clock.at
    assert [(a.status_code, a.error) for a in delivery.log.all()] == [(500, ""), (200, "")]
    assert all(a.duration_ms >= 0 for a in delivery.log.all())
    assert len({r["headers"]["CareInbox-Delivery"] for r in receiver.requests}) == 1


def test_the_back_off_doubles_up_to_six_hours():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(20) == timedelta(hours=6)


def test_a_delivery_fails_after_the_last_attempt(receiver, case, agent, clock, settings):
    settings.CAREINBOX_WEBHOOK_MAX_ATTEMPTS = 3
    endpoint_for(receiver, ["case.assigned"])
    receiver.answers = [503] * 10
    actions.claim_case(case_id=case.pk, agent=agent)

    for _ in range(5):
        deliver_due_webhooks_task()
        clock.at += timedelta(hours=6, seconds=1)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert [a.status_code for a in delivery.log.all()] == [503, 503, 503]
    assert len(receiver.requests) == 3


def test_replaying_from_the_admin_site_sends_a_delivery_again(receiver, case, agent, client):
    endpoint_for(receiver, ["case.assigned"])
    actions.claim_case(case_id=case.pk, agent=agent)
    deliver_due_webhooks_task()
    delivery = Delivery.objects.get()
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))

    response = client.post(
        reverse("admin:webhooks_delivery_changelist"),
        {"action": "replay_deliveries", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 deliveries will be sent again" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert len(receiver.requests) == 1
    deliver_due_webhooks_task()
    assert [r["headers"]["CareInbox-Delivery"] for r in receiver.requests] == [
        str(delivery.pk)
    ] * 2
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert [a.status_code for a in delivery.log.all()] == [200, 200]
    page = client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and b"Save" not in page.content


def test_an_admin_may_register_an_endpoint_and_sees_its_secret(admin_user, receiver, client):
    assert admin_user.has_perms(["webhooks.add_endpoint", "webhooks.change_delivery"])
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))

    response = client.post(
        reverse("admin:webhooks_endpoint_add"),
        {"url": receiver.url, "description": "CRM", "events": ["case.created"], "active": "on"},
    )

    assert response.status_code == 302
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["case.created"] and len(endpoint.secret) >= 40
    page = client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert endpoint.secret in page.content.decode()


def test_a_slow_receiver_holds_up_neither_the_action_nor_other_work(
    receiver, case, agent, settings
):
    settings.CAREINBOX_WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.sleep = 3
    endpoint_for(receiver, ["case.assigned"])

    started = time.monotonic()
    actions.claim_case(case_id=case.pk, agent=agent)
    assert time.monotonic() - started < 1
    assert Delivery.objects.get().status == "pending"
    assert receiver.requests == []

    started = time.monotonic()
    deliver_due_webhooks_task()
    assert 1 <= time.monotonic() - started < 3

    assert len(receiver.requests) == 1
    delivery = Delivery.objects.get()
    [attempt] = delivery.log.all()
    assert attempt.status_code is None
    assert "Timeout" in attempt.error
    assert 1000 <= attempt.duration_ms < 3000
    assert (delivery.status, delivery.attempts) == ("pending", 1)


def test_with_a_broker_each_delivery_is_handed_to_a_worker_once_the_action_commits(
    receiver, case, agent, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the tests' Celery still runs tasks inline
    endpoint_for(receiver, ["case.assigned"])

    with django_capture_on_commit_callbacks() as handed_over:
        actions.claim_case(case_id=case.pk, agent=agent)
    assert receiver.requests == [] and len(handed_over) == 1

    handed_over[0]()

    assert [b["event"] for b in receiver.bodies()] == ["case.assigned"]
    assert Delivery.objects.get().status == "delivered"


def test_a_customers_erasure_blanks_the_bodies_quoting_them(receiver, db, settings, request):
    endpoint_for(receiver, EVENT_NAMES)
    gwen = request.getfixturevalue("gwen")
    admin_user = request.getfixturevalue("admin_user")
    quoting = Delivery.objects.filter(case_id__in=gwen["live"].cases.values("pk"))
    assert any("qzkettleword" in json.dumps(d.payload) for d in quoting)

    erase_customer(customer_id=gwen["merged"].pk, by=admin_user)

    left = every_text_in_the_database()
    assert [word for word in GWEN_WORDS if word in left] == []
    assert set(quoting.values_list("status", flat=True)) == {"failed"}
    deliver_due_webhooks_task()
    assert not any("qzkettleword" in r["body"].decode() for r in receiver.requests)
