from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from cases.models import Case
from cases.selectors import case_events
from casework.exceptions import MergeNotAllowed
from casework.merge import merge_customers
from customers.models import Customer, Identity
from tests.factories import T0, AuthorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tweeter_and_mailer(ingest):
    """Gwen tweets at 09:00 and 11:00, then emails at 10:00 as a seemingly new customer."""
    gwen_x = AuthorFactory(external_id="555", handle="gwen_h", display_name="Gwen H")
    gwen_mail = AuthorFactory(external_id="gwen@example.org", handle="", display_name="Gwen Hart")
    tweet = ingest(author=gwen_x, sent_at=T0, text="Order AH-1 never arrived").message
    email = ingest(
        author=gwen_mail,
        channel="email",
        sent_at=T0 + timedelta(hours=1),
        subject="Missing order",
    ).message
    later = ingest(author=gwen_x, sent_at=T0 + timedelta(hours=2), text="Any news?").message
    return tweet, email, later


def test_merge_folds_active_cases_into_one_timeline_in_time_order(tweeter_and_mailer):
    tweet, email, later = tweeter_and_mailer
    supervisor = get_user_model().objects.create_user("sam")
    target, source = tweet.case.customer, email.case.customer

    merge_customers(source=source, target=target, actor=supervisor, reason="Same order number")

    case = Case.objects.get(pk=tweet.case_id)
    assert [m.external_id for m in case.messages.order_by("sent_at")] == [
        tweet.external_id,
        email.external_id,
        later.external_id,
    ]
    assert case.opened_at == T0 and case.last_inbound_at == T0 + timedelta(hours=2)
    timeline = case_events(case)
    assert [e.occurred_at for e in timeline] == sorted(e.occurred_at for e in timeline)
    received = [e.message.external_id for e in timeline if e.kind == "message_received"]
    assert received == [tweet.external_id, email.external_id, later.external_id]
    merge_event = next(e for e in timeline if e.kind == "customers_merged")
    assert merge_event.actor == supervisor
    assert merge_event.data["reason"] == "Same order number"


def test_merge_leaves_a_tombstone_and_moves_identities(tweeter_and_mailer):
    tweet, email, _ = tweeter_and_mailer
    target, source = tweet.case.customer, email.case.customer

    merge_customers(source=source, target=target)

    source.refresh_from_db()
    assert source.merged_into == target
    assert set(Identity.objects.filter(customer=target).values_list("platform", flat=True)) == {
        "x",
        "email",
    }
    folded = Case.objects.get(pk=email.case_id)
    assert folded.status == Case.Status.CLOSED
    assert folded.merged_into_id == tweet.case_id
    assert folded.customer == target
    assert folded.events.filter(kind="customers_merged").exists()
    assert Customer.objects.count() == 2  # nothing deleted


def test_messages_after_a_merge_join_the_merged_case(ingest, tweeter_and_mailer):
    tweet, email, _ = tweeter_and_mailer
    merge_customers(source=email.case.customer, target=tweet.case.customer)

    reply = ingest(
        author=AuthorFactory(external_id="gwen@example.org"),
        channel="email",
        in_reply_to=(email.external_id,),
    ).message

    assert reply.case_id == tweet.case_id


def test_merged_case_is_as_urgent_and_live_as_either(tweeter_and_mailer):
    tweet, email, _ = tweeter_and_mailer
    Case.objects.filter(pk=email.case_id).update(status="open", priority="urgent")

    merge_customers(source=email.case.customer, target=tweet.case.customer)

    case = Case.objects.get(pk=tweet.case_id)
    assert (case.status, case.priority) == ("open", "urgent")


def test_merging_a_customer_already_merged_away_is_refused(tweeter_and_mailer):
    tweet, email, _ = tweeter_and_mailer
    source, target = email.case.customer, tweet.case.customer
    merge_customers(source=source, target=target)

    with pytest.raises(MergeNotAllowed, match=f"already merged into customer {target.pk}"):
        merge_customers(source=source, target=target)
    with pytest.raises(MergeNotAllowed, match="into itself"):
        merge_customers(source=target, target=target)
