import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.errors import MalformedPayload, UnsupportedEvent
from channels.x.client import dm_event_payload, tweet_payload
from channels.x.normaliser import normalise

from .conftest import peer_json

CUSTOMER = {
    "id": "1431560210127088587",
    "username": "priya_nat",
    "name": "Priya Natarajan",
    "public_metrics": {"followers_count": 412, "following_count": 200},
    "profile_image_url": "https://pbs.twimg.com/profile_images/1/priya_normal.jpg",
}


def tweet(**fields):
    return {
        "id": "2117183955401304007",
        "text": "@acme_care already cleaned the lint filter",
        "author_id": CUSTOMER["id"],
        "created_at": "2026-11-02T09:16:05.000Z",
        "conversation_id": "2117183955401304007",
        "edit_history_tweet_ids": ["2117183955401304007"],
    } | fields


def payload(item, users=(CUSTOMER,)):
    return json.dumps({"data": item, "includes": {"users": list(users)}}).encode()


def test_recorded_mentions_without_expansions_are_rejected_naming_the_missing_author():
    page = peer_json("test_client_get_users_mentions.json")
    payloads = [tweet_payload(t, page.get("includes", {})) for t in page["data"]]

    for raw, recorded in zip(payloads, page["data"], strict=True):
        with pytest.raises(MalformedPayload) as rejected:
            normalise(raw)
        assert str(rejected.value) == f"Tweet {recorded['id']} has no 'author_id'."


def test_recorded_mentions_with_the_fields_the_poller_asks_for_read_as_written():
    page = peer_json("test_client_get_users_mentions.json")
    users = peer_json("test_client_get_users.json")["data"]
    includes = {"users": users}
    for recorded in page["data"]:
        recorded |= {"author_id": users[1]["id"], "created_at": "2022-10-07T22:43:43.000Z"}

    messages = [normalise(tweet_payload(t, includes)) for t in page["data"]]

    assert [m.external_id for m in messages] == [t["id"] for t in page["data"]]
    assert [m.text for m in messages] == [t["text"] for t in page["data"]]
    assert "make 🤨 an available reaction emoji" in messages[5].text
    assert {m.author.handle for m in messages} == {"TwitterDev"}
    assert messages[0].sent_at == datetime(2022, 10, 7, 22, 43, 43, tzinfo=UTC)


def test_recorded_single_tweet_lookup_is_rejected_for_its_missing_author():
    with pytest.raises(MalformedPayload, match="Tweet 1293593516040269825 has no 'author_id'"):
        normalise(json.dumps(peer_json("test_client_get_tweet.json")).encode())


def test_recorded_dm_events_without_fields_are_rejected_naming_the_missing_sender():
    page = peer_json("test_manage_and_lookup_direct_messages.5.json")

    for event in page["data"]:
        with pytest.raises(MalformedPayload, match=f"DM event {event['id']} has no 'sender_id'"):
            normalise(dm_event_payload(event, {}))


def test_a_mention_reads_author_time_and_text():
    inbound = normalise(payload(tweet(text="@acme_care fish &amp; chips &lt;3")))

    assert inbound.channel == "x.mention"
    assert inbound.external_id == "2117183955401304007"
    assert inbound.text == "@acme_care fish & chips <3"
    assert inbound.sent_at == datetime(2026, 11, 2, 9, 16, 5, tzinfo=UTC)
    assert inbound.in_reply_to == ()
    author = inbound.author
    assert (author.external_id, author.handle, author.display_name) == (
        "1431560210127088587",
        "priya_nat",
        "Priya Natarajan",
    )
    assert author.follower_count == 412
    assert author.avatar_url == CUSTOMER["profile_image_url"]


def test_a_reply_names_the_tweet_it_answers_then_the_conversation_root():
    reply = tweet(
        referenced_tweets=[{"type": "replied_to", "id": "2117183095568729365"}],
        conversation_id="2117180000000000000",
        in_reply_to_user_id=CUSTOMER["id"],
    )

    assert normalise(payload(reply)).in_reply_to == ("2117183095568729365", "2117180000000000000")


def test_a_reply_to_the_conversation_root_names_it_once():
    reply = tweet(
        referenced_tweets=[{"type": "replied_to", "id": "2117183095568729365"}],
        conversation_id="2117183095568729365",
    )

    assert normalise(payload(reply)).in_reply_to == ("2117183095568729365",)


def test_a_quote_tweet_is_a_mention_without_thread():
    quote = tweet(referenced_tweets=[{"type": "quoted", "id": "2117183095568729365"}])

    assert normalise(payload(quote)).in_reply_to == ()


def test_a_retweet_is_not_a_message():
    retweet = tweet(referenced_tweets=[{"type": "retweeted", "id": "2117183095568729365"}])

    with pytest.raises(UnsupportedEvent, match="retweet of 2117183095568729365"):
        normalise(payload(retweet))


def test_a_direct_message_reads_as_x_dm():
    event = {
        "id": "2117300000000000001",
        "event_type": "MessageCreate",
        "text": "Order number is AH-20931-UK & I'm home all week",
        "sender_id": CUSTOMER["id"],
        "dm_conversation_id": "1431560210127088587-1590374211871531008",
        "created_at": "2026-11-02T10:05:41.000Z",
    }

    inbound = normalise(payload(event))

    assert inbound.channel == "x.dm"
    assert inbound.external_id == "2117300000000000001"
    assert inbound.text == "Order number is AH-20931-UK & I'm home all week"
    assert inbound.author.handle == "priya_nat"


def test_a_participant_joining_a_conversation_is_not_a_message():
    event = {"id": "2117300000000000002", "event_type": "ParticipantsJoin", "sender_id": "1"}

    with pytest.raises(UnsupportedEvent, match="'ParticipantsJoin' event"):
        normalise(payload(event))


def test_an_author_missing_from_the_includes_is_named():
    with pytest.raises(MalformedPayload) as rejected:
        normalise(payload(tweet(), users=[]))

    assert str(rejected.value) == (
        "Tweet 2117183955401304007 is from user 1431560210127088587, whose profile is not in "
        "the payload's includes.users."
    )


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"id": 2117183955401304007}, "'id' is 2117183955401304007, not an X id"),
        ({"created_at": "yesterday"}, "created_at 'yesterday' is not an ISO 8601 time"),
        ({"created_at": "2026-11-02T09:16:05"}, "has no time zone"),
        ({"text": None}, "has no 'text'"),
        ({"referenced_tweets": "e9"}, "'referenced_tweets' is not a list of objects"),
    ],
)
def test_a_broken_tweet_is_rejected_saying_what_is_wrong(fields, error):
    with pytest.raises(MalformedPayload, match=error):
        normalise(payload(tweet(**fields)))


def test_a_picture_link_that_is_not_https_is_left_out():
    user = CUSTOMER | {"profile_image_url": "javascript:alert(1)"}

    assert normalise(payload(tweet(), users=[user])).author.avatar_url == ""


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
# Payload-shaped JSON whose fields hold anything, so the checks past the first are reached.
SHAPED = st.fixed_dictionaries(
    {
        "data": st.fixed_dictionaries(
            {},
            optional={
                "id": st.sampled_from(["2117183955401304007", "", "x1"]) | JSON,
                "event_type": st.sampled_from(["MessageCreate", "ParticipantsLeave"]) | JSON,
                "text": st.text() | JSON,
                "author_id": st.just(CUSTOMER["id"]) | JSON,
                "sender_id": st.just(CUSTOMER["id"]) | JSON,
                "created_at": st.sampled_from(["2026-11-02T09:16:05.000Z", "2026-13-01"]) | JSON,
                "conversation_id": JSON,
                "referenced_tweets": st.lists(
                    st.fixed_dictionaries({"type": st.text() | JSON, "id": JSON})
                )
                | JSON,
                "attachments": JSON,
            },
        ),
        "includes": st.fixed_dictionaries(
            {},
            optional={
                "users": st.lists(
                    st.fixed_dictionaries(
                        {"id": st.just(CUSTOMER["id"]) | JSON},
                        optional={
                            "username": st.text() | JSON,
                            "name": st.text() | JSON,
                            "public_metrics": st.fixed_dictionaries(
                                {"followers_count": st.integers() | JSON}
                            )
                            | JSON,
                            "profile_image_url": st.text() | JSON,
                        },
                    )
                )
                | JSON
            },
        )
        | JSON,
    }
)


def reads_or_rejects(raw: bytes) -> None:
    with contextlib.suppress(MalformedPayload, UnsupportedEvent):
        normalise(raw)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary())
def test_any_bytes_are_read_or_rejected_as_malformed(raw):
    reads_or_rejects(raw)


@settings(max_examples=200, deadline=None)
@given(value=JSON | SHAPED)
def test_any_json_is_read_or_rejected_as_malformed_or_unsupported(value):
    reads_or_rejects(json.dumps(value).encode())
