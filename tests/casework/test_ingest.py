from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, CaseEvent, Message
from casework.ingest import ingest_batch
from channels.inbound import InboundAttachment
from customers.models import Customer, Identity
from tests.factories import T0, AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db


def resolve(case, *, at):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.RESOLVED, resolved_at=at)


def test_first_message_creates_customer_identity_and_case(ingest):
    author = AuthorFactory(external_id="431221750", handle="neilcarver", display_name="Neil C")
    result = ingest(InboundFactory(author=author, text="HomeHub flashing orange"))

    case = result.message.case
    assert not result.duplicate
    assert case.status == Case.Status.NEW
    assert case.customer.display_name == "Neil C"
    assert case.subject == "HomeHub flashing orange"
    assert case.first_inbound_at == case.last_inbound_at == result.message.sent_at
    identity = Identity.objects.get()
    assert (identity.platform, identity.external_id, identity.handle) == (
        "x",
        "431221750",
        "neilcarver",
    )
    assert [e.kind for e in case.events.order_by("pk")] == ["created", "message_received"]


def test_a_new_customer_is_a_customer_since_their_first_message(ingest):
    days_ago = timezone.now() - timedelta(days=3)
    author = AuthorFactory()
    ingest(InboundFactory(author=author, sent_at=days_ago))
    ingest(InboundFactory(author=author, sent_at=days_ago + timedelta(hours=1)))

    customer = Customer.objects.get()
    assert customer.created_at == days_ago


def test_a_customer_is_never_since_the_future(ingest):
    now = timezone.now()

    ingest(InboundFactory(sent_at=now + timedelta(days=1)))

    assert now <= Customer.objects.get().created_at < now + timedelta(minutes=1)


def test_every_message_of_a_customer_lands_in_their_one_active_case(ingest):
    author = AuthorFactory()
    first = ingest(InboundFactory(author=author, channel="x.mention"))
    second = ingest(InboundFactory(author=author, channel="x.dm"))

    assert first.message.case_id == second.message.case_id
    assert Case.objects.count() == 1


def test_duplicate_delivery_stores_one_message(ingest):
    inbound = InboundFactory()
    first = ingest(inbound)
    again = ingest(inbound)

    assert again.duplicate
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert CaseEvent.objects.filter(kind="message_received").count() == 1


def test_database_refuses_a_second_active_case_for_a_customer(ingest):
    case = ingest(InboundFactory()).message.case
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(customer=case.customer, opened_at=T0)


def test_new_message_on_pending_case_makes_it_open_again(ingest):
    author = AuthorFactory()
    case = ingest(InboundFactory(author=author)).message.case
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PENDING)

    ingest(InboundFactory(author=author))

    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
    change = case.events.get(kind="status_changed")
    assert (change.data["from"], change.data["to"]) == ("pending", "open")


def test_message_within_reopen_window_reopens_resolved_case(ingest, settings):
    settings.CAREINBOX_REOPEN_WINDOW = timedelta(days=7)
    author = AuthorFactory()
    case = ingest(InboundFactory(author=author, sent_at=T0)).message.case
    resolve(case, at=T0 + timedelta(hours=1))

    later = ingest(InboundFactory(author=author, sent_at=T0 + timedelta(days=6)))

    assert later.message.case_id == case.pk
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
    assert case.resolved_at is None


def test_message_after_reopen_window_starts_new_case_and_keeps_old_one(ingest, settings):
    settings.CAREINBOX_REOPEN_WINDOW = timedelta(days=7)
    author = AuthorFactory()
    old = ingest(InboundFactory(author=author, sent_at=T0)).message.case
    resolve(old, at=T0 + timedelta(hours=1))

    later = ingest(InboundFactory(author=author, sent_at=T0 + timedelta(days=9)))

    old.refresh_from_db()
    assert later.message.case_id != old.pk
    assert old.status == Case.Status.CLOSED
    assert later.message.case.customer_id == old.customer_id
    assert list(old.customer.cases.order_by("pk")) == [old, later.message.case]


def test_reply_in_thread_of_resolved_case_reopens_it_after_the_window(ingest, settings):
    settings.CAREINBOX_REOPEN_WINDOW = timedelta(days=7)
    author = AuthorFactory()
    first = ingest(InboundFactory(author=author, sent_at=T0)).message
    resolve(first.case, at=T0 + timedelta(hours=1))

    reply = ingest(
        InboundFactory(
            author=author, sent_at=T0 + timedelta(days=20), in_reply_to=(first.external_id,)
        ),
    ).message

    assert reply.case_id == first.case_id
    assert reply.parent == first
    assert Case.objects.get(pk=first.case_id).status == Case.Status.OPEN


def test_closed_case_is_never_reopened_a_reply_starts_a_new_case(ingest):
    author = AuthorFactory()
    first = ingest(InboundFactory(author=author)).message
    Case.objects.filter(pk=first.case_id).update(
        status=Case.Status.CLOSED, closed_at=timezone.now()
    )

    reply = ingest(InboundFactory(author=author, in_reply_to=(first.external_id,))).message

    assert reply.case_id != first.case_id
    assert reply.parent == first  # the thread is kept for context
    assert Case.objects.get(pk=first.case_id).status == Case.Status.CLOSED


def test_bystander_reply_goes_to_the_bystanders_own_case_with_the_reference(ingest):
    complaint = ingest(InboundFactory(author=AuthorFactory())).message
    bystander = AuthorFactory(handle="acme_care_help")  # e.g. a bot impersonating the brand

    reply = ingest(InboundFactory(author=bystander, in_reply_to=(complaint.external_id,))).message

    assert reply.case_id != complaint.case_id
    assert reply.case.customer.identities.get().handle == "acme_care_help"
    assert reply.parent == complaint
    assert reply.in_reply_to_external_id == complaint.external_id
    assert complaint.case.messages.count() == 1


def test_reply_to_a_message_not_yet_seen_keeps_its_reference(ingest):
    reply = ingest(InboundFactory(in_reply_to=("not-yet-polled",))).message

    assert reply.parent is None
    assert reply.in_reply_to_external_id == "not-yet-polled"


def test_out_of_order_message_moves_case_start_and_subject_earlier(ingest):
    author = AuthorFactory()
    late = InboundFactory(author=author, sent_at=T0 + timedelta(hours=2), text="Still broken")
    early = InboundFactory(author=author, sent_at=T0, text="Router is down")
    ingest(late)
    case = ingest(early).message.case

    case.refresh_from_db()
    assert case.opened_at == case.first_inbound_at == T0
    assert case.last_inbound_at == T0 + timedelta(hours=2)
    assert case.subject == "Router is down"


def test_identity_shows_the_profile_of_its_newest_message(ingest):
    new = AuthorFactory(external_id="42", handle="new_handle", follower_count=500)
    old = AuthorFactory(external_id="42", handle="old_handle", follower_count=5)
    ingest(InboundFactory(author=new, sent_at=T0 + timedelta(days=1)))
    ingest(InboundFactory(author=old, sent_at=T0))

    identity = Identity.objects.get(external_id="42")
    assert (identity.handle, identity.follower_count) == ("new_handle", 500)
    assert Customer.objects.count() == 1


def test_a_customer_named_after_their_identity_takes_its_new_name_and_only_then(ingest):
    author = AuthorFactory(external_id="42", handle="neilc", display_name="Neil C")
    ingest(InboundFactory(author=author, sent_at=T0))

    with CaptureQueriesContext(connection) as same_name:
        ingest(InboundFactory(author=author, sent_at=T0 + timedelta(hours=1)))
    renamed = AuthorFactory(external_id="42", handle="neilc", display_name="Neil Carver")
    ingest(InboundFactory(author=renamed, sent_at=T0 + timedelta(hours=2)))

    # The customer row is written when the name changes, not with every message.
    customer_writes = [q for q in same_name if q["sql"].startswith('UPDATE "tickets_customer"')]
    assert customer_writes == []
    assert Customer.objects.get().display_name == "Neil Carver"


def test_customer_html_is_sanitised_and_raw_payload_kept(ingest):
    hostile = (
        '<p onclick="steal()">Hi<script>alert(1)</script>'
        '<a href="javascript:alert(2)">click</a><img src="https://tracker.example/p.gif"></p>'
    )
    message = ingest(
        InboundFactory(channel="email", html=hostile, raw=b"original bytes"),
    ).message

    assert "script" not in message.html
    assert "onclick" not in message.html
    assert "javascript:" not in message.html
    assert "tracker.example" not in message.html
    assert "Hi" in message.html
    assert bytes(message.raw_payload) == b"original bytes"


def test_attachments_over_the_limit_are_recorded_but_not_stored(ingest, settings):
    settings.CAREINBOX_ATTACHMENT_MAX_BYTES = 10
    message = ingest(
        InboundFactory(
            channel="facebook.message",
            attachments=(
                InboundAttachment("small.txt", "text/plain", 5, b"hello"),
                InboundAttachment("big.jpg", "image/jpeg", 11, b"x" * 11),
            ),
        ),
    ).message

    small, big = message.attachments.order_by("-filename")
    assert bytes(small.content) == b"hello"
    assert big.size == 11 and bytes(big.content) == b""
    assert "limit" in big.skipped_reason


def test_history_events_cannot_be_changed_or_deleted(ingest):
    event = ingest(InboundFactory()).message.case.events.first()
    event.data = {"tampered": True}
    with pytest.raises(ValueError, match="cannot be changed"):
        event.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        event.delete()


def test_a_reply_stored_before_its_parent_is_linked_when_the_parent_arrives(ingest):
    author = AuthorFactory()
    parent = InboundFactory(author=author, sent_at=T0)
    reply = ingest(InboundFactory(author=author, in_reply_to=(parent.external_id,)))

    stored_parent = ingest(parent).message

    reply.message.refresh_from_db()
    assert reply.message.parent == stored_parent
    assert reply.message.case_id == stored_parent.case_id


@pytest.mark.postgres
def test_a_large_batch_finds_the_replies_waiting_for_it_by_their_index(accounts):
    """Every batch looks for replies stored before the messages it brings. With the batch's
    message ids listed in full, that look-up must still read only the waiting replies: a
    scan of every message of the account grows with the table, batch after batch."""
    batch = [(accounts["x"], InboundFactory()) for _ in range(150)]

    with CaptureQueriesContext(connection) as captured:
        ingest_batch(arrivals=batch)

    adopts = 'UPDATE "tickets_message" SET "parent_id"'
    [adopting] = [q["sql"] for q in captured if q["sql"].startswith(adopts)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {adopting}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "message_orphan_replies on tickets_message" in plan, plan


def test_an_auto_reply_joins_the_case_without_reopening_it_or_moving_its_clocks(ingest):
    author = AuthorFactory(external_id="gwen@example.org")
    case = ingest(InboundFactory(author=author, channel="email", sent_at=T0)).message.case
    resolve(case, at=T0 + timedelta(hours=1))

    auto = ingest(
        InboundFactory(
            author=author,
            channel="email",
            sent_at=T0 + timedelta(hours=2),
            subject="Out of office",
            automated="auto-reply",
        ),
    ).message

    case.refresh_from_db()
    assert auto.case_id == case.pk and auto.automated == "auto-reply"
    assert case.status == Case.Status.RESOLVED
    assert case.last_inbound_at == T0
    assert not case.events.filter(kind="status_changed").exists()
    assert case.events.get(message=auto).data["automated"] == "auto-reply"


def test_a_bounce_never_opens_a_new_case_for_a_customer_with_a_closed_one(ingest):
    author = AuthorFactory(external_id="gwen@example.org")
    case = ingest(InboundFactory(author=author, channel="email")).message.case
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)

    bounce = ingest(InboundFactory(author=author, channel="email", automated="bounce")).message

    assert bounce.case_id == case.pk
    assert Case.objects.count() == 1


def test_a_quoted_case_number_threads_a_mail_into_that_resolved_case(ingest, settings):
    settings.CAREINBOX_REOPEN_WINDOW = timedelta(days=7)
    author = AuthorFactory(external_id="gwen@example.org")
    case = ingest(InboundFactory(author=author, channel="email", sent_at=T0)).message.case
    resolve(case, at=T0 + timedelta(hours=1))

    later = ingest(
        InboundFactory(
            author=author,
            channel="email",
            sent_at=T0 + timedelta(days=30),
            case_reference=case.pk,
        ),
    ).message

    assert later.case_id == case.pk
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_quoting_another_customers_case_number_joins_nothing_of_theirs(ingest):
    stranger_case = ingest(InboundFactory(channel="email")).message.case

    message = ingest(InboundFactory(channel="email", case_reference=stranger_case.pk)).message

    assert message.case_id != stranger_case.pk
    assert stranger_case.messages.count() == 1


def test_a_thread_arriving_in_one_batch_is_stored_with_its_replies_linked(accounts):
    author = AuthorFactory()
    first = InboundFactory(author=author, sent_at=T0)
    reply = InboundFactory(
        author=author, sent_at=T0 + timedelta(minutes=1), in_reply_to=(first.external_id,)
    )
    again = InboundFactory(
        author=author, sent_at=T0 + timedelta(minutes=2), in_reply_to=(reply.external_id,)
    )

    ingest_batch(arrivals=[(accounts["x"], inbound) for inbound in (again, first, reply)])

    parents = dict(Message.objects.values_list("external_id", "parent__external_id"))
    assert parents == {
        first.external_id: None,
        reply.external_id: first.external_id,
        again.external_id: reply.external_id,
    }
