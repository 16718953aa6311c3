from datetime import UTC, datetime, timedelta

import pytest
import requests

from cases.models import Message
from casework.delivery import outbound_reply, send_reply
from channels.errors import PermanentSendError, SendRateLimited, TransientSendError
from channels.facebook import sender
from channels.facebook.sender import WindowState, messaging_window
from channels.plug import OutboundReply
from demo.sandbox.graph_api import PAGE_ACCESS_TOKEN, PAGE_ID
from demo.sandbox.state import Fault
from intake.models import QuarantinedPayload
from intake.polling import poll_account
from tests.sandbox_events import event

pytestmark = pytest.mark.django_db

BERNADETTE = {"id": "100066745989389", "name": "Bernadette Quinn"}
SANDRA = {"id": "100079059474376", "name": "Sandra Piotrowski"}
PAGE_POST = {"id": "104857600123456_812039475610293", "text": "Upgrade to Acme Fibre 900 today!"}


def polled(account, sandbox, *lines):
    """Load customer events into the sandbox, poll them in, and return them by text."""
    sandbox.state.load(lines)
    result = poll_account(account=account, force=True)
    assert not result.failed, result.error
    return {m.text: m for m in Message.objects.filter(channel_account=account)}


def reply_to(message, text, *, message_id=1):
    return OutboundReply(
        message_id=message_id,
        channel=message.channel,
        text=text,
        in_reply_to=message.external_id,
        recipient=message.author_identity.external_id,
    )


def comments_on(sandbox, object_id):
    answer = requests.get(
        f"{sandbox.url}/v25.0/{object_id}/comments",
        params={"access_token": PAGE_ACCESS_TOKEN, "fields": "id,from,message"},
        timeout=5,
    )
    return answer.json()["data"]


def test_a_reply_to_a_visitor_post_is_a_page_comment_under_it(account, sandbox):
    post = polled(
        account, sandbox, event("p1", "facebook.post", "Fridge leaking", author=BERNADETTE)
    )["Fridge leaking"]
    reply = reply_to(post, "Sorry to hear that, Bernadette. Please message us your order.")

    comment_id = sender.send(account, reply)

    [sent] = sandbox.state.sent("facebook")
    assert sent.kind == "facebook.comment"
    assert (sent.payload["id"], sent.payload["post_id"]) == (comment_id, post.external_id)
    assert sent.payload["message"] == reply.text
    assert comments_on(sandbox, post.external_id) == [
        {"id": comment_id, "from": {"id": PAGE_ID, "name": "Acme Home"}, "message": reply.text}
    ]


def test_a_reply_to_a_comment_lands_under_that_comment(account, sandbox):
    comment = polled(
        account,
        sandbox,
        event("c1", "facebook.comment", "Not in LS6?", author=SANDRA, page_post=PAGE_POST),
    )["Not in LS6?"]

    comment_id = sender.send(account, reply_to(comment, "LS6 is planned for spring."))

    [sent] = sandbox.state.sent("facebook")
    assert (sent.payload["id"], sent.payload["thread"]) == (comment_id, comment.external_id)
    assert sent.payload["post_id"] == PAGE_POST["id"]
    assert [c["message"] for c in comments_on(sandbox, comment.external_id)] == [
        "LS6 is planned for spring."
    ]


def test_a_comment_is_hidden_on_the_page_through_the_graph_client(account, sandbox):
    comment = polled(
        account,
        sandbox,
        event("c1", "facebook.comment", "Grow your page 10x!", author=SANDRA, page_post=PAGE_POST),
    )["Grow your page 10x!"]

    sender.hide_comment(account, comment.external_id)

    [hidden] = sandbox.state.sent("facebook")
    assert (hidden.kind, hidden.payload) == ("facebook.hide", {"id": comment.external_id})
    with pytest.raises(PermanentSendError, match="would not hide comment 1_2"):
        sender.hide_comment(account, "1_2")


def test_a_reply_to_a_reply_joins_its_thread_as_on_facebook(account, sandbox):
    messages = polled(
        account,
        sandbox,
        event(
            "c1", "facebook.comment", "Not in LS6?", ago=timedelta(hours=2), page_post=PAGE_POST
        ),
        event("c2", "facebook.comment", "Me neither", author=SANDRA, reply_to="c1"),
    )
    answer = reply_to(messages["Me neither"], "We're on it, Sandra.")

    comment_id = sender.send(account, answer)

    thread = messages["Not in LS6?"].external_id
    assert sandbox.state.sent("facebook")[0].payload["thread"] == thread
    assert sender.find_sent(account, answer) == comment_id


def test_find_sent_finds_a_comment_reply_already_posted_and_nothing_before(account, sandbox):
    post = polled(account, sandbox, event("p1", "facebook.post", "Click and collect Sundays?"))[
        "Click and collect Sundays?"
    ]
    first = reply_to(post, "Yes, 10am to 4pm.", message_id=1)
    other = reply_to(post, "Yes, 10am to 4pm!", message_id=2)

    assert sender.find_sent(account, first) is None
    comment_id = sender.send(account, first)

    assert sender.find_sent(account, first) == comment_id
    assert sender.find_sent(account, other) is None


def test_our_replies_show_in_later_polls_as_the_pages_own_and_are_skipped(account, sandbox):
    messages = polled(
        account,
        sandbox,
        event("p1", "facebook.post", "Cooker still not delivered"),
        event("m1", "facebook.message", "Any news on my cooker?", author=SANDRA),
    )
    sender.send(account, reply_to(messages["Cooker still not delivered"], "Checking now."))
    sender.send(account, reply_to(messages["Any news on my cooker?"], "It ships Friday."))
    account.refresh_from_db()
    account.poll_cursors = {}  # read everything again, our replies included
    account.save()

    result = poll_account(account=account, force=True)

    assert (result.failed, result.stored, result.quarantined) == (False, 0, 0)
    assert result.duplicates == 2
    assert not QuarantinedPayload.objects.exists()


@pytest.mark.parametrize(
    ("ago", "messaging_type", "tag"),
    [
        (timedelta(hours=2), "RESPONSE", None),
        (timedelta(days=3), "MESSAGE_TAG", "HUMAN_AGENT"),
    ],
)
def test_a_messenger_reply_goes_out_as_the_window_allows(
    account, sandbox, ago, messaging_type, tag
):
    message = polled(
        account, sandbox, event("m1", "facebook.message", "Where is my order?", ago=ago)
    )["Where is my order?"]
    reply = reply_to(message, "It left the depot this morning.")

    mid = sender.send(account, reply)

    [sent] = sandbox.state.sent("facebook")
    assert sent.kind == "facebook.message"
    assert sent.payload == {
        "id": mid,
        "conversation_id": sent.payload["conversation_id"],
        "recipient_id": BERNADETTE["id"],
        "text": "It left the depot this morning.",
        "messaging_type": messaging_type,
        "tag": tag,
    }
    assert sender.find_sent(account, reply) == mid


def test_a_messenger_reply_after_seven_days_is_refused_and_nothing_is_sent(account, sandbox):
    message = polled(
        account, sandbox, event("m1", "facebook.message", "Hello?", ago=timedelta(days=9, hours=1))
    )["Hello?"]

    with pytest.raises(PermanentSendError) as refused:
        sender.send(account, reply_to(message, "Sorry for the wait."))

    assert str(refused.value) == (
        "Messenger's 7-day window for human agents closed 2 days ago; answer on another channel "
        "the customer used."
    )
    assert sandbox.state.sent() == []


def test_the_windows_use_the_customers_latest_message_not_the_one_answered(account, sandbox):
    messages = polled(
        account,
        sandbox,
        event("m1", "facebook.message", "My washer broke", ago=timedelta(days=8)),
        event("m2", "facebook.message", "Still broken", ago=timedelta(hours=1)),
    )

    sender.send(account, reply_to(messages["My washer broke"], "An engineer is booked."))

    assert sandbox.state.sent("facebook")[0].payload["messaging_type"] == "RESPONSE"


def test_find_sent_looks_only_after_the_answered_messenger_message(account, sandbox):
    messages = polled(
        account,
        sandbox,
        event("m1", "facebook.message", "Hi", ago=timedelta(hours=3)),
        event("m2", "facebook.message", "Hi again", ago=timedelta(hours=2)),
    )
    sender.send(account, reply_to(messages["Hi"], "Hello!", message_id=1))
    # The customer writes again just after the page's reply.
    sandbox.state.load([event("m3", "facebook.message", "Hello?", ago=-timedelta(seconds=5))])
    poll_account(account=account, force=True)
    later = Message.objects.get(text="Hello?")

    assert sender.find_sent(account, reply_to(later, "Hello!", message_id=2)) is None


def test_a_reply_to_something_facebook_does_not_know_is_refused(account, sandbox):
    reply = OutboundReply(
        message_id=7,
        channel="facebook.comment",
        text="Hi",
        in_reply_to="812039475610293_1",
        recipient="1",
    )

    with pytest.raises(PermanentSendError, match=r"Facebook refused reply 7 .* does not exist"):
        sender.send(account, reply)


@pytest.mark.parametrize("kind", ["server_error", "rate_limit", "timeout"])
def test_a_reply_facebook_may_take_later_is_retried(account, sandbox, kind):
    post = polled(account, sandbox, event("p1", "facebook.post", "Hello"))["Hello"]
    account.settings["timeout"] = 0.3
    account.save()
    sandbox.state.add_fault(Fault("facebook", kind, seconds=1.0))

    expected = "Reply 1 waits for Facebook" if kind == "rate_limit" else "could not reach"
    with pytest.raises(TransientSendError, match=expected) as raised:
        sender.send(account, reply_to(post, "Hi!"))

    # Throttled, it says until when; the send task waits until then.
    assert isinstance(raised.value, SendRateLimited) == (kind == "rate_limit")


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "state", "explanation"),
    [
        (
            timedelta(hours=19, minutes=30),
            WindowState.OPEN,
            "Messenger's 24-hour window is open for another 4 hours.",
        ),
        (
            timedelta(hours=23, minutes=59),
            WindowState.OPEN,
            "Messenger's 24-hour window is open for another 1 minute.",
        ),
        (
            timedelta(hours=24),
            WindowState.HUMAN_AGENT,
            "Messenger's 24-hour window closed less than a minute ago; a human agent may still "
            "answer for another 6 days.",
        ),
        (
            timedelta(days=6, hours=23),
            WindowState.HUMAN_AGENT,
            "Messenger's 24-hour window closed 5 days ago; a human agent may still answer for "
            "another 1 hour.",
        ),
        (
            timedelta(days=7),
            WindowState.CLOSED,
            "Messenger's 7-day window for human agents closed less than a minute ago; answer on "
            "another channel the customer used.",
        ),
        (
            timedelta(days=9, hours=5),
            WindowState.CLOSED,
            "Messenger's 7-day window for human agents closed 2 days ago; answer on another "
            "channel the customer used.",
        ),
    ],
)
def test_the_messaging_window_explains_itself(ago, state, explanation):
    window = messaging_window(NOW - ago, NOW)

    assert (window.state, window.explanation) == (state, explanation)


def test_a_send_retried_after_the_worker_died_finds_the_reply_instead_of_posting_twice(
    account, sandbox
):
    customer = polled(account, sandbox, event("m1", "facebook.message", "Is it in stock?"))[
        "Is it in stock?"
    ]
    queued = Message.objects.create(
        case=customer.case,
        direction=Message.Direction.OUTBOUND,
        channel_account=account,
        channel=customer.channel,
        parent=customer,
        in_reply_to_external_id=customer.external_id,
        text="Yes, in silver and white.",
        sent_at=customer.sent_at,
        delivery_status=Message.Delivery.QUEUED,
    )
    # The platform took the first attempt, then the worker died before recording it.
    mid = sender.send(account, outbound_reply(queued))
    Message.objects.filter(pk=queued.pk).update(
        delivery_status=Message.Delivery.SENDING, delivery_attempts=1
    )

    send_reply(message_id=queued.pk)

    queued.refresh_from_db()
    assert (queued.delivery_status, queued.external_id) == (Message.Delivery.SENT, mid)
    assert len(sandbox.state.sent("facebook")) == 1


def test_a_post_on_the_page_leads_its_feed_and_is_not_polled_as_a_customers(account, sandbox):
    post_id = sender.post_on_page(account, "Card payments work again. Thank you for waiting.")

    answer = requests.get(
        f"{sandbox.url}/v25.0/{PAGE_ID}/feed",
        params={"access_token": PAGE_ACCESS_TOKEN, "fields": "id,message,from"},
        timeout=5,
    ).json()
    assert answer["data"][0]["id"] == post_id
    assert answer["data"][0]["message"] == "Card payments work again. Thank you for waiting."
    assert not poll_account(account=account, force=True).stored
