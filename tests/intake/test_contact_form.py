"""The public contact form: a submission becomes the customer's mail, answered by email; the
bot defences hold doubtful submissions in quarantine and lose nothing."""

import io
import time

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from cases.models import Message
from casework.replies import queue_reply
from channels.models import ChannelAccount
from intake import contact_views
from intake.models import QuarantinedPayload
from intake.services import retry_quarantined
from tests.factories import AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def form_account(accounts):
    account = accounts["email"]
    account.settings = {**account.settings, "contact_form": True, "brand": "Acme Home"}
    account.save()
    return account


def shown(account, *, seconds_ago: float = 60) -> str:
    """The signed time a form was shown, as the page carries it."""
    return signing.dumps(
        {"account": account.pk, "at": time.time() - seconds_ago}, salt=contact_views.SIGNING_SALT
    )


def post(account, client=None, **fields):
    data = {
        "name": "Nadia Petrova",
        "email": "nadia@example.org",
        "message": "My dishwasher stopped mid-cycle.\nIt shows E24.",
        "order_reference": "AC-10442",
        "shown": shown(account),
        **fields,
    }
    return (client or Client()).post(f"/contact/{account.pk}/", data)


def test_the_form_is_shown_to_anyone_with_the_brand_s_name(form_account):
    response = Client().get(f"/contact/{form_account.pk}/")

    assert response.status_code == 200
    assert "Contact Acme Home" in response.text
    assert 'name="email"' in response.text


def test_a_submission_opens_a_case_for_the_customer_their_address_names(form_account, ingest):
    earlier = ingest(
        InboundFactory(
            channel="email",
            author=AuthorFactory(external_id="nadia@example.org", handle="nadia@example.org"),
        )
    )

    response = post(form_account)

    assert response.status_code == 200
    assert "We have your message" in response.text
    message = Message.objects.get(text__startswith="My dishwasher")
    assert message.channel == "email"
    assert message.case.customer_id == earlier.message.case.customer_id
    assert "Order reference: AC-10442" in message.text
    assert message.subject == "Contact form: My dishwasher stopped mid-cycle."


def test_an_attachment_comes_with_the_message(form_account):
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")

    post(form_account, attachment=upload)

    [attachment] = Message.objects.get(text__startswith="My dishwasher").attachments.all()
    assert (attachment.filename, bytes(attachment.content)) == ("receipt.pdf", b"%PDF-1.4 receipt")


@pytest.mark.parametrize(
    ("bot", "reason"),
    [
        ({"website": "https://cheap-followers.example"}, "leave empty was filled in"),
        ({"shown": "forged"}, "did not come from the form"),
        ({"seconds_ago": 0.5}, "faster than a person types"),
    ],
)
def test_a_submission_bots_would_make_is_quarantined_with_the_reason(form_account, bot, reason):
    fields = dict(bot)
    if "seconds_ago" in fields:
        fields = {"shown": shown(form_account, seconds_ago=fields["seconds_ago"])}

    response = post(form_account, **fields)

    assert response.status_code == 200  # a bot learns nothing
    assert not Message.objects.exists()
    [held] = QuarantinedPayload.objects.all()
    assert reason in held.error
    assert held.channel_account == form_account
    assert retry_quarantined(item=held)  # a person's message can still be let in
    assert Message.objects.get().text.startswith("My dishwasher")


def test_a_missing_or_wrong_field_is_shown_again_with_what_was_typed(form_account):
    response = post(form_account, email="not-an-address")

    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert "My dishwasher stopped mid-cycle." in response.text
    assert not Message.objects.exists() and not QuarantinedPayload.objects.exists()


def test_too_many_submissions_from_one_address_are_refused_with_a_reason(form_account, settings):
    settings.CAREINBOX_CONTACT_FORM_RATE = "2/h"
    client = Client(REMOTE_ADDR="203.0.113.9")

    statuses = [post(form_account, client, message=f"Try {n}").status_code for n in range(3)]

    assert statuses == [200, 200, 429]
    assert Message.objects.count() == 2
    assert "try again later" in post(form_account, client).text
    assert post(form_account, Client(REMOTE_ADDR="198.51.100.4")).status_code == 200


@pytest.mark.parametrize("enabled", [False, True])
def test_an_account_without_the_form_has_no_page_and_no_script(accounts, enabled):
    account = accounts["x"] if enabled else accounts["email"]
    if enabled:  # an X account cannot have one, whatever its settings say
        account.settings = {**account.settings, "contact_form": True}
        account.save()

    assert Client().get(f"/contact/{account.pk}/").status_code == 404
    assert Client().get(f"/contact/{account.pk}/embed.js").status_code == 404


def test_the_embed_script_frames_the_form_and_the_form_may_be_framed(form_account):
    script = Client().get(f"/contact/{form_account.pk}/embed.js")
    page = Client().get(f"/contact/{form_account.pk}/")

    assert script["Content-Type"].startswith("text/javascript")
    assert f"http://testserver/contact/{form_account.pk}/" in script.text
    assert "X-Frame-Options" not in page
    assert "frame-ancestors *" in page["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'"
        in Client().get("/accounts/password/reset/")["Content-Security-Policy"]
    )


@pytest.mark.django_db(transaction=True)  # replies are sent on commit
def test_the_reply_goes_by_email_to_the_address_given(sandbox, agent):
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    account = ChannelAccount.objects.get(platform="email")
    account.settings = {**account.settings, "contact_form": True}
    account.save()
    post(account)
    message = Message.objects.get(text__startswith="My dishwasher")

    reply = queue_reply(
        case=message.case, agent=agent, text="Sorry, Nadia: an engineer is on the way."
    )

    reply.refresh_from_db()
    assert reply.delivery_status == "sent", reply.delivery_error
    [sent] = sandbox.state.sent("email")
    assert sent.payload["rcpt_tos"] == ["nadia@example.org"]
    assert sent.payload["in_reply_to"] == message.external_id
    assert (
        f"Re: Contact form: My dishwasher stopped mid-cycle. [#{message.case_id}]"
        in sent.payload["subject"]
    )
