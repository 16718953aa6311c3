import json
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from cases.models import Message
from channels.errors import FetchError, RateLimited
from channels.facebook import client
from demo.sandbox.graph_api import PAGE_ACCESS_TOKEN, PAGE_ID
from demo.sandbox.state import Fault
from intake.models import QuarantinedPayload
from intake.polling import poll_account
from intake.services import ingest_payloads
from tests.conftest import client_for
from tests.sandbox_events import event

pytestmark = pytest.mark.django_db


def facebook_events(lines):
    events = [json.loads(line) for line in lines]
    return [e for e in events if e["channel"].startswith("facebook.")]


@pytest.fixture
def traffic(sandbox, demo_traffic_lines):
    """The sample traffic's Facebook events, loaded into the sandbox with the rest."""
    sandbox.state.load(demo_traffic_lines)
    return facebook_events(demo_traffic_lines)


@pytest.fixture
def first_day(sandbox, demo_traffic_lines):
    """The sample's first 40 Facebook events (posts, comments and their replies, Messenger
    with an attachment): enough for paging and faults, quicker to ingest than the week."""
    events = facebook_events(demo_traffic_lines)[:40]
    sandbox.state.load(json.dumps(e) for e in events)
    return events


def stored(account):
    return Message.objects.filter(channel_account=account).select_related("author_identity")


def as_sent(messages):
    return Counter((m.channel, m.author_identity.external_id, m.text) for m in messages)


def as_events(events):
    return Counter((e["channel"], e["author"]["id"], e["text"]) for e in events)


def test_a_full_poll_stores_every_facebook_event_once_and_a_second_poll_adds_nothing(
    account, traffic
):
    first = poll_account(account=account, force=True)

    assert not first.failed
    assert as_sent(stored(account)) == as_events(traffic)
    assert stored(account).count() == len(traffic) == 170
    assert not QuarantinedPayload.objects.exists()
    account.refresh_from_db()
    assert set(account.poll_cursors) == {"feed_since", "messages_since"}

    second = poll_account(account=account, force=True)

    assert (second.failed, second.stored, second.quarantined) == (False, 0, 0)
    assert stored(account).count() == 170


def test_polled_comments_keep_their_thread_and_messages_their_attachments(account, first_day):
    poll_account(account=account, force=True)
    by_event = {
        e["id"]: stored(account).get(
            author_identity__external_id=e["author"]["id"], text=e["text"]
        )
        for e in first_day
        if e["id"] in {"e11", "e17", "e33", "e38", "e34", "e40"}
    }

    # A bystander's comment under a visitor post answers that post.
    assert by_event["e38"].parent == by_event["e33"]
    # A reply to a comment under the brand's post names the comment, then the post.
    assert by_event["e40"].parent == by_event["e34"]
    assert by_event["e40"].in_reply_to_external_id == by_event["e34"].external_id
    # A comment under the brand's own post points at that post, which is not a case message.
    assert by_event["e11"].in_reply_to_external_id == "104857600123456_812039475610293"
    assert by_event["e11"].parent is None
    photo = by_event["e17"]
    assert (photo.channel, photo.external_id[:2]) == ("facebook.message", "m_")
    assert [(a.filename, a.content_type, a.size) for a in photo.attachments.all()] == [
        ("image0.jpeg", "image/jpeg", 1288410)
    ]


def test_small_pages_are_all_followed_and_each_item_is_read_once(account, first_day, sandbox):
    sandbox.state.page_size = 2

    pages = list(client.poll(account))
    payloads = [p for page in pages for p in page.payloads]

    assert len(pages) >= 10
    assert len(payloads) == len(set(payloads)) == len(first_day)
    # Graph lists newest first: only the last page of each stream advances its cursor.
    assert [list(page.cursors) for page in pages if page.cursors] == [
        ["feed_since"],
        ["messages_since"],
    ]
    poll_account(account=account, force=True)
    assert as_sent(stored(account)) == as_events(first_day)


def test_a_poll_that_dies_half_way_reads_the_rest_next_time(account, first_day, sandbox):
    sandbox.state.page_size = 5
    pages = client.poll(account)
    first = next(pages)
    ingest_payloads(source="facebook", payloads=first.payloads, accounts={"facebook": account})
    account.poll_cursors |= first.cursors
    account.save()
    sandbox.state.add_fault(Fault("facebook", "server_error"))

    with pytest.raises(FetchError):
        next(pages)

    poll_account(account=account, force=True)
    assert as_sent(stored(account)) == as_events(first_day)
    assert stored(account).count() == len(first_day)


def test_new_items_after_a_poll_are_read_by_the_next_one(account, sandbox):
    sandbox.state.load([event("n1", "facebook.post", "Is the Leeds store open on Sunday?")])
    poll_account(account=account, force=True)
    sandbox.state.load(
        [
            event("n2", "facebook.comment", "Anyone?", ago=timedelta(minutes=30), reply_to="n1"),
            event("n3", "facebook.message", "Hello?", ago=timedelta(minutes=20)),
        ]
    )

    result = poll_account(account=account, force=True)

    assert result.stored == 2
    assert sorted(stored(account).values_list("text", flat=True)) == [
        "Anyone?",
        "Hello?",
        "Is the Leeds store open on Sunday?",
    ]


def test_a_polled_comment_shows_the_post_it_was_written_under_on_its_case_page(
    account, sandbox, agent
):
    post = (
        "Is the Leeds store open on Sunday? Asking for the whole street, since the <b>sign</b> "
        "on the door says one thing and the website another, and we would rather not walk there."
    )
    ryan = {"id": "100059903244956", "name": "Ryan Coates"}
    sandbox.state.load(
        [
            event("n1", "facebook.post", post),
            event("n2", "facebook.comment", "Same question!", author=ryan, reply_to="n1"),
        ]
    )
    poll_account(account=account, force=True)
    comment = stored(account).get(channel="facebook.comment")
    assert comment.context == post

    response = client_for(agent).get(
        reverse("workspace:case-detail", kwargs={"case_id": comment.case_id})
    )

    html = response.content.decode()
    start = html.index('data-testid="context"')
    context = html[start : html.index("</blockquote>", start)]
    # Shortened, the whole behind a fold, and escaped.
    assert "On the page&#x27;s post:</span> Is the Leeds store open on Sunday? Asking" in context
    assert "and we would rather not walk there." in context
    assert "<details" in context and "&lt;b&gt;sign&lt;/b&gt;" in context
    assert "<b>sign" not in context
    # Above the comment.
    assert html.index('<div class="entry-body">Same question!') > start


def test_a_throttled_poll_waits_until_graph_says(account, first_day, sandbox):
    sandbox.state.add_fault(Fault("facebook", "rate_limit", seconds=150))

    with pytest.raises(RateLimited) as raised:
        list(client.poll(account))

    expected = timezone.now() + timedelta(minutes=3)  # Graph counts whole minutes
    assert abs(raised.value.retry_at - expected) < timedelta(seconds=5)
    assert "(#32) Page request limit reached" in str(raised.value)


def test_the_poll_of_a_throttled_account_backs_off_until_graphs_reset_time(account, sandbox):
    sandbox.state.add_fault(Fault("facebook", "rate_limit", seconds=600))

    result = poll_account(account=account, force=True)

    account.refresh_from_db()
    assert result.failed
    assert "throttled" in account.last_error
    assert account.backoff_until - timezone.now() > timedelta(minutes=9)


@pytest.mark.parametrize("kind", ["server_error", "malformed", "timeout"])
def test_failures_that_may_pass_stop_the_poll_with_a_fetch_error(
    account, first_day, sandbox, kind
):
    account.settings["timeout"] = 0.3
    account.save()
    sandbox.state.add_fault(Fault("facebook", kind, seconds=1.0))

    with pytest.raises(FetchError) as raised:
        list(client.poll(account))

    assert not isinstance(raised.value, RateLimited)
    assert f"/{PAGE_ID}/feed" in str(raised.value)


def test_a_refused_token_stops_the_poll_with_graphs_reason(account, first_day):
    account.credentials["page_access_token"] = "expired"
    account.save()

    with pytest.raises(FetchError, match="Invalid OAuth access token"):
        list(client.poll(account))


@pytest.mark.parametrize("kind", ["duplicate", "out_of_order"])
def test_repeated_or_reordered_pages_lose_and_double_nothing(account, first_day, sandbox, kind):
    sandbox.state.page_size = 3
    sandbox.state.add_fault(Fault("facebook", kind, count=1000))

    poll_account(account=account, force=True)
    sandbox.state.faults.clear()
    poll_account(account=account, force=True)

    assert stored(account).count() == len(first_day)
    assert as_sent(stored(account)) == as_events(first_day)


def test_the_sandbox_answers_graph_field_errors_as_graph_does(account, sandbox):
    answer = requests.get(
        f"{sandbox.url}/v25.0/{PAGE_ID}",
        params={"fields": "first_name", "access_token": PAGE_ACCESS_TOKEN},
        timeout=5,
    )

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (
        error["message"]
        == "(#100) Tried accessing nonexisting field (first_name) on node type (Page)"
    )
    assert (error["type"], error["code"]) == ("OAuthException", 100)
