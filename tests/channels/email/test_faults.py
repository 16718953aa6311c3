"""Mail read and sent through failing IMAP and SMTP servers: nothing lost, nothing sent twice.

IMAP goes to the tests' Dovecot through the sandbox's fault-injecting proxy; SMTP goes to the
sandbox's own server. The faults are the sandbox's, for platforms ``imap`` and ``smtp``.
"""

import pytest
from django.db.models import Count
from django.utils import timezone

from cases.models import Message
from casework.replies import queue_reply
from casework.tasks import retry_due_replies_task
from demo.sandbox import mail
from demo.sandbox.imap import ImapProxy
from demo.sandbox.state import Fault
from intake.polling import poll_account
from tests.channels.email.mailboxes import THREAD, deliver, poll_into_cases

pytestmark = pytest.mark.django_db(transaction=True)  # replies are sent on commit

MAILS = 7  # three pages of three: the first poll reads page one, the rest wait


@pytest.fixture
def imap_through_proxy(sandbox, dovecot, imap_account):
    proxy = ImapProxy(sandbox.state, upstream=(dovecot["host"], int(dovecot["port"]))).start()
    imap_account.settings.update(imap_port=proxy.port, timeout=1)
    imap_account.save()
    yield imap_account
    proxy.stop()


@pytest.mark.dovecot
def test_mail_polled_through_imap_disconnects_and_timeouts_arrives_once_each(
    imap_through_proxy, folder, sandbox
):
    path, _ = folder
    for n in range(1, MAILS + 1):
        deliver(path, n)
    # CAPABILITY, LOGIN, SELECT, SEARCH and the first page's FETCH pass; the next FETCH fails.
    sandbox.state.add_fault(Fault(platform="imap", kind="disconnect", after=5))
    sandbox.state.add_fault(Fault(platform="imap", kind="timeout", seconds=2, after=5))

    results = [poll_account(account=imap_through_proxy, force=True) for _ in range(3)]

    assert [(r.failed, r.stored) for r in results] == [(True, 3), (True, 3), (False, 1)]
    assert "IMAP server" in results[0].error
    assert Message.objects.count() == MAILS
    assert not Message.objects.values("external_id").annotate(n=Count("pk")).filter(n__gt=1)


@pytest.fixture
def customer_mail(sandbox, mail_account):
    """The customer's latest mail, polled from the sandbox's Maildir into its case."""
    sandbox.state.load(THREAD)
    mail.deliver_visible(sandbox)
    mail_account.settings["timeout"] = 1
    mail_account.save()
    poll_into_cases(mail_account)
    return Message.objects.get(external_id="<e149@sample.acme-home.example>")


@pytest.mark.parametrize(
    "fault",
    [
        Fault(platform="smtp", kind="temporary_failure"),
        Fault(platform="smtp", kind="disconnect"),
        Fault(platform="smtp", kind="timeout", seconds=2),
    ],
    ids=lambda fault: fault.kind,
)
def test_a_reply_the_mail_server_does_not_take_now_is_retried_and_sent_once(
    customer_mail, sandbox, agent, fault
):
    sandbox.state.add_fault(fault)

    reply = queue_reply(case=customer_mail.case, agent=agent, text="We are on it.")

    reply.refresh_from_db()
    assert (reply.delivery_status, sandbox.state.sent("email")) == ("queued", [])
    assert "SMTP" in reply.delivery_error
    Message.objects.filter(pk=reply.pk).update(delivery_next_attempt_at=timezone.now())
    retry_due_replies_task.delay()
    reply.refresh_from_db()
    (sent,) = sandbox.state.sent("email")
    assert (reply.delivery_status, reply.external_id) == ("sent", sent.payload["message_id"])


def test_a_reply_the_mail_server_refuses_fails_with_its_reason(customer_mail, sandbox, agent):
    sandbox.state.add_fault(Fault(platform="smtp", kind="permanent_failure"))

    reply = queue_reply(case=customer_mail.case, agent=agent, text="We are on it.")

    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert "answered 554, 5.7.1 Message rejected as spam by content filter" in (
        reply.delivery_error
    )
    assert sandbox.state.sent("email") == []
