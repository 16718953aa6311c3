import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from channels.errors import MalformedPayload, UnsupportedEvent
from channels.facebook import client
from channels.facebook.normaliser import normalise

PEERS = Path(settings.BASE_DIR).parent / "shared" / "data" / "peers" / "facebook"
PAGE_ID = "<FACEBOOK_PAGE_1_ID>"
CUSTOMER = "<FACEBOOK_CUSTOMER_ID>"
# Recorded page feeds (GET /me/feed with nested comments) of zammad's Facebook channel tests.
FEEDS = [
    "channel_driver_facebook_tests_full_run.1.json",
    "facebook_from_article_works_as_expected.1.json",
    "facebook_to_ticket_works_as_expected.1.json",
    "facebook_to_user_works_as_expected.1.json",
]


def recorded(name):
    return json.loads((PEERS / name).read_bytes())


def feed_payloads(feed):
    """What the poller makes of a recorded feed: every item, the page's own included."""
    for post in feed["data"]:
        yield post, client.post_payload(post, PAGE_ID)
        for comment in post.get("comments", {}).get("data", []):
            yield comment, client.comment_payload(comment, post, PAGE_ID)


@pytest.mark.parametrize("name", FEEDS)
def test_recorded_customer_posts_and_comments_read_as_customer_messages(name):
    for item, payload in feed_payloads(recorded(name)):
        if item["from"]["id"] == PAGE_ID:
            continue
        message = normalise(payload)

        assert message.external_id == item["id"]
        assert message.author.external_id == CUSTOMER
        assert message.author.display_name == (
            "<FACEBOOK_CUSTOMER_FIRSTNAME> <FACEBOOK_CUSTOMER_LASTNAME>"
        )
        assert message.text == item["message"]
        assert message.sent_at == datetime.strptime(item["created_time"], "%Y-%m-%dT%H:%M:%S%z")
        assert message.raw == payload


def test_a_recorded_visitor_post_starts_a_thread_and_its_comment_answers_it():
    feed = recorded("channel_driver_facebook_tests_full_run.1.json")
    post = feed["data"][1]
    comment = post["comments"]["data"][1]

    post_message = normalise(client.post_payload(post, PAGE_ID))
    comment_message = normalise(client.comment_payload(comment, post, PAGE_ID))

    assert (post_message.channel, post_message.in_reply_to) == ("facebook.post", ())
    assert post_message.external_id == "<FACEBOOK_PAGE_1_ID>_<FACEBOOK_PAGE_1_POST_ID>"
    assert comment_message.channel == "facebook.comment"
    assert (
        comment_message.external_id
        == "<FACEBOOK_PAGE_1_POST_ID>_<FACEBOOK_PAGE_1_POST_COMMENT_ID>"
    )
    assert comment_message.text == "dddd"
    assert comment_message.in_reply_to == (post_message.external_id,)
    assert comment_message.sent_at == datetime(2021, 2, 4, 15, 23, 13, tzinfo=UTC)
    # The post it was written under comes along, to be shown above it.
    assert comment_message.context == post["message"]
    assert post_message.context == ""


@pytest.mark.parametrize("name", FEEDS)
def test_recorded_items_by_the_page_itself_are_not_customer_messages(name):
    own = [
        payload for item, payload in feed_payloads(recorded(name)) if item["from"]["id"] == PAGE_ID
    ]
    assert own
    for payload in own:
        with pytest.raises(UnsupportedEvent, match="the page's own"):
            normalise(payload)


def test_recorded_page_replies_under_a_comment_are_not_customer_messages():
    post = recorded("channel_driver_facebook_tests_full_run.1.json")["data"][1]
    replies = recorded("channel_driver_facebook_tests_full_run.13.json")["data"]
    replies.append(recorded("channel_driver_facebook_tests_full_run.20.json"))
    for reply in replies:
        with pytest.raises(UnsupportedEvent, match="the page's own"):
            normalise(client.comment_payload(reply, post, PAGE_ID))


def webhook_feed(value, page_id="104857600123456"):
    change = {"field": "feed", "value": value}
    return json.dumps(
        {"object": "page", "entry": [{"id": page_id, "time": 1, "changes": [change]}]}
    )


def test_a_webhook_comment_reply_names_its_parent_comment_then_its_post():
    payload = webhook_feed(
        {
            "item": "comment",
            "verb": "add",
            "post_id": "104857600123456_812039475610293",
            "comment_id": "812039475610293_922000000000042",
            "parent_id": "812039475610293_922000000000011",
            "from": {"id": "100059903244956", "name": "Ryan Coates"},
            "message": "Still waiting",
            "created_time": 1793627148,
        }
    ).encode()

    message = normalise(payload)

    assert message.in_reply_to == (
        "812039475610293_922000000000011",
        "104857600123456_812039475610293",
    )
    assert message.sent_at == datetime.fromtimestamp(1793627148, tz=UTC)
    # A webhook names the post but does not give its words.
    assert message.context == ""


@pytest.mark.parametrize(
    "post",
    [
        {"id": "104857600123456_1", "message": "Another post's text"},
        {"id": "104857600123456_812039475610293", "message": {"not": "text"}},
        {"id": "104857600123456_812039475610293"},
        "a post",
    ],
)
def test_a_post_without_usable_text_leaves_the_context_out_not_the_comment(post):
    value = {
        "item": "comment",
        "post_id": "104857600123456_812039475610293",
        "comment_id": "812039475610293_922000000000042",
        "from": {"id": "100059903244956", "name": "Ryan Coates"},
        "message": "Still waiting",
        "created_time": 1793627148,
        "post": post,
    }

    message = normalise(webhook_feed(value).encode())

    assert (message.text, message.context) == ("Still waiting", "")


def test_a_messenger_event_reads_as_a_direct_message_with_its_attachments():
    event = {
        "sender": {"id": "100066745989389", "name": "Bernadette Quinn"},
        "recipient": {"id": "104857600123456"},
        "timestamp": 1793627148000,
        "message": {
            "mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5",
            "text": "Hi, photo of the puddle attached. Order AH-21190-UK",
            "attachments": [
                {
                    "type": "image",
                    "payload": {"url": "https://scontent.example/v/1/image0.jpeg?x=1"},
                }
            ],
        },
    }
    payload = json.dumps(
        {"object": "page", "entry": [{"id": "104857600123456", "messaging": [event]}]}
    )

    message = normalise(payload.encode())

    assert message.channel == "facebook.message"
    assert message.author.external_id == "100066745989389"
    assert message.sent_at == datetime.fromtimestamp(1793627148, tz=UTC)
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("image0.jpeg", "image/jpeg")
    ]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"item": "reaction", "verb": "add", "post_id": "1_2"}, "is not a post or comment"),
        ({"item": "comment", "verb": "remove", "comment_id": "2_3", "post_id": "1_2"}, "verb"),
    ],
)
def test_feed_changes_other_than_new_posts_and_comments_are_unsupported(change, error):
    with pytest.raises(UnsupportedEvent, match=error):
        normalise(webhook_feed(change).encode())


def test_messenger_echoes_and_receipts_are_unsupported():
    echo = {"sender": {"id": "1"}, "message": {"mid": "m_1", "text": "hi", "is_echo": True}}
    read = {"sender": {"id": "2"}, "read": {"watermark": 1}}
    for event in (echo, read):
        body = {"object": "page", "entry": [{"id": "104857600123456", "messaging": [event]}]}
        with pytest.raises(UnsupportedEvent):
            normalise(json.dumps(body).encode())


def test_a_delivery_of_several_events_must_be_split_first():
    value = {"item": "status", "post_id": "1_2", "from": {"id": "3"}, "created_time": 1}
    body = json.loads(webhook_feed(value))
    body["entry"][0]["changes"] *= 2

    with pytest.raises(MalformedPayload, match="holds 2 events; split"):
        normalise(json.dumps(body).encode())


def test_a_comment_without_a_time_names_itself():
    value = {"item": "comment", "comment_id": "2_3", "post_id": "1_2", "from": {"id": "3"}}
    with pytest.raises(MalformedPayload, match="Comment 2_3: the time is missing"):
        normalise(webhook_feed(value).encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
anything = json_values | st.sampled_from(["", "1_2", "m_1", "comment", "post", "add", "feed"])
ids = st.one_of(st.text(max_size=30), st.integers(), st.sampled_from(["1_2", "m_x", "3"]))
author = st.fixed_dictionaries({"id": ids}, optional={"name": anything})
times = st.one_of(
    st.integers(), st.floats(), st.text(max_size=30), st.sampled_from(["2021-02-04T15:16:24+0000"])
)
feed_values = st.fixed_dictionaries(
    {"item": st.sampled_from(["post", "status", "comment", "like"]) | anything},
    optional={
        "verb": st.sampled_from(["add", "edited"]) | anything,
        "post_id": ids,
        "comment_id": ids,
        "parent_id": ids,
        "from": author | anything,
        "message": anything,
        "created_time": times,
    },
)
attachments = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "type": anything,
            "payload": st.fixed_dictionaries({}, optional={"url": st.text() | anything}),
            "name": anything,
            "mime_type": anything,
            "size": st.integers() | anything,
        },
    )
    | anything,
    max_size=3,
)
messaging_events = st.fixed_dictionaries(
    {"sender": author | anything},
    optional={
        "timestamp": times,
        "message": st.fixed_dictionaries(
            {"mid": ids},
            optional={
                "text": anything,
                "attachments": attachments,
                "is_echo": anything,
                "reply_to": anything,
            },
        )
        | anything,
    },
)
entries = st.fixed_dictionaries(
    {"id": ids},
    optional={
        "changes": st.lists(
            st.fixed_dictionaries({"field": st.just("feed") | anything, "value": feed_values}),
            max_size=2,
        ),
        "messaging": st.lists(messaging_events, max_size=2),
    },
)
page_bodies = st.fixed_dictionaries(
    {"object": st.just("page") | anything, "entry": st.lists(entries, min_size=1, max_size=2)}
)


def reads_or_refuses(raw):
    with contextlib.suppress(MalformedPayload, UnsupportedEvent):
        normalise(raw)


@given(st.binary())
def test_any_bytes_are_read_or_refused_with_a_payload_error(raw):
    reads_or_refuses(raw)


@given(json_values)
def test_any_json_is_read_or_refused_with_a_payload_error(value):
    reads_or_refuses(json.dumps(value).encode())


@given(page_bodies)
def test_any_page_webhook_shape_is_read_or_refused_with_a_payload_error(body):
    reads_or_refuses(json.dumps(body).encode())


def test_a_feed_item_that_is_not_a_word_is_refused_with_its_reason():
    body = {
        "object": "page",
        "entry": [{"id": 0, "changes": [{"field": "feed", "value": {"item": []}}]}],
    }

    with pytest.raises(UnsupportedEvent, match="is not a post or comment"):
        normalise(json.dumps(body).encode())
