"""What a load balancer, Prometheus and an admin are told about this install's health."""

import io
import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter

from careinbox.request_id import RequestIdFilter
from cases.models import Message
from channels.models import ChannelAccount
from demo.sandbox import mail
from staff import roles
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def ready() -> tuple[int, dict]:
    response = Client().get("/readyz")
    return response.status_code, {c["name"]: c for c in response.json()["checks"]}


def test_healthz_says_the_process_is_up():
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_a_fresh_install_is_ready(settings):
    settings.REDIS_URL = None

    status, checks = ready()

    assert status == 200
    assert checks["database"]["ok"] and checks["reply queue"]["ok"]
    assert checks["redis"]["detail"] == "No Redis configured: tasks run in the web process."


def test_redis_that_does_not_answer_makes_it_not_ready(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    status, checks = ready()

    assert status == 503
    assert not checks["redis"]["ok"] and "Redis does not answer" in checks["redis"]["detail"]


def test_an_account_that_has_not_polled_lately_makes_it_not_ready(settings):
    settings.REDIS_URL = None
    account = ChannelAccount.objects.create(platform="x", name="@acme_care", enabled=True)

    assert ready()[0] == 503  # never polled

    ChannelAccount.objects.filter(pk=account.pk).update(last_success_at=timezone.now())
    assert ready()[0] == 200

    an_hour_ago = timezone.now() - timedelta(hours=1)
    ChannelAccount.objects.filter(pk=account.pk).update(
        last_success_at=an_hour_ago, last_error="X refused GET /2/users/me: 401"
    )
    status, checks = ready()
    assert status == 503
    assert checks["poll x @acme_care"]["detail"] == (
        "Last successful poll 60 min ago. Last error: X refused GET /2/users/me: 401"
    )


def test_a_reply_stuck_in_the_queue_makes_it_not_ready(settings, ingest):
    settings.REDIS_URL = None
    case = ingest(channel="x.dm").message.case
    Message.objects.create(
        case=case, direction="outbound", channel="x.dm", text="On it",
        sent_at=timezone.now() - timedelta(hours=2), delivery_status="queued",
    )  # fmt: skip

    status, checks = ready()

    assert status == 503
    assert checks["reply queue"]["detail"] == (
        "The oldest reply waiting to be sent was queued 2 h ago."
    )


@pytest.mark.django_db(transaction=True)
def test_metrics_count_what_was_polled_for_prometheus_with_the_token(
    settings, sandbox, demo_traffic_lines
):
    settings.CAREINBOX_METRICS_TOKEN = "scrape-me"
    sandbox.state.load(demo_traffic_lines[:30])
    mail.deliver_visible(sandbox)
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    call_command("poll", once=True, stdout=io.StringIO())
    mentions = Message.objects.filter(channel="x.mention").count()
    Client().get("/healthz")

    refused = Client().get("/metrics")
    scraped = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")

    assert refused.status_code == 403
    text = scraped.text
    assert f'careinbox_messages_ingested_total{{channel="x.mention"}} {mentions}.0' in text
    assert 'careinbox_poll_failures{account="@acme_care",platform="x"} 0.0' in text
    assert 'careinbox_request_seconds_count{status="2xx",view="operations:healthz"}' in text
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_admins_see_system_health_and_agents_do_not(settings):
    settings.REDIS_URL = None
    admin = client_for(make_user("admin", roles.ADMIN))
    agent = client_for(make_user("agent", roles.AGENT))

    page = admin.get("/system-health/")

    assert page.status_code == 200
    assert "System health" in page.text and "No Redis configured" in page.text
    assert agent.get("/system-health/").status_code == 403
    assert admin.get("/metrics").status_code == 200
    assert agent.get("/metrics").status_code == 403


def test_each_log_line_of_a_request_carries_its_id_as_json(caplog):
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(request_id)s %(message)s"))
    logging.getLogger("django.request").addHandler(handler)
    try:
        given = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="lb-4f2a")
        made = Client().get("/healthz", HTTP_X_REQUEST_ID="not an id\n{}")
    finally:
        logging.getLogger("django.request").removeHandler(handler)

    assert given["X-Request-ID"] == "lb-4f2a"
    record = json.loads(lines.getvalue().splitlines()[0])
    assert record["request_id"] == "lb-4f2a" and record["message"] == "Not Found: /no-such-page/"
    assert len(made["X-Request-ID"]) == 32 and made["X-Request-ID"] != "not an id\n{}"
