"""An agent's reply on each kind of channel reaches the sandbox signed, in the right thread."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.models import Message
from casework.exceptions import ReplyNotPossible
from casework.replies import queue_reply
from demo.sandbox import mail
from tests.conftest import AGENT_SIGN_OFF

pytestmark = pytest.mark.django_db(transaction=True)  # replies are sent on commit


@pytest.fixture
def inbox(sandbox, demo_traffic_lines):
    # The week's last day, moved to the past week so Messenger's reply window is still open.
    sandbox.state.load(demo_traffic_lines[-60:], rebase_to=timezone.now())
    mail.deliver_visible(sandbox)
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    call_command("poll", once=True, stdout=io.StringIO())


def reply_to_latest(channel, agent):
    answered = (
        Message.objects.filter(direction="inbound", channel=channel, automated="")
        .select_related("author_identity", "case")
        .latest("sent_at")
    )
    reply = queue_reply(case=answered.case, agent=agent, text="Thanks, we're on it.")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent", reply.delivery_error
    return answered


def test_a_mention_is_answered_with_a_signed_reply_tweet(inbox, agent, sandbox):
    answered = reply_to_latest("x.mention", agent)

    [tweet] = sandbox.state.sent("x")
    assert tweet.payload["text"] == "Thanks, we're on it. ^JL"
    assert tweet.payload["referenced_tweets"] == [
        {"type": "replied_to", "id": answered.external_id}
    ]


def test_a_dm_is_answered_with_a_signed_dm(inbox, agent, sandbox):
    answered = reply_to_latest("x.dm", agent)

    [dm] = sandbox.state.sent("x")
    assert dm.kind == "x.dm" and dm.payload["text"] == "Thanks, we're on it. ^JL"
    assert answered.author_identity.external_id in dm.payload["dm_conversation_id"].split("-")


@pytest.mark.parametrize("channel", ["facebook.comment", "facebook.post"])
def test_a_comment_or_visitor_post_is_answered_with_a_comment_in_its_thread(
    inbox, agent, sandbox, channel
):
    answered = reply_to_latest(channel, agent)

    [comment] = sandbox.state.sent("facebook")
    assert comment.kind == "facebook.comment"
    assert comment.payload["message"] == f"Thanks, we're on it.\n\n{AGENT_SIGN_OFF}"
    assert comment.payload["object_id"] == answered.external_id


def test_a_messenger_message_is_answered_in_messenger(inbox, agent, sandbox):
    answered = reply_to_latest("facebook.message", agent)

    [message] = sandbox.state.sent("facebook")
    assert message.kind == "facebook.message"
    assert message.payload["recipient_id"] == answered.author_identity.external_id
    assert message.payload["text"] == f"Thanks, we're on it.\n\n{AGENT_SIGN_OFF}"


def test_a_mail_is_answered_in_its_thread_with_the_case_reference(inbox, agent, sandbox):
    answered = reply_to_latest("email", agent)

    [sent] = sandbox.state.sent("email")
    assert sent.payload["rcpt_tos"] == [answered.author_identity.external_id]
    assert sent.payload["in_reply_to"] == answered.external_id
    assert answered.external_id in sent.payload["references"]
    assert f"[#{answered.case_id}]" in sent.payload["subject"]
    assert "Jo Lee" in sent.payload["data"]


def test_a_messenger_reply_after_the_window_closed_is_refused_with_the_reason(
    inbox, agent, sandbox
):
    answered = (
        Message.objects.filter(direction="inbound", channel="facebook.message")
        .select_related("case")
        .latest("sent_at")
    )
    Message.objects.filter(case=answered.case).update(sent_at=timezone.now() - timedelta(days=9))

    with pytest.raises(ReplyNotPossible, match="7-day window for human agents closed 2 days"):
        queue_reply(case=answered.case, agent=agent, text="Sorry for the wait!")
    assert sandbox.state.sent("facebook") == []
