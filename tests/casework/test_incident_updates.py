"""A supervisor's incident update, posted through the real clients to the platform sandbox:
one tweet and one page post, and a signed, personal reply on each linked case's channel; the
cases that join later after approval; and closing, which resolves the cases."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, Message, Survey
from casework.exceptions import ActionNotAllowed
from casework.incident_posts import publish_post
from casework.incident_updates import (
    close_incident,
    late_cases,
    post_update,
    send_latest_to_late,
)
from casework.tasks import post_incident_update_task
from channels.errors import TransientSendError
from channels.facebook import client as facebook_client
from channels.x.client import XApi
from demo.sandbox.state import Fault
from incidents.models import Incident, IncidentPost, IncidentReply, IncidentUpdate
from intake.polling import poll_account
from tests.incidents.world import latest, link

pytestmark = pytest.mark.django_db(transaction=True)  # posts and replies leave on commit

PUBLIC = "Some customers cannot pay by card right now. We are on it and will post again by 3pm."
TEMPLATE = "Hi {first_name}, card payments are failing for some customers; we are fixing it."
CLOSING_PUBLIC = "Card payments work again. Thank you for your patience today."
CLOSING = "Hi {first_name}, card payments work again. Sorry for the trouble."


def first_name(message):
    return message.case.customer.display_name.split()[0]


def update(incident, by, platform_accounts, **fields):
    return post_update(
        incident_id=incident.pk,
        by=by,
        public_text=fields.get("public_text", PUBLIC),
        reply_template=fields.get("reply_template", TEMPLATE),
        account_ids=[platform_accounts["x"].pk, platform_accounts["facebook"].pk],
    )


def test_an_update_posts_a_tweet_a_page_post_and_a_signed_personal_reply_on_each_channel(
    incident, supervisor, platform_accounts, sandbox
):
    result = update(incident, supervisor, platform_accounts)

    picked = incident.picked
    assert sorted(result.replied) == sorted(m.case_id for m in picked.values())
    tweets = [o.payload for o in sandbox.state.sent("x") if o.kind == "x.tweet"]
    [public] = [t for t in tweets if "referenced_tweets" not in t]
    assert public["text"] == PUBLIC
    [answer] = [t for t in tweets if "referenced_tweets" in t]
    mention = picked["x.mention"]
    assert answer["referenced_tweets"] == [{"type": "replied_to", "id": mention.external_id}]
    assert answer["text"] == f"{TEMPLATE.format(first_name=first_name(mention))} ^SO"
    [dm] = [o.payload for o in sandbox.state.sent("x") if o.kind == "x.dm"]
    assert dm["text"].startswith(f"Hi {first_name(picked['x.dm'])},")
    [page_post] = [o.payload for o in sandbox.state.sent("facebook")]
    assert page_post["message"] == PUBLIC
    [sent_mail] = sandbox.state.sent("email")
    assert f"Hi {first_name(picked['email'])}," in sent_mail.payload["data"]
    assert "Sam Ortiz" in sent_mail.payload["data"]

    # The posts are on the brand's X timeline and the page's feed, as the clients read them.
    x_api = XApi(platform_accounts["x"])
    timeline = x_api.client.get_users_tweets(x_api.brand_id(), user_auth=x_api.user_auth)
    assert public["id"] in [t["id"] for t in timeline["data"]]
    page = facebook_client.connect(platform_accounts["facebook"])
    feed = page.graph.get_connections(page.id, "feed", fields="id,message")
    assert {"id": page_post["id"], "message": PUBLIC} in feed["data"]

    posts = IncidentPost.objects.filter(update=result.update)
    assert {p.account.platform: (p.status, p.external_id) for p in posts} == {
        "x": ("posted", public["id"]),
        "facebook": ("posted", page_post["id"]),
    }
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.INCIDENT_UPDATE)
    assert sorted(e.case_id for e in events) == sorted(result.replied)
    assert all(e.actor == supervisor and e.data["incident"] == incident.pk for e in events)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.OPEN


def test_posting_the_same_update_twice_or_rerunning_its_task_posts_and_replies_once(
    incident, supervisor, platform_accounts, sandbox
):
    first = update(incident, supervisor, platform_accounts)
    second = update(incident, supervisor, platform_accounts)
    for post in IncidentPost.objects.all():
        post_incident_update_task.delay(post.pk)

    assert second.update == first.update and second.replied == []
    assert sorted(second.already) == sorted(first.replied)
    assert len(sandbox.state.sent("x")) == 3  # the tweet, the reply tweet, the DM
    assert len(sandbox.state.sent("facebook")) == 1
    assert len(sandbox.state.sent("email")) == 1
    assert IncidentReply.objects.count() == 3


def test_a_page_post_facebook_cannot_take_now_is_posted_once_on_the_retry(
    incident, supervisor, platform_accounts, sandbox
):
    sandbox.state.add_fault(Fault(platform="facebook", kind="server_error", count=1))

    update(incident, supervisor, platform_accounts)

    post = IncidentPost.objects.get(account=platform_accounts["facebook"])
    assert post.status == "queued" and "HTTP 500" in post.error
    assert sandbox.state.sent("facebook") == []

    post_incident_update_task.delay(post.pk)  # Celery's retry
    post_incident_update_task.delay(post.pk)  # a redelivery of it

    post.refresh_from_db()
    assert post.status == "posted" and post.attempts == 2 and post.error == ""
    assert [o.kind for o in sandbox.state.sent("facebook")] == ["facebook.page_post"]


def test_posting_the_same_update_again_retries_a_post_that_waits_and_nothing_else(
    incident, supervisor, platform_accounts, sandbox
):
    sandbox.state.add_fault(Fault(platform="facebook", kind="server_error", count=1))
    update(
        incident, supervisor, platform_accounts
    )  # the page post waits for a retry the broker lost
    assert IncidentPost.objects.get(account=platform_accounts["facebook"]).status == "queued"

    update(incident, supervisor, platform_accounts)

    assert [o.kind for o in sandbox.state.sent("facebook")] == ["facebook.page_post"]
    assert len(sandbox.state.sent("x")) == 3
    assert set(IncidentPost.objects.values_list("status", flat=True)) == {"posted"}


def x_event(event_id, text, *, author, at):
    return json.dumps(
        {
            "id": event_id,
            "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channel": "x.mention",
            "author": author,
            "text": text,
        }
    )


def poll_x(sandbox, account, *lines):
    sandbox.state.load(lines)
    result = poll_account(account=account, force=True)
    assert not result.failed, result.error
    assert result.stored == 1
    return Message.objects.filter(direction="inbound", channel="x.mention").latest("pk")


LATE_CUSTOMER = {"id": "918273645", "handle": "ritaops", "name": "Rita Okafor", "followers": 3}


def test_a_case_that_joins_later_gets_the_latest_update_only_after_approval(
    incident, supervisor, platform_accounts, sandbox
):
    update(incident, supervisor, platform_accounts)
    joined = poll_x(
        sandbox,
        platform_accounts["x"],
        x_event(
            "late-1",
            "@acme_care my card keeps getting declined at checkout",
            author=LATE_CUSTOMER,
            at=datetime.now(UTC) + timedelta(seconds=5),
        ),
    )
    link(incident, joined)
    replies_before = len(sandbox.state.sent("x"))

    assert [c.pk for c in late_cases(incident)] == [joined.case_id]
    assert len(sandbox.state.sent("x")) == replies_before

    result = send_latest_to_late(incident_id=incident.pk, by=supervisor)

    assert result.replied == [joined.case_id]
    answering = {"type": "replied_to", "id": joined.external_id}
    [reply] = [
        o.payload
        for o in sandbox.state.sent("x")
        if answering in o.payload.get("referenced_tweets", ())
    ]
    assert reply["text"].startswith("Hi Rita,")
    assert late_cases(incident) == []


def test_closing_posts_the_closing_update_resolves_the_cases_and_keeps_open_one_who_wrote_since(
    incident, supervisor, platform_accounts, sandbox
):
    update(incident, supervisor, platform_accounts)
    mention = incident.picked["x.mention"]
    author = {
        "id": mention.author_identity.external_id,
        "handle": mention.author_identity.handle or "someone",
        "name": mention.case.customer.display_name,
    }
    follow_up = poll_x(
        sandbox,
        platform_accounts["x"],
        x_event(
            "since-1",
            "@acme_care and will I be charged twice for the failed payment?",
            author=author,
            at=datetime.now(UTC) + timedelta(seconds=5),
        ),
    )
    assert follow_up.case_id == mention.case_id

    result = close_incident(
        incident_id=incident.pk,
        by=supervisor,
        public_text=CLOSING_PUBLIC,
        reply_template=CLOSING,
        account_ids=[platform_accounts["x"].pk, platform_accounts["facebook"].pk],
    )

    others = {incident.picked["x.dm"].case_id, incident.picked["email"].case_id}
    assert set(result.resolved) == others and result.kept_open == [mention.case_id]
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert {statuses[pk] for pk in others} == {"resolved"}
    assert statuses[mention.case_id] != "resolved"
    resolved = CaseEvent.objects.filter(kind=CaseEvent.Kind.STATUS_CHANGED, case__in=others)
    assert {e.data["reason"] for e in resolved} == {"incident closed"}
    tweets = [o.payload["text"] for o in sandbox.state.sent("x") if o.kind == "x.tweet"]
    assert CLOSING_PUBLIC in tweets
    assert [o.payload["message"] for o in sandbox.state.sent("facebook")] == [
        PUBLIC,
        CLOSING_PUBLIC,
    ]
    assert len(sandbox.state.sent("email")) == 2
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert not Survey.objects.exists()  # unless the supervisor asks for surveys


def test_closing_with_surveys_asks_the_resolved_cases_customers_privately(
    incident, supervisor, platform_accounts, sandbox
):
    update(incident, supervisor, platform_accounts)

    result = close_incident(
        incident_id=incident.pk,
        by=supervisor,
        public_text=CLOSING_PUBLIC,
        reply_template=CLOSING,
        account_ids=[platform_accounts["x"].pk, platform_accounts["facebook"].pk],
        surveys=True,
    )

    surveyed = dict(Survey.objects.values_list("case_id", "channel"))
    assert set(surveyed) == set(result.resolved)
    assert set(surveyed.values()) <= {"x.dm", "email", "facebook.message"}
    assert surveyed[incident.picked["x.mention"].case_id] == "x.dm"  # never a public reply
    asked = [o.payload["text"] for o in sandbox.state.sent("x") if o.kind == "x.dm"]
    assert sum("How did we do?" in text for text in asked) == 2  # the DM's and the mention's
    assert not any(
        "How did we do?" in o.payload.get("text", "")
        for o in sandbox.state.sent("x")
        if o.kind == "x.tweet"
    )


def test_a_messenger_case_past_its_window_is_listed_and_the_others_are_answered(
    incident, supervisor, platform_accounts, sandbox
):
    stale = latest("facebook.message")
    Message.objects.filter(case=stale.case).update(sent_at=timezone.now() - timedelta(days=9))
    link(incident, stale)

    result = update(incident, supervisor, platform_accounts)

    assert "7-day window for human agents closed" in result.refused[stale.case_id]
    assert len(result.replied) == 3
    assert [c.pk for c in late_cases(incident)] == [stale.case_id]  # for the next approval
    assert [o.kind for o in sandbox.state.sent("facebook")] == ["facebook.page_post"]


def test_an_agent_may_not_post_an_update(incident, agent, platform_accounts, sandbox):
    with pytest.raises(ActionNotAllowed, match="may not post incident updates"):
        update(incident, agent, platform_accounts)

    assert sandbox.state.sent() == []


@pytest.mark.parametrize("platform", ["x", "facebook"])
def test_a_post_whose_answer_was_lost_is_found_on_the_retry_not_posted_twice(
    platform_accounts, supervisor, sandbox, platform
):
    account = platform_accounts[platform]
    account.settings = {**account.settings, "timeout": 1}
    account.save()
    now = timezone.now()
    incident = Incident.objects.create(
        title="Outage", created_at=now, first_message_at=now, last_message_at=now
    )
    update = IncidentUpdate.objects.create(
        incident=incident,
        public_text=PUBLIC,
        reply_template=TEMPLATE,
        author=supervisor,
        created_at=now,
    )
    post = IncidentPost.objects.create(update=update, account=account)
    # The platform takes the post, but its answer comes after the client gave up.
    sandbox.state.add_fault(Fault(platform=platform, kind="lost_answer", seconds=2))

    with pytest.raises(TransientSendError):
        publish_post(post_id=post.pk)
    post.refresh_from_db()
    assert post.status == "queued" and post.error
    assert len(sandbox.state.sent(platform)) == 1  # the platform took it all the same

    publish_post(post_id=post.pk)  # the task's retry

    [made] = sandbox.state.sent(platform)
    post.refresh_from_db()
    assert (post.status, post.external_id, post.attempts) == ("posted", made.payload["id"], 2)
