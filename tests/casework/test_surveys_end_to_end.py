"""Surveys reach the sandbox on the customer's private channel once the resolution commits:
an email with the survey page's link, a Messenger message inside the window (and the
answer read from Messenger)."""

import io
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case, Message, Survey
from casework import actions
from channels.models import ChannelAccount
from demo.connect import sandbox_facebook_account
from demo.sandbox import mail
from intake.polling import poll_account
from tests.sandbox_events import event

pytestmark = pytest.mark.django_db(transaction=True)  # surveys are offered on commit


@pytest.fixture
def inbox(sandbox, demo_traffic_lines, settings):
    settings.CAREINBOX_SITE_URL = "https://care.example.com"
    # The week's last day, moved to the past week so Messenger's window is still open.
    sandbox.state.load(demo_traffic_lines[-60:], rebase_to=timezone.now())
    mail.deliver_visible(sandbox)
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    call_command("poll", once=True, stdout=io.StringIO())


def resolve_latest(channel, by):
    latest = (
        Message.objects.filter(direction="inbound", channel=channel, automated="", spam_reason="")
        .select_related("author_identity")
        .latest("sent_at")
    )
    actions.set_status(case_id=latest.case_id, by=by, status=Case.Status.RESOLVED)
    return latest, Survey.objects.get(case=latest.case_id)


def test_an_email_customer_gets_the_survey_link_by_email(inbox, supervisor, sandbox):
    answered, survey = resolve_latest("email", supervisor)

    [sent] = sandbox.state.sent("email")
    assert sent.payload["rcpt_tos"] == [answered.author_identity.external_id]
    assert f"How did we do? [#{answered.case_id}]" in sent.payload["subject"]
    assert f"https://care.example.com/survey/{survey.token}/" in sent.payload["data"]


def test_a_messenger_customer_is_asked_in_messenger_and_answers_there(supervisor, sandbox):
    info = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    account = ChannelAccount.objects.create(platform="facebook", **sandbox_facebook_account(info))

    def poll(*lines):
        sandbox.state.load(lines)
        result = poll_account(account=account, force=True)
        assert not result.failed, result.error
        return Message.objects.filter(direction="inbound").latest("pk")

    complaint = poll(
        event("m1", "facebook.message", "My dishwasher leaks", ago=timedelta(hours=2))
    )
    actions.set_status(case_id=complaint.case_id, by=supervisor, status=Case.Status.RESOLVED)

    sent = sandbox.state.sent("facebook")
    assert [o.kind for o in sent] == ["facebook.message"]
    assert "How did we do?" in str(sent[0].payload)
    survey = Survey.objects.get(case=complaint.case_id)
    assert survey.message.delivery_status == Message.Delivery.SENT

    answer = poll(event("m2", "facebook.message", "⭐⭐⭐⭐⭐", ago=timedelta(0)))

    survey.refresh_from_db()
    assert survey.score == 5 and survey.answer == answer
    assert Case.objects.get(pk=complaint.case_id).status == Case.Status.RESOLVED
