import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from cases.models import Message
from channels.errors import FetchError, RateLimited
from channels.plug import OutboundReply
from channels.x import CHANNEL
from channels.x.client import DMS_CURSOR, MENTIONS_CURSOR
from demo.sandbox.state import Fault
from demo.sandbox.x_api import snowflake
from intake.models import QuarantinedPayload

from .conftest import poll_into_inbox, store_page

pytestmark = pytest.mark.django_db


def events(lines):
    return [json.loads(line) for line in lines]


def platform_id(event) -> str:
    """The id X gives a sample event in the sandbox."""
    return snowflake(datetime.fromisoformat(event["at"]), event["id"])


def inbox(account) -> dict[str, Message]:
    return {m.external_id: m for m in Message.objects.filter(channel_account=account)}


def assert_every_event_stored_once(account, x_events):
    stored = inbox(account)
    assert sorted(stored) == sorted(platform_id(e) for e in x_events)
    assert Message.objects.count() == len(x_events)
    assert not QuarantinedPayload.objects.exists()


def test_a_full_poll_ingests_every_x_event_once_and_a_second_poll_adds_nothing(
    sandbox, x_account, x_lines, demo_traffic_lines
):
    sandbox.state.load(demo_traffic_lines)
    x_events = events(x_lines)

    first = poll_into_inbox(x_account)
    x_account.refresh_from_db()
    again = poll_into_inbox(x_account)

    assert (first.stored, first.duplicates, first.quarantined) == (len(x_events), 0, [])
    assert (again.stored, again.duplicates, again.quarantined) == (0, 0, [])
    assert_every_event_stored_once(x_account, x_events)
    stored = inbox(x_account)
    for event in x_events:
        message = stored[platform_id(event)]
        assert (message.channel, message.text) == (event["channel"], event["text"])
        assert message.sent_at == datetime.fromisoformat(event["at"])
        assert message.author_identity.external_id == event["author"]["id"]
        assert message.author_identity.handle == event["author"]["handle"]
        assert message.author_identity.follower_count == event["author"]["followers"]
    newest_mention = max(int(platform_id(e)) for e in x_events if e["channel"] == "x.mention")
    newest_dm = max(int(platform_id(e)) for e in x_events if e["channel"] == "x.dm")
    assert x_account.poll_cursors == {
        MENTIONS_CURSOR: str(newest_mention),
        DMS_CURSOR: str(newest_dm),
    }


def test_a_reply_tweet_joins_the_thread_of_the_tweet_it_answers(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines)
    by_id = {e["id"]: e for e in events(some_x_lines)}

    poll_into_inbox(x_account)

    stored = inbox(x_account)
    follow_up = stored[platform_id(by_id["e10"])]  # Priya adds detail under her first tweet
    assert follow_up.parent == stored[platform_id(by_id["e9"])]
    assert follow_up.in_reply_to_external_id == platform_id(by_id["e9"])
    scam = stored[platform_id(by_id["e13"])]  # a fake help desk answers Priya
    assert scam.parent == stored[platform_id(by_id["e9"])]
    assert scam.case != follow_up.case


def test_many_small_pages_ingest_everything_once(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines)
    sandbox.state.page_size = 3

    pages = list(CHANNEL.poll(x_account))

    assert len(pages) >= 10
    assert all(len(page.payloads) <= 3 for page in pages)
    for page in pages:
        store_page(x_account, page)
    assert_every_event_stored_once(x_account, events(some_x_lines))


def test_only_the_last_page_of_each_stream_advances_its_cursor(
    sandbox, x_account, x_lines, demo_traffic_lines
):
    sandbox.state.load(demo_traffic_lines)
    sandbox.state.page_size = 10
    x_events = events(x_lines)
    mentions = [int(platform_id(e)) for e in x_events if e["channel"] == "x.mention"]
    dms = [int(platform_id(e)) for e in x_events if e["channel"] == "x.dm"]
    mention_pages, dm_pages = -(-len(mentions) // 10), -(-len(dms) // 10)

    cursors = [page.cursors for page in CHANNEL.poll(x_account)]

    after_mentions = {MENTIONS_CURSOR: str(max(mentions))}
    assert cursors == (
        [{}] * (mention_pages - 1)
        + [after_mentions] * dm_pages
        + [after_mentions | {DMS_CURSOR: str(max(dms))}]
    )


def test_a_poll_cut_short_reads_the_pages_it_did_not_finish_again(
    sandbox, x_account, some_x_lines
):
    sandbox.state.load(some_x_lines)
    sandbox.state.page_size = 4
    interrupted = CHANNEL.poll(x_account)
    for _ in range(2):
        store_page(x_account, next(interrupted))
    interrupted.close()  # the worker died here
    assert Message.objects.count() == 8
    assert x_account.poll_cursors == {}

    result = poll_into_inbox(x_account)

    assert (result.stored, result.duplicates) == (len(some_x_lines) - 8, 8)
    assert_every_event_stored_once(x_account, events(some_x_lines))


def test_new_events_after_a_poll_are_read_by_the_next(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines[:20])
    poll_into_inbox(x_account)
    x_account.refresh_from_db()

    sandbox.state.load(some_x_lines[20:])
    result = poll_into_inbox(x_account)

    assert result.stored == len(some_x_lines) - 20
    assert_every_event_stored_once(x_account, events(some_x_lines))


def test_rate_limit_raises_rate_limited_until_the_reset_x_gives(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines)
    sandbox.state.add_fault(Fault(platform="x", kind="rate_limit", seconds=120))
    before = datetime.now(UTC)

    with pytest.raises(RateLimited) as limited:
        poll_into_inbox(x_account)

    assert before + timedelta(seconds=120) <= limited.value.retry_at
    assert limited.value.retry_at <= datetime.now(UTC) + timedelta(seconds=122)
    assert Message.objects.count() == 0


@pytest.mark.parametrize("kind", ["server_error", "malformed"])
def test_an_outage_or_a_broken_answer_is_a_fetch_error_and_nothing_is_lost(
    sandbox, x_account, some_x_lines, kind
):
    sandbox.state.load(some_x_lines)
    sandbox.state.page_size = 4
    polling = CHANNEL.poll(x_account)
    store_page(x_account, next(polling))
    sandbox.state.add_fault(Fault(platform="x", kind=kind))

    with pytest.raises(FetchError) as failed:
        next(polling)

    assert not isinstance(failed.value, RateLimited)
    assert "@acme_care" in str(failed.value)
    poll_into_inbox(x_account)
    assert_every_event_stored_once(x_account, events(some_x_lines))


def test_a_slow_answer_times_out_as_a_fetch_error(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines)
    x_account.settings["timeout"] = 0.3
    sandbox.state.add_fault(Fault(platform="x", kind="timeout", seconds=1.0))
    started = time.monotonic()

    with pytest.raises(FetchError, match="Could not read GET /2/users/:id/mentions"):
        poll_into_inbox(x_account)

    assert time.monotonic() - started < 1.0
    poll_into_inbox(x_account)
    assert_every_event_stored_once(x_account, events(some_x_lines))


@pytest.mark.parametrize("kind", ["duplicate", "out_of_order"])
def test_repeated_or_shuffled_pages_lose_and_duplicate_nothing(
    sandbox, x_account, some_x_lines, kind
):
    sandbox.state.load(some_x_lines)
    sandbox.state.page_size = 4
    sandbox.state.add_fault(Fault(platform="x", kind=kind, count=100))

    poll_into_inbox(x_account)

    assert_every_event_stored_once(x_account, events(some_x_lines))
    x_account.refresh_from_db()
    assert poll_into_inbox(x_account).stored == 0


def test_the_brands_own_replies_are_skipped(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines)
    poll_into_inbox(x_account)
    x_account.refresh_from_db()
    stored = inbox(x_account)
    for channel in ("x.mention", "x.dm"):
        event = next(e for e in events(some_x_lines) if e["channel"] == channel)
        message = stored[platform_id(event)]
        reply = OutboundReply(
            message_id=message.pk,
            channel=channel,
            text="Sorry about this, we're on it ^JL",
            in_reply_to=message.external_id,
            recipient=message.author_identity.external_id,
        )
        CHANNEL.sender.send(x_account, reply)

    result = poll_into_inbox(x_account)

    assert (result.stored, result.duplicates, result.quarantined) == (0, 0, [])
    x_account.refresh_from_db()
    brand_dm = next(o for o in sandbox.state.sent("x") if o.kind == "x.dm")
    assert x_account.poll_cursors[DMS_CURSOR] == brand_dm.payload["id"]


def test_oauth1_user_context_credentials_poll_too(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines)
    x_account.credentials = {
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "access_token": "1590374211871531008-at",
        "access_token_secret": "ats",
    }

    poll_into_inbox(x_account)

    assert_every_event_stored_once(x_account, events(some_x_lines))


def test_without_a_user_id_setting_the_brand_is_asked_of_x(sandbox, x_account, some_x_lines):
    sandbox.state.load(some_x_lines)
    del x_account.settings["user_id"]

    poll_into_inbox(x_account)

    assert_every_event_stored_once(x_account, events(some_x_lines))
