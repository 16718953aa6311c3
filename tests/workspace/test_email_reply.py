"""An email reply from the case page carries the agent's subject, Cc addresses and files."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Attachment, Message
from demo.connect import sandbox_email_account
from tests.conftest import client_for
from tests.factories import AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def mail_case(ingest, accounts, sandbox, django_capture_on_commit_callbacks):
    """An email case whose brand mailbox sends through the sandbox's SMTP server."""
    spec = sandbox_email_account({"maildir": str(sandbox.maildir), "smtp_port": sandbox.smtp_port})
    accounts["email"].settings = spec["settings"]
    accounts["email"].save()
    author = AuthorFactory(external_id="sarah@example.net", display_name="Sarah Pennington")
    inbound = InboundFactory(
        channel="email",
        external_id="<e1@example.net>",
        author=author,
        subject="Broadband move-in dates",
        text="Can you connect all four flats on the 1st?",
    )
    return ingest(inbound).message.case


def url(name, case):
    return reverse(f"workspace:{name}", kwargs={"case_id": case.pk})


def reply(agent, case, captured, **fields):
    with captured(execute=True):
        return client_for(agent).post(
            url("case-reply", case), {"text": "Yes, we can.", **fields}, headers=HTMX
        )


def test_an_email_reply_reaches_the_customer_with_its_subject_cc_and_attachment(
    mail_case, agent, sandbox, django_capture_on_commit_callbacks
):
    quote = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 four flats", content_type="application/pdf")

    response = reply(
        agent,
        mail_case,
        django_capture_on_commit_callbacks,
        subject=f"Your four flats [#{mail_case.pk}]",
        cc="lettings@example.net, ops@example.org",
        attachments=[quote],
    )

    assert "Reply queued." in response.content.decode()
    [sent] = sandbox.state.sent("email")
    assert sent.payload["subject"] == f"Your four flats [#{mail_case.pk}]"
    assert sent.payload["cc"] == "lettings@example.net, ops@example.org"
    assert sent.payload["attachments"] == ["quote.pdf"]
    assert sorted(sent.payload["rcpt_tos"]) == [
        "lettings@example.net",
        "ops@example.org",
        "sarah@example.net",
    ]
    stored = Message.objects.get(case=mail_case, direction="outbound")
    assert stored.delivery_status == "sent", stored.delivery_error
    assert stored.cc == ["lettings@example.net", "ops@example.org"]
    [attachment] = Attachment.objects.filter(message=stored)
    assert attachment.filename == "quote.pdf"
    assert bytes(attachment.content) == b"%PDF-1.4 four flats"


def test_the_timeline_shows_an_email_replys_cc_and_attachment(
    mail_case, agent, django_capture_on_commit_callbacks
):
    quote = SimpleUploadedFile("quote.pdf", b"%PDF", content_type="application/pdf")
    reply(
        agent,
        mail_case,
        django_capture_on_commit_callbacks,
        subject="",
        cc="lettings@example.net",
        attachments=[quote],
    )

    body = client_for(agent).get(url("case-detail", mail_case)).content.decode()

    assert "Cc: lettings@example.net" in body
    assert re.search(r'<a class="attachment-name" href="[^"]+" download>quote.pdf</a>', body)
    # A blank subject is the automatic one.
    assert f"Re: Broadband move-in dates [#{mail_case.pk}]" in body


def test_a_bad_cc_address_is_refused_in_words_and_nothing_is_queued(
    mail_case, agent, sandbox, django_capture_on_commit_callbacks
):
    response = reply(
        agent, mail_case, django_capture_on_commit_callbacks, cc="ops@example.org, bob@, nobody"
    )

    body = response.content.decode()
    assert "“bob@” is not an email address" in body
    assert "“nobody” is not an email address" in body
    assert "ops@example.org" not in body.split("reply-error")[1].split("</p>")[0]
    # What the agent wrote stays, to correct.
    assert 'value="ops@example.org, bob@, nobody"' in body
    assert not Message.objects.filter(case=mail_case, direction="outbound").exists()
    assert sandbox.state.sent("email") == []


def test_attachments_over_the_limit_are_refused_and_nothing_is_queued(
    mail_case, agent, sandbox, settings, django_capture_on_commit_callbacks
):
    settings.CAREINBOX_REPLY_ATTACHMENT_MAX_BYTES = 1000
    files = [SimpleUploadedFile(f"photo{n}.jpg", b"x" * 600, "image/jpeg") for n in (1, 2)]

    response = reply(agent, mail_case, django_capture_on_commit_callbacks, attachments=files)

    assert "The attachments come to 1.2" in response.content.decode()
    assert "may carry at most 1000" in response.content.decode()
    assert "Choose the files again" in response.content.decode()
    assert not Message.objects.filter(case=mail_case, direction="outbound").exists()
    assert not Attachment.objects.exists()
    assert sandbox.state.sent("email") == []


def test_the_email_composer_offers_a_subject_cc_and_attachments(mail_case, agent):
    body = client_for(agent).get(url("case-detail", mail_case)).content.decode()

    assert f'value="Re: Broadband move-in dates [#{mail_case.pk}]"' in body
    assert 'name="cc"' in body
    assert re.search(r'<input type="file" [^>]*name="attachments" multiple', body)
    assert 'enctype="multipart/form-data"' in body


def test_an_x_case_composer_has_no_subject_cc_or_attachments(ingest, agent):
    case = ingest(text="@acme_care my router is down").message.case

    body = client_for(agent).get(url("case-detail", case)).content.decode()

    assert 'id="reply-text"' in body
    assert 'name="subject"' not in body
    assert 'name="cc"' not in body
    assert 'type="file"' not in body


def test_choosing_another_channel_brings_or_removes_the_email_fields(mail_case, ingest, agent):
    tweet = ingest(
        InboundFactory(author=AuthorFactory(external_id="431"), text="@acme_care also here")
    ).message
    fields = url("case-reply-email-fields", mail_case)
    client = client_for(agent)
    mail = Message.objects.get(case=mail_case, channel="email")
    # As on the case of a customer who wrote by email and on X: both are reply channels.
    Message.objects.filter(pk=tweet.pk).update(case=mail_case)

    on_x = client.get(fields, {"answering_id": tweet.pk}, headers=HTMX).content.decode()
    on_mail = client.get(fields, {"answering_id": mail.pk}, headers=HTMX).content.decode()

    assert 'id="email-fields"' in on_x and 'name="subject"' not in on_x
    assert 'name="subject"' in on_mail and 'name="attachments"' in on_mail


def test_an_x_reply_with_cc_is_refused(ingest, agent, django_capture_on_commit_callbacks):
    case = ingest(text="@acme_care my router is down").message.case

    response = reply(agent, case, django_capture_on_commit_callbacks, cc="ops@example.org")

    assert "Only an email reply has a subject, Cc addresses or attachments" in (
        response.content.decode()
    )
    assert not Message.objects.filter(case=case, direction="outbound").exists()
