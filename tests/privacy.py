"""A customer with something of theirs in every place a privacy request reaches, for the
export and erasure tests (registered as a plugin in ``tests/conftest.py``)."""

from datetime import timedelta

import pytest

from casework.actions import add_note, hand_off_case
from casework.merge import merge_customers
from casework.replies import queue_reply
from channels.inbound import InboundAttachment
from customers.models import Customer
from intake.services import quarantine_payload
from tests.factories import T0, AuthorFactory

# Everything planted about Gwen holds one of these; nothing else in the database does.
GWEN_WORDS = [
    "qzgwen",
    "98765432101",
    "qzkettleword",
    "qzsubjectword",
    "qzhtmlword",
    "qzrawword",
    "qzpassport",
    "qzfilebytes",
    "qzcontextword",
    "qzlongword",
    "qzccword",
]
BOB_WORD = "bobkeepword"


@pytest.fixture
def gwen(ingest, admin_user, agent, settings):
    """Gwen on X and by email, merged into one customer, with an attachment, a note, a
    hand-off, a long message stored cut, a reply copying in someone of hers, a merge reason
    naming her, and a quarantined payload with her handle; Bob, who wrote too, and a
    quarantined payload of his."""
    on_x = AuthorFactory(external_id="98765432101", handle="qzgwenhandle", display_name="Qzgwen X")
    by_mail = AuthorFactory(
        external_id="qzgwen@mail.example", handle="", display_name="Qzgwen Mailname"
    )
    tweet = ingest(
        author=on_x,
        sent_at=T0,
        text="My qzkettleword broke",
        context="What qzcontextword answers",
        raw=b'{"qzrawword": 1}',
        attachments=(
            InboundAttachment(
                filename="qzpassport.png",
                content_type="image/png",
                size=11,
                content=b"qzfilebytes",
            ),
        ),
    ).message
    email = ingest(
        author=by_mail,
        channel="email",
        sent_at=T0 + timedelta(hours=1),
        subject="qzsubjectword",
        text="Still the qzkettleword",
        html="<p>qzhtmlword</p>",
    ).message
    # Stored cut: the word is only in the whole text kept beside it.
    settings.CAREINBOX_MESSAGE_TEXT_LIMIT = 200
    ingest(
        author=by_mail,
        channel="email",
        sent_at=T0 + timedelta(minutes=90),
        text="It is a long story. " * 15 + "qzlongword",
    )
    # A reply copying in someone of hers: her words are in its Cc.
    queue_reply(case=email.case, agent=agent, text="On its way.", cc=["qzccword@mail.example"])
    bob = ingest(
        author=AuthorFactory(handle="bobkeep", display_name="Bob Keep"),
        sent_at=T0 + timedelta(hours=2),
        text=f"My {BOB_WORD} is fine",
    ).message
    merge_customers(
        source=email.case.customer,
        target=tweet.case.customer,
        actor=admin_user,
        reason="qzgwen wrote twice",
    )
    add_note(case_id=tweet.case_id, author=admin_user, text="Called qzgwen back")
    hand_off_case(
        case_id=tweet.case_id, by=admin_user, note="qzgwen wants a refund", to_user_id=agent.pk
    )
    quarantine_payload(source="sample", raw=b'{"user": "QZGWENHANDLE"}', error="bad")
    quarantine_payload(source="sample", raw=b'{"user": "bobkeep"}', error="bad")
    return {
        "live": tweet.case.customer,
        "merged": Customer.objects.get(pk=email.case.customer_id),
        "messages": [tweet, email],
        "bob": bob,
    }
