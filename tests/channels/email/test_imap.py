"""The IMAP path against a real Dovecot: .ci/run starts one and names it in the environment.

The tests fill the test user's Maildir directly, as a mail server's delivery agent does, each
test in a folder of its own, and read it back over IMAP.
"""

import os
import shutil
from pathlib import Path

import pytest

from cases.models import Message
from channels.email import CHANNEL
from channels.errors import FetchError
from channels.plug import OutboundReply
from tests.channels.email.mailboxes import deliver, make_folder, poll_into_cases
from tests.conftest import free_port

pytestmark = [pytest.mark.dovecot, pytest.mark.django_db]


def test_each_poll_fetches_only_mail_newer_than_the_last(imap_account, folder):
    path, _ = folder
    for n in range(1, 5):
        deliver(path, n)

    pages = list(CHANNEL.poll(imap_account))
    assert [len(page.payloads) for page in pages] == [3, 1]
    assert [page.cursors["last_uid"] for page in pages] == ["3", "4"]
    assert poll_into_cases(imap_account).stored == 4
    for n in (5, 6):
        deliver(path, n)

    newer = poll_into_cases(imap_account)

    assert (newer.stored, newer.duplicates) == (2, 0)
    assert imap_account.poll_cursors["last_uid"] == "6"
    assert Message.objects.count() == 6
    assert poll_into_cases(imap_account).stored == 0


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(imap_account, folder):
    path, _ = folder
    for n in range(1, 4):
        deliver(path, n)
    poll_into_cases(imap_account)
    old_validity = imap_account.poll_cursors["uidvalidity"]
    # The server loses its UID list (a restore, a migration): it numbers the mails anew.
    for name in os.listdir(path):
        if name.startswith("dovecot"):
            os.remove(path / name)
    deliver(path, 4)

    again = poll_into_cases(imap_account)

    assert imap_account.poll_cursors["uidvalidity"] != old_validity
    assert (again.stored, again.duplicates, again.quarantined) == (1, 3, 0)
    assert Message.objects.count() == 4


def test_the_brands_own_mail_is_skipped_and_passed_over(imap_account, folder):
    path, _ = folder
    deliver(path, 1, sender="care@acme-home.example", message_id="<careinbox.9@acme-home.example>")
    deliver(path, 2)

    result = poll_into_cases(imap_account)

    assert result.stored == 1
    assert list(Message.objects.values_list("external_id", flat=True)) == ["<q2@mail.example.com>"]
    assert imap_account.poll_cursors["last_uid"] == "2"


def test_a_refused_login_is_a_fetch_error_naming_the_user(imap_account):
    imap_account.credentials["imap_password"] = "wrong"

    with pytest.raises(FetchError, match="refused the login of 'careinbox'"):
        list(CHANNEL.poll(imap_account))


def test_a_closed_port_is_a_fetch_error(imap_account):
    imap_account.settings["imap_port"] = free_port()

    with pytest.raises(FetchError, match="Cannot connect to IMAP server"):
        list(CHANNEL.poll(imap_account))


def test_a_missing_folder_is_a_fetch_error(imap_account):
    imap_account.settings["imap_folder"] = "No such folder"

    with pytest.raises(FetchError, match="'No such folder' cannot be opened"):
        list(CHANNEL.poll(imap_account))


@pytest.fixture
def sent_folder(dovecot):
    """A French Outlook's sent folder, whose name IMAP spells in modified UTF-7."""
    path = Path(dovecot["maildir"]) / ".&AMk-l&AOk-ments envoy&AOk-s"
    yield make_folder(path), "Éléments envoyés"
    shutil.rmtree(path, ignore_errors=True)


def test_find_sent_looks_for_the_reply_in_the_sent_folder(imap_account, sent_folder):
    path, imap_account.settings["sent_folder"] = sent_folder
    reply = OutboundReply(
        message_id=501,
        channel="email",
        text="Hello",
        in_reply_to="<q1@mail.example.com>",
        recipient="customer1@example.com",
    )
    assert CHANNEL.sender.find_sent(imap_account, reply) is None
    message_id = f"<careinbox.{reply.message_id}@acme-home.example>"
    deliver(path, 1, sender="care@acme-home.example", message_id=message_id)

    assert CHANNEL.sender.find_sent(imap_account, reply) == message_id
