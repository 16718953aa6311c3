import json
import os
import smtplib
import time
from datetime import UTC, datetime

import pytest

from cases.models import Attachment, Message
from channels.email import CHANNEL
from channels.errors import FetchError
from demo.sandbox import mail
from intake.services import ingest_payloads
from tests.channels.email.mailboxes import PEER_MAIL, corpus, poll_into_cases

pytestmark = pytest.mark.django_db


def email_event(n, **fields):
    return json.dumps(
        {
            "id": f"m{n}",
            "at": f"2026-11-02T09:{n // 60:02d}:{n % 60:02d}Z",
            "channel": "email",
            "author": {"email": f"customer{n}@example.com", "name": f"Customer {n}"},
            "subject": f"Question {n}",
            "text": f"Question number {n}.",
        }
        | fields
    )


def maildir_names(account, sub):
    return sorted(os.listdir(os.path.join(account.settings["maildir"], sub)))


def test_full_poll_ingests_every_sample_email_once(sandbox, mail_account, demo_traffic_lines):
    sandbox.state.load(demo_traffic_lines, speed=0)
    mail.deliver_visible(sandbox)
    events = [e for e in sandbox.state.events if e.platform == "email"]

    first = poll_into_cases(mail_account)
    second = poll_into_cases(mail_account)

    assert (first.stored, first.duplicates, first.quarantined) == (len(events), 0, 0)
    assert (second.fetched, second.stored, second.quarantined) == (0, 0, 0)
    stored = Message.objects.filter(channel="email")
    assert sorted(stored.values_list("external_id", flat=True)) == sorted(
        f"<{e.id}@sample.acme-home.example>" for e in events
    )
    reply = stored.get(external_id="<e326@sample.acme-home.example>")
    assert reply.parent.external_id == "<e8@sample.acme-home.example>"
    assert reply.author_identity.external_id == "gwen.harlow@example.org"
    receipt = Attachment.objects.get(message__external_id="<e30@sample.acme-home.example>")
    assert (receipt.filename, receipt.content_type, receipt.size) == (
        "receipt_MW30.pdf",
        "application/pdf",
        54210,
    )
    # Read mail has left new/ for cur/, marked seen, as a mail client expects.
    assert maildir_names(mail_account, "new") == []
    assert len(maildir_names(mail_account, "cur")) == len(events)
    assert all(name.endswith(":2,S") for name in maildir_names(mail_account, "cur"))


def test_many_pages_store_every_mail_once(sandbox, mail_account):
    sandbox.state.load([email_event(n) for n in range(1, 18)])
    mail.deliver_visible(sandbox)
    mail_account.settings["page_size"] = 5
    mail_account.save()

    pages = list(CHANNEL.poll(mail_account))

    assert [len(page.payloads) for page in pages] == [5, 5, 5, 2]
    assert [len(json.loads(page.cursors["maildir_read"])) for page in pages] == [5, 10, 15, 17]
    assert poll_into_cases(mail_account).stored == 17
    assert poll_into_cases(mail_account).stored == 0
    assert Message.objects.count() == 17


def test_a_crash_before_a_page_is_stored_reads_it_again_without_duplicates(sandbox, mail_account):
    sandbox.state.load([email_event(n) for n in range(1, 11)])
    mail.deliver_visible(sandbox)
    mail_account.settings["page_size"] = 4
    mail_account.save()

    pages = CHANNEL.poll(mail_account)
    first = next(pages)
    ingest_payloads(source="email", payloads=first.payloads, accounts={"email": mail_account})
    mail_account.poll_cursors = first.cursors
    mail_account.save()
    second = next(pages)  # its mails get stored, then the worker dies before the cursor does
    ingest_payloads(source="email", payloads=second.payloads, accounts={"email": mail_account})
    pages.close()
    mail_account.refresh_from_db()

    again = poll_into_cases(mail_account)

    assert (again.stored, again.duplicates) == (2, 4)
    assert Message.objects.count() == 10


def test_mails_are_written_as_the_replay_clock_reaches_them(sandbox, mail_account):
    now = datetime.now(UTC).replace(microsecond=0)
    later = now.replace(year=now.year + 1)
    sandbox.state.load(
        [email_event(1, at=now.isoformat()), email_event(2, at=later.isoformat())], speed=1
    )

    mail.deliver_visible(sandbox)

    assert len(maildir_names(mail_account, "new")) == 1
    assert mail.deliver_visible(sandbox) == 0
    assert poll_into_cases(mail_account).stored == 1
    assert Message.objects.get().external_id == "<m1@sample.acme-home.example>"


def test_the_sandbox_delivers_new_mail_by_itself(sandbox, mail_account):
    sandbox.state.load([email_event(n) for n in range(1, 4)])

    deadline = time.monotonic() + 5
    while len(maildir_names(mail_account, "new")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert len(maildir_names(mail_account, "new")) == 3
    assert poll_into_cases(mail_account).stored == 3


def test_the_brands_own_mail_in_the_inbox_is_skipped(sandbox, mail_account):
    brand = mail_account.settings["address"]
    with smtplib.SMTP("127.0.0.1", sandbox.smtp_port, timeout=5) as smtp:
        smtp.sendmail(
            brand,
            [brand],
            f"From: Acme Care <{brand}>\r\nTo: {brand}\r\nSubject: Copy of our reply\r\n"
            "Date: Tue, 03 Nov 2026 09:00:00 +0000\r\nMessage-ID: <careinbox.9@acme-home.example>"
            "\r\n\r\nA copy for the team.\r\n",
        )
    assert len(maildir_names(mail_account, "new")) == 1

    result = poll_into_cases(mail_account)

    assert (result.fetched, result.stored, result.quarantined) == (0, 0, 0)
    assert Message.objects.count() == 0
    poll_into_cases(mail_account)
    assert maildir_names(mail_account, "new") == []


def test_a_mail_without_any_date_gets_the_time_it_was_delivered(mail_account):
    raw = (PEER_MAIL / "chatwoot" / "mail_with_no_date.eml").read_bytes()
    path = os.path.join(mail_account.settings["maildir"], "new", "1762160400.M1P1.mx")
    with open(path, "wb") as file:
        file.write(raw)
    os.utime(path, (1762160400, 1762160400))

    result = poll_into_cases(mail_account)

    assert result.stored == 1
    assert Message.objects.get().sent_at == datetime.fromtimestamp(1762160400, UTC)


def test_mail_a_person_can_read_is_stored_as_they_would_read_it(mail_account):
    names = ["first_line_not_a_header.eml", "from_name_and_bare_address.eml",
             "iso2022jp_body.eml", "raw_gb2312_undeclared.eml"]  # fmt: skip
    for number, name in enumerate(names):
        path = os.path.join(mail_account.settings["maildir"], "new", f"176216040{number}.M1P1.mx")
        with open(path, "wb") as file:
            file.write(corpus(name))

    result = poll_into_cases(mail_account)

    assert (result.stored, result.quarantined) == (4, 0)
    texts = dict(Message.objects.values_list("external_id", "text"))
    assert texts["<iso2022jp-body@mail.example.jp>"].startswith("冷蔵庫が壊れました")
    assert texts["<raw-gb2312@mail.example.cn>"].startswith("你好")


def test_a_missing_maildir_is_a_fetch_error(mail_account, tmp_path):
    mail_account.settings["maildir"] = str(tmp_path / "nowhere")

    with pytest.raises(FetchError, match="is not a Maildir"):
        list(CHANNEL.poll(mail_account))
