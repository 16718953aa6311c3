"""Redis stopped and PostgreSQL connections killed while a real Celery worker and beat run.

The worker and beat are child processes on the test database and on a redis-server of the
test's own, so stopping it disturbs nobody else; the sandbox and the web (Django's test
client) run in this process.
"""

import json
import shutil
import subprocess
import time

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from careinbox.celery import app as celery_app
from cases.models import CaseEvent, Message
from channels.models import ChannelAccount
from demo.connect import sandbox_x_account
from intake.models import WebhookDelivery
from intake.webhooks.deliveries import accept_delivery
from tests.conftest import client_for, free_port
from tests.intake.test_webhooks import AT, BRAND_ID, CUSTOMER, X_SECRET, v1_tweet
from tests.processes import RedisServer, start_celery, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Beat's ticks, and how long a dead worker's claim on webhook deliveries holds.
TICK_SECONDS = "1"
LEASE_SECONDS = "3"


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; .ci/run installs it")
    server = RedisServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def worker_and_beat(redis_server, tmp_path):
    """Start a Celery worker and beat on the test's Redis, as production runs them."""
    children = []

    def start() -> None:
        env = {
            "REDIS_URL": redis_server.url,
            "CAREINBOX_POLL_TICK_SECONDS": TICK_SECONDS,
            "CAREINBOX_WEBHOOK_LEASE_SECONDS": LEASE_SECONDS,
            "CAREINBOX_SEND_LOCK_SECONDS": "10",
        }
        worker = ("worker", "--pool=solo", "-Q", "celery,linking")
        children.append(start_celery(*worker, log=tmp_path / "worker.log", **env))
        beat = ("beat", f"--schedule={tmp_path / 'beat'}")
        children.append(start_celery(*beat, log=tmp_path / "beat.log", **env))

    yield start
    for child in children:
        child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.fixture
def web_on(redis_server, settings):
    """This process, the web, with its cache and its task queue on the test's Redis."""
    settings.REDIS_URL = redis_server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "careinbox.cache.RedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, redis_server.url
    celery_app.close()  # the connection pool is made for the broker of its time
    yield
    conf.task_always_eager, conf.broker_url = saved
    celery_app.close()


def x_traffic(demo_traffic_lines):
    """The sample's X events in time order, split in two halves."""
    lines = sorted(
        (line for line in demo_traffic_lines if json.loads(line)["channel"].startswith("x.")),
        key=lambda line: json.loads(line)["at"],
    )
    return lines[: len(lines) // 2], lines[len(lines) // 2 :]


def stored_once() -> bool:
    return not Message.objects.values("external_id").annotate(n=Count("pk")).filter(n__gt=1)


def test_while_redis_is_down_the_web_serves_and_then_polls_and_replies_resume_once(
    sandbox, demo_traffic_lines, redis_server, worker_and_beat, web_on, agent
):
    first, later = x_traffic(demo_traffic_lines)
    sandbox.state.load(first)
    ChannelAccount.objects.create(
        platform="x", poll_interval_seconds=1, **sandbox_x_account({"url": sandbox.url})
    )
    worker_and_beat()
    inbound = Message.objects.filter(direction="inbound")
    wait_until(lambda: inbound.count() == len(first), "beat has the first half polled")
    mention = inbound.filter(channel="x.mention").order_by("sent_at").first()
    web = client_for(agent)

    redis_server.stop()
    sandbox.state.load(later)  # the customers write on while Redis is down

    assert web.get(reverse("workspace:inbox")).status_code == 200
    case_url = reverse("workspace:case-detail", args=[mention.case_id])
    assert web.get(case_url).status_code == 200
    answer = web.post(reverse("workspace:case-reply", args=[mention.case_id]), {"text": "On it."})
    assert answer.status_code == 302
    reply = Message.objects.get(direction="outbound")
    assert reply.delivery_status == "queued"
    time.sleep(2)  # beat and the worker run on meanwhile, without their broker
    assert sandbox.state.sent("x") == []

    redis_server.start()

    wait_until(
        lambda: inbound.count() == len(first) + len(later), "polls have caught up after Redis"
    )
    wait_until(lambda: len(sandbox.state.sent("x")) > 0, "the reply has been posted")
    time.sleep(2)  # time for a second post, were one to come
    reply.refresh_from_db()
    (posted,) = sandbox.state.sent("x")
    assert (reply.delivery_status, reply.external_id) == ("sent", posted.payload["id"])
    assert stored_once()


TWEETS = 2000


def big_delivery() -> bytes:
    tweets = [
        v1_tweet(f"18580000000{n:08d}", f"@acme_care question {n}", CUSTOMER, AT)
        for n in range(TWEETS)
    ]
    return json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": tweets}).encode()


def backend_waiting_to_insert_into(table: str) -> int | None:
    """The pid of another backend whose INSERT into ``table`` waits for a lock."""
    with connection.cursor() as cursor:
        # Inside a transaction the activity view is a snapshot taken at its first read.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            " AND starts_with(query, %s)",
            [f'INSERT INTO "{table}"'],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_batch_whose_database_connection_is_killed_lands_once_after_the_retry(
    worker_and_beat, tmp_path
):
    account = ChannelAccount.objects.create(
        platform="x",
        name="@acme_care",
        settings={"user_id": BRAND_ID, "handle": "acme_care"},
        credentials={"bearer_token": "token", "consumer_secret": X_SECRET},
        last_polled_at=timezone.now(),  # its messages come by webhook here, not by a poll
        poll_interval_seconds=3600,
    )
    accept_delivery(account=account, body=big_delivery())
    events = CaseEvent._meta.db_table
    with transaction.atomic():
        # The batch's transaction writes cases, messages and evidence, then its case events:
        # holding those back stops the worker in the middle of its batch.
        with connection.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{events}" IN SHARE MODE')
        worker_and_beat()
        wait_until(
            lambda: backend_waiting_to_insert_into(events) is not None,
            "the worker is in the middle of the batch",
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(%s)", [backend_waiting_to_insert_into(events)]
            )

    assert not Message.objects.exists()
    wait_until(lambda: not WebhookDelivery.objects.exists(), "the batch is ingested again")
    # The first try died with its connection ("terminating connection", or "server closed the
    # connection unexpectedly", as the kill reaches the worker).
    assert "OperationalError" in (tmp_path / "worker.log").read_text()
    assert Message.objects.count() == TWEETS
    assert stored_once()
