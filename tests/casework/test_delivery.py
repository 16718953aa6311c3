"""Replies leave through the real X client to the sandbox, signed, once, in the right thread."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Message
from casework.exceptions import ReplyNotPossible
from casework.replies import queue_reply, retry_reply
from casework.tasks import retry_due_replies_task
from channels.models import ChannelAccount
from demo.connect import sandbox_x_account
from demo.sandbox.state import Fault
from intake.polling import poll_account
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)  # replies are sent on commit


@pytest.fixture
def inbox(sandbox, demo_traffic_lines):
    """The first X mention and the first X DM of the sample, polled into cases."""
    events = [json.loads(line) for line in demo_traffic_lines]
    wanted = [
        next(e for e in events if e["channel"] == "x.mention" and "reply_to" not in e),
        next(e for e in events if e["channel"] == "x.dm"),
    ]
    sandbox.state.load([json.dumps(e) for e in wanted])
    account = ChannelAccount.objects.create(
        platform="x", **sandbox_x_account({"url": sandbox.url})
    )
    assert poll_account(account=account).stored == 2
    return account


def latest_inbound(channel):
    return Message.objects.get(direction="inbound", channel=channel)


def test_reply_to_a_mention_is_a_signed_reply_tweet_in_its_thread(inbox, sandbox, agent):
    mention = latest_inbound("x.mention")

    reply = queue_reply(case=mention.case, agent=agent, text="Sorry! Checking now.")

    reply.refresh_from_db()
    sent = sandbox.state.sent("x")
    assert len(sent) == 1
    assert sent[0].payload["text"] == "Sorry! Checking now. ^JL"
    assert sent[0].payload["referenced_tweets"] == [
        {"type": "replied_to", "id": mention.external_id}
    ]
    assert (reply.delivery_status, reply.external_id) == ("sent", sent[0].payload["id"])
    assert reply.case.events.filter(kind="reply_sent", message=reply).exists()
    assert Case.objects.get(pk=mention.case_id).first_response_at == reply.sent_at


def test_reply_to_a_dm_is_a_dm_to_the_customer(inbox, sandbox, agent):
    dm = latest_inbound("x.dm")

    queue_reply(case=dm.case, agent=agent, text="Could you DM your order number?")

    sent = sandbox.state.sent("x")
    assert [o.kind for o in sent] == ["x.dm"]
    assert sent[0].payload["text"] == "Could you DM your order number? ^JL"
    assert dm.author_identity.external_id in sent[0].payload["dm_conversation_id"].split("-")


def test_a_reply_whose_answer_was_lost_is_not_posted_twice(inbox, sandbox, agent):
    mention = latest_inbound("x.mention")
    ChannelAccount.objects.filter(pk=inbox.pk).update(settings={**inbox.settings, "timeout": 1})
    # X accepts the tweet but the answer never arrives in time: the send times out, and the
    # retry must find the tweet instead of posting it again.
    sandbox.state.add_fault(Fault(platform="x", kind="lost_answer", seconds=2))

    reply = queue_reply(case=mention.case, agent=agent, text="On it.")
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_attempts) == ("queued", 1)
    assert "timed out" in reply.delivery_error
    assert reply.delivery_next_attempt_at > timezone.now()

    Message.objects.filter(pk=reply.pk).update(delivery_next_attempt_at=timezone.now())
    retry_due_replies_task.delay()

    reply.refresh_from_db()
    assert len(sandbox.state.sent("x")) == 1
    assert reply.delivery_status == "sent"
    assert reply.external_id == sandbox.state.sent("x")[0].payload["id"]
    assert reply.delivery_attempts == 2


def test_a_rate_limited_reply_waits_for_the_platforms_reset_without_spending_a_try(
    inbox, sandbox, agent
):
    mention = latest_inbound("x.mention")
    sandbox.state.add_fault(Fault(platform="x", kind="rate_limit", seconds=600))

    reply = queue_reply(case=mention.case, agent=agent, text="On it.")

    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_attempts) == ("queued", 0)
    assert "rate-limited" in reply.delivery_error
    wait = reply.delivery_next_attempt_at - timezone.now()
    assert timedelta(seconds=590) < wait <= timedelta(seconds=601)  # X's reset, not 5 s
    assert sandbox.state.sent("x") == []

    Message.objects.filter(pk=reply.pk).update(delivery_next_attempt_at=timezone.now())
    retry_due_replies_task.delay()

    reply.refresh_from_db()
    assert (reply.delivery_status, len(sandbox.state.sent("x"))) == ("sent", 1)


def test_a_reply_too_long_for_x_is_refused_before_it_is_stored(inbox, sandbox, agent):
    mention = latest_inbound("x.mention")

    with pytest.raises(ReplyNotPossible, match="282 of 280 characters on X; shorten it by 2"):
        queue_reply(case=mention.case, agent=agent, text="x" * 278)
    assert not Message.objects.filter(direction="outbound").exists()
    assert sandbox.state.sent("x") == []


def failed_reply(mention, agent):
    """A reply X refuses when it is sent: the same text as a tweet already posted."""
    queue_reply(case=mention.case, agent=agent, text="Checking.")
    reply = queue_reply(case=mention.case, agent=agent, text="Checking.")
    reply.refresh_from_db()
    return reply


def test_a_reply_the_platform_refuses_fails_with_the_reason_and_can_be_retried(
    inbox, sandbox, agent
):
    mention = latest_inbound("x.mention")
    reply = failed_reply(mention, agent)

    assert reply.delivery_status == "failed"
    assert "duplicate content" in reply.delivery_error
    Message.objects.filter(pk=reply.pk).update(text="Checking again. ^JL")
    retry_reply(message_id=reply.pk, by=agent)
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert [o.payload["text"] for o in sandbox.state.sent("x")] == [
        "Checking. ^JL",
        "Checking again. ^JL",
    ]


def test_an_agent_retries_a_failed_reply_from_the_case_page_and_it_is_posted_once(
    inbox, sandbox, agent
):
    mention = latest_inbound("x.mention")
    reply = failed_reply(mention, agent)
    Message.objects.filter(pk=reply.pk).update(text="Checking again. ^JL")
    retry = reverse(
        "workspace:case-retry-reply", kwargs={"case_id": reply.case_id, "message_id": reply.pk}
    )
    client = client_for(agent)

    response = client.post(retry, headers={"HX-Request": "true"})
    again = client.post(retry, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "case-changed" in response.headers["HX-Trigger"]
    assert "has not failed" in again.content.decode()
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert [o.payload["text"] for o in sandbox.state.sent("x")] == [
        "Checking. ^JL",
        "Checking again. ^JL",
    ]


def test_an_empty_reply_is_refused_before_anything_is_stored(inbox, agent):
    mention = latest_inbound("x.mention")

    with pytest.raises(ReplyNotPossible, match="empty"):
        queue_reply(case=mention.case, agent=agent, text="   ")
    assert not Message.objects.filter(direction="outbound").exists()


def test_an_admin_retries_a_failed_reply_from_the_admin(inbox, sandbox, agent, client):
    mention = latest_inbound("x.mention")
    reply = failed_reply(mention, agent)
    Message.objects.filter(pk=reply.pk).update(text="Shorter now. ^JL")
    admin = get_user_model().objects.create_superuser("admin", password="pw")
    client.force_login(admin)

    response = client.post(
        "/admin/cases/message/",
        {"action": "retry_failed_replies", "_selected_action": [reply.pk]},
        follow=True,
    )

    assert "1 failed replies queued again." in response.content.decode()
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert [o.payload["text"] for o in sandbox.state.sent("x")][-1] == "Shorter now. ^JL"
