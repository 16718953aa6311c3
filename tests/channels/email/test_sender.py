import dataclasses
import json

import pytest

from cases.models import Message
from channels.email import CHANNEL
from channels.email.normaliser import normalise
from channels.errors import PermanentSendError, TransientSendError
from channels.plug import OutboundFile, OutboundReply
from demo.sandbox import mail
from tests.channels.email.mailboxes import THREAD, poll_into_cases
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def reply_to_follow_up(message_id=501, recipient="s.pennington@example.net"):
    return OutboundReply(
        message_id=message_id,
        channel="email",
        text="Hello Sarah,\n\nYes, we can take all four as one request.\n\nJo\nAcme Home",
        in_reply_to="<e149@sample.acme-home.example>",
        recipient=recipient,
        subject="Re: [#12] Broadband for 4 rental properties - move-in dates",
        # Nearest first, as the outbound service passes them: the mail answered, then its parent.
        references=("<e149@sample.acme-home.example>", "<e16@sample.acme-home.example>"),
    )


@pytest.fixture
def thread(sandbox, mail_account):
    sandbox.state.load(THREAD)
    mail.deliver_visible(sandbox)
    assert poll_into_cases(mail_account).stored == 2


def test_a_reply_reaches_the_customer_threaded_under_their_mail(sandbox, mail_account, thread):
    sent_id = CHANNEL.sender.send(mail_account, reply_to_follow_up())

    (outbound,) = sandbox.state.sent("email")
    payload = outbound.payload
    assert sent_id == payload["message_id"] == "<careinbox.501@acme-home.example>"
    assert payload["mail_from"] == "care@acme-home.example"
    assert payload["rcpt_tos"] == ["s.pennington@example.net"]
    assert payload["in_reply_to"] == "<e149@sample.acme-home.example>"
    assert payload["references"] == (
        "<e16@sample.acme-home.example> <e149@sample.acme-home.example>"
    )
    assert payload["subject"] == "Re: [#12] Broadband for 4 rental properties - move-in dates"
    received = normalise(payload["data"].encode())
    assert received.author.external_id == "care@acme-home.example"
    assert received.text.rstrip("\n") == reply_to_follow_up().text


def test_a_reply_carries_its_cc_addresses_and_attachments(sandbox, mail_account, thread):
    reply = dataclasses.replace(
        reply_to_follow_up(),
        cc=("lettings@example.net", "ops@example.org"),
        attachments=(
            OutboundFile("quote.pdf", "application/pdf", b"%PDF-1.4 four flats"),
            OutboundFile("dates.txt", "text/plain", b"1st to 4th May"),
        ),
    )

    CHANNEL.sender.send(mail_account, reply)

    (outbound,) = sandbox.state.sent("email")
    assert outbound.payload["cc"] == "lettings@example.net, ops@example.org"
    assert sorted(outbound.payload["rcpt_tos"]) == [
        "lettings@example.net",
        "ops@example.org",
        "s.pennington@example.net",
    ]
    assert outbound.payload["attachments"] == ["quote.pdf", "dates.txt"]
    received = normalise(outbound.payload["data"].encode())
    assert [(a.filename, a.content) for a in received.attachments] == [
        ("quote.pdf", b"%PDF-1.4 four flats"),
        ("dates.txt", b"1st to 4th May"),
    ]


def test_the_customers_answer_to_a_reply_joins_the_same_case(sandbox, mail_account, thread):
    sent_id = CHANNEL.sender.send(mail_account, reply_to_follow_up())
    answer = {
        "id": "e900",
        "at": "2026-11-05T10:00:00Z",
        "channel": "email",
        "author": {"email": "s.pennington@example.net", "name": "Sarah Pennington"},
        "subject": "Re: [#12] Broadband for 4 rental properties - move-in dates",
        "text": "Wonderful, thank you.",
    }
    sandbox.state.load([json.dumps(answer)])
    mail.deliver_visible(sandbox)

    assert poll_into_cases(mail_account).stored == 1
    first = Message.objects.get(external_id="<e16@sample.acme-home.example>")
    latest = Message.objects.get(external_id="<e900@sample.acme-home.example>")
    assert latest.case_id == first.case_id
    assert sent_id.startswith("<careinbox.")


def test_find_sent_finds_a_reply_only_once_it_was_sent(sandbox, mail_account, thread):
    reply = reply_to_follow_up()
    assert CHANNEL.sender.find_sent(mail_account, reply) is None

    sent_id = CHANNEL.sender.send(mail_account, reply)

    assert CHANNEL.sender.find_sent(mail_account, reply) == sent_id
    assert CHANNEL.sender.find_sent(mail_account, reply_to_follow_up(message_id=502)) is None


def test_the_sent_copy_is_not_polled_as_a_customer_message(sandbox, mail_account, thread):
    CHANNEL.sender.send(mail_account, reply_to_follow_up())

    assert poll_into_cases(mail_account).stored == 0
    assert Message.objects.count() == 2


def test_a_refused_recipient_is_a_permanent_failure(sandbox, mail_account):
    reply = reply_to_follow_up(recipient="someone@no-such-domain.invalid")

    with pytest.raises(PermanentSendError, match="550"):
        CHANNEL.sender.send(mail_account, reply)
    assert sandbox.state.sent("email") == []


def test_an_unreachable_smtp_server_is_a_transient_failure(mail_account):
    mail_account.settings["smtp_port"] = free_port()

    with pytest.raises(TransientSendError, match="reply 501"):
        CHANNEL.sender.send(mail_account, reply_to_follow_up())


def test_an_account_without_smtp_host_cannot_send(mail_account):
    mail_account.settings["smtp_host"] = ""

    with pytest.raises(PermanentSendError, match="no smtp_host"):
        CHANNEL.sender.send(mail_account, reply_to_follow_up())
