import json
import time
from dataclasses import replace
from datetime import datetime

import pytest

from channels.errors import PermanentSendError, TransientSendError
from channels.plug import OutboundReply
from channels.x import CHANNEL
from channels.x.client import XApi
from channels.x.length import ReplyTooLong
from demo.sandbox.state import Fault
from demo.sandbox.x_api import BRAND, snowflake

send = CHANNEL.sender.send
find_sent = CHANNEL.sender.find_sent


@pytest.fixture
def customer_events(sandbox, some_x_lines):
    """The first customer mention and DM of the sample traffic, as the sandbox serves them."""
    sandbox.state.load(some_x_lines)
    events = [json.loads(line) for line in some_x_lines]
    return {
        channel: next(e for e in events if e["channel"] == channel)
        for channel in ("x.mention", "x.dm")
    }


def reply_to(event, text="Sorry about this! Could you DM us your order number? ^JL", n=1):
    return OutboundReply(
        message_id=n,
        channel=event["channel"],
        text=text,
        in_reply_to=snowflake(datetime.fromisoformat(event["at"]), event["id"]),
        recipient=event["author"]["id"],
    )


def test_a_reply_to_a_mention_is_posted_as_a_reply_tweet_in_its_thread(
    sandbox, x_account, customer_events
):
    reply = reply_to(customer_events["x.mention"])

    tweet_id = send(x_account, reply)

    [posted] = sandbox.state.sent("x")
    assert posted.kind == "x.tweet"
    assert posted.payload["id"] == tweet_id
    assert posted.payload["text"] == reply.text
    assert posted.payload["author_id"] == BRAND["id"]
    assert posted.payload["referenced_tweets"] == [{"type": "replied_to", "id": reply.in_reply_to}]
    assert posted.payload["in_reply_to_user_id"] == reply.recipient
    assert int(tweet_id) > int(reply.in_reply_to)


def test_a_reply_to_a_dm_is_a_direct_message_to_the_customer(sandbox, x_account, customer_events):
    reply = reply_to(customer_events["x.dm"], text="Thanks, I've booked the engineer for 9am.")

    event_id = send(x_account, reply)

    [sent] = sandbox.state.sent("x")
    assert sent.kind == "x.dm"
    assert sent.payload["id"] == event_id
    assert sent.payload["text"] == reply.text
    assert sent.payload["sender_id"] == BRAND["id"]
    assert sent.payload["dm_conversation_id"] == "-".join(
        sorted((reply.recipient, BRAND["id"]), key=int)
    )


@pytest.mark.parametrize("channel", ["x.mention", "x.dm"])
def test_find_sent_finds_a_reply_already_posted_and_nothing_else(
    sandbox, x_account, customer_events, channel
):
    # X escapes "&" and swaps links for t.co links in what it shows back.
    reply = reply_to(customer_events[channel], text="Fixes & news: https://acme.example.com/x ^JL")
    assert find_sent(x_account, reply) is None

    platform_id = send(x_account, reply)

    assert find_sent(x_account, reply) == platform_id
    other_text = reply_to(customer_events[channel], text="Something else ^JL", n=2)
    assert find_sent(x_account, other_text) is None


def test_find_sent_ignores_the_same_words_sent_in_another_thread(
    sandbox, x_account, customer_events, some_x_lines
):
    events = [json.loads(line) for line in some_x_lines]
    first, second = [e for e in events if e["channel"] == "x.mention"][:2]
    send(x_account, reply_to(first, text="Thanks, we're looking into it ^JL"))

    assert find_sent(x_account, reply_to(second, text="Thanks, we're looking into it ^JL")) is None


def test_find_sent_ignores_the_same_words_sent_to_another_customer(
    sandbox, x_account, customer_events, some_x_lines
):
    events = [json.loads(line) for line in some_x_lines]
    first = customer_events["x.dm"]
    other = next(e for e in events if e["channel"] == "x.dm" and e["author"] != first["author"])
    send(x_account, reply_to(first, text="Thanks, all sorted!"))

    assert find_sent(x_account, reply_to(other, text="Thanks, all sorted!")) is None


def test_a_reply_too_long_for_x_is_refused_before_posting(sandbox, x_account, customer_events):
    reply = reply_to(customer_events["x.mention"], text="a" * 277 + " ^JL")

    with pytest.raises(ReplyTooLong, match="This reply is 281 of 280 characters on X"):
        send(x_account, reply)

    assert sandbox.state.sent("x") == []


def test_a_direct_message_may_be_longer_than_a_tweet(sandbox, x_account, customer_events):
    send(x_account, reply_to(customer_events["x.dm"], text="Long detail. " * 100))

    assert len(sandbox.state.sent("x")) == 1


def test_a_reply_to_a_tweet_x_does_not_show_is_refused_for_good(
    sandbox, x_account, customer_events
):
    gone = replace(reply_to(customer_events["x.mention"]), in_reply_to="1111111111111111111")

    with pytest.raises(
        PermanentSendError, match="reply to a Tweet that is deleted or not visible"
    ):
        send(x_account, gone)

    assert sandbox.state.sent("x") == []


def test_the_same_text_twice_is_refused_by_x_as_duplicate_content(
    sandbox, x_account, customer_events
):
    reply = reply_to(customer_events["x.mention"])
    send(x_account, reply)

    with pytest.raises(PermanentSendError, match="duplicate content"):
        send(x_account, reply)

    assert len(sandbox.state.sent("x")) == 1


@pytest.mark.parametrize("kind", ["rate_limit", "server_error"])
@pytest.mark.parametrize("channel", ["x.mention", "x.dm"])
def test_a_busy_or_failing_x_is_a_transient_send_error(
    sandbox, x_account, customer_events, kind, channel
):
    sandbox.state.add_fault(Fault(platform="x", kind=kind, seconds=60))

    with pytest.raises(TransientSendError):
        send(x_account, reply_to(customer_events[channel]))

    assert sandbox.state.sent("x") == []


def test_a_slow_x_is_a_transient_send_error_and_find_sent_tells_whether_it_landed(
    sandbox, x_account, customer_events
):
    x_account.settings["timeout"] = 0.3
    sandbox.state.add_fault(Fault(platform="x", kind="timeout", seconds=0.6))
    reply = reply_to(customer_events["x.mention"])

    with pytest.raises(TransientSendError):
        send(x_account, reply)

    deadline = time.monotonic() + 5
    while not sandbox.state.sent("x") and time.monotonic() < deadline:
        time.sleep(0.05)  # X takes it after all, once the slow answer is done
    [posted] = sandbox.state.sent("x")
    assert find_sent(x_account, reply) == posted.payload["id"]


def test_find_sent_failing_to_read_x_is_transient(sandbox, x_account, customer_events):
    sandbox.state.add_fault(Fault(platform="x", kind="server_error"))

    with pytest.raises(TransientSendError, match="Could not check X"):
        find_sent(x_account, reply_to(customer_events["x.dm"]))


def test_a_reply_on_a_channel_x_does_not_have_is_refused(x_account, customer_events):
    email = OutboundReply(
        message_id=7, channel="email", text="Hi", in_reply_to="<a@b>", recipient="a@b.example"
    )

    with pytest.raises(PermanentSendError, match=r"X answers only x\.mention and x\.dm"):
        send(x_account, email)


def test_a_public_tweet_answers_no_one_and_leads_the_brands_timeline(x_account, sandbox):
    tweet_id = CHANNEL.post_public(x_account, "Card payments are failing; next update at 3pm.")

    [tweet] = sandbox.state.sent("x")
    assert tweet.payload["id"] == tweet_id and "referenced_tweets" not in tweet.payload
    api = XApi(x_account)
    timeline = api.client.get_users_tweets(BRAND["id"], user_auth=api.user_auth)
    assert timeline["data"][0]["id"] == tweet_id


def test_a_public_tweet_too_long_for_x_is_refused_before_posting(x_account, sandbox):
    with pytest.raises(ReplyTooLong, match="This post is 281 of 280 characters on X"):
        CHANNEL.post_public(x_account, "a" * 281)

    assert sandbox.state.sent("x") == []
