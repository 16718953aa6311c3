"""Workers killed with SIGKILL at the worst moment lose and duplicate nothing once restarted.

The worker is a real child process on the test database; the sandbox runs in this process, so
the test sees what the platform received at the moment it kills the worker.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from careinbox.celery import app as celery_app
from cases.models import Message
from casework.replies import queue_reply
from casework.tasks import retry_due_replies_task
from channels.models import ChannelAccount
from demo.connect import sandbox_x_account
from demo.sandbox.state import Fault
from intake.polling import poll_account
from tests.processes import WAIT_SECONDS, child_env, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def start_worker(code: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(settings.BASE_DIR),
        env=child_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=WAIT_SECONDS)


@pytest.fixture
def x_account(sandbox, demo_traffic_lines):
    x_lines = [line for line in demo_traffic_lines if json.loads(line)["channel"].startswith("x.")]
    sandbox.state.load(x_lines)
    return ChannelAccount.objects.create(platform="x", **sandbox_x_account({"url": sandbox.url}))


def test_a_poll_killed_mid_way_is_caught_up_by_the_next_without_loss_or_duplicates(
    x_account, sandbox
):
    sandbox.state.page_size = 10
    # The fourth page never answers: the worker is killed while it waits for it.
    sandbox.state.add_fault(Fault(platform="x", kind="timeout", seconds=30, after=3))
    worker = start_worker(
        "from django.core.management import call_command; "
        f"call_command('poll', once=True, account={x_account.name!r})",
        CAREINBOX_POLL_LOCK_SECONDS="1",
    )
    wait_until(lambda: not sandbox.state.faults, "the worker waits for the page that hangs")
    stored_before_kill = Message.objects.count()
    kill(worker)

    time.sleep(1.1)  # the dead worker's lock expires
    sandbox.state.page_size = 100
    poll_account(account=x_account, force=True)

    expected = len(sandbox.state.visible_events("x"))
    assert 0 < stored_before_kill < expected
    assert Message.objects.count() == expected
    assert not Message.objects.values("external_id").annotate(n=Count("pk")).filter(n__gt=1)


def test_a_reply_whose_worker_was_killed_after_the_platform_took_it_is_not_posted_twice(
    x_account, sandbox, agent
):
    poll_account(account=x_account)
    mention = Message.objects.filter(channel="x.mention").order_by("sent_at").first()
    # Queued only: the worker below is the one that sends it.
    reply = Message.objects.get(pk=_queue_without_sending(mention, agent))
    sandbox.state.add_fault(Fault(platform="x", kind="lost_answer", seconds=30))

    worker = start_worker(
        f"from casework.delivery import send_reply; send_reply(message_id={reply.pk})",
        CAREINBOX_SEND_LOCK_SECONDS="1",
    )
    wait_until(lambda: len(sandbox.state.sent("x")) == 1, "X has accepted the reply")
    kill(worker)
    reply.refresh_from_db()
    assert reply.delivery_status == "sending"

    # The restarted service finds the stalled send once its lock and stall time have passed.
    time.sleep(1.1)
    Message.objects.filter(pk=reply.pk).update(delivery_next_attempt_at=timezone.now())
    retry_due_replies_task.delay()

    reply.refresh_from_db()
    assert len(sandbox.state.sent("x")) == 1
    assert reply.delivery_status == "sent"
    assert reply.external_id == sandbox.state.sent("x")[0].payload["id"]


def _queue_without_sending(mention: Message, agent) -> int:
    """Queue a reply on an in-memory broker that no worker reads, as if the worker that took
    the task is the one the test starts."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, "memory://"
    try:
        return queue_reply(case=mention.case, agent=agent, text="Looking into it.").pk
    finally:
        conf.task_always_eager, conf.broker_url = saved
