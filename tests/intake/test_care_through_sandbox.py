"""The care practice on messages polled from the platform sandbox through the real clients:
praise reaches whom it names, a closer needs no reply, and the composer offers the canned
response that fits first. (Spam and hiding through the sandbox: tests/channels/facebook/
test_hiding.py.)"""

import re
from datetime import timedelta

import pytest
from django.core import mail

from cases.models import CannedResponse, Case
from casework import actions
from notifications.models import Notification
from staff.models import AgentProfile, Team
from tests.conftest import client_for
from tests.sandbox_events import event

pytestmark = pytest.mark.django_db

CUSTOMER = {"id": "431221750", "handle": "neilcarver", "name": "Neil Carver", "followers": 97}


def test_praise_in_a_polled_tweet_reaches_the_agent_and_their_supervisor(
    x_account, poll_sandbox, agent, supervisor
):
    team = Team.objects.create(name="Social")
    for user, address in ((agent, "jo@example.com"), (supervisor, "sam@example.com")):
        AgentProfile.objects.get(user=user).teams.add(team)
        user.email = address
        user.save()

    message = poll_sandbox(
        x_account,
        event(
            "p1",
            "x.mention",
            "@acme_care Jo was brilliant today, had my broadband back in ten minutes",
            ago=timedelta(minutes=5),
            author=CUSTOMER,
        ),
    )

    assert message.praise_for == "Jo (Social)"
    praised = Notification.objects.filter(kind=Notification.Kind.PRAISED)
    assert set(praised.values_list("recipient", flat=True)) == {agent.pk, supervisor.pk}
    assert sorted(to for m in mail.outbox for to in m.to) == ["jo@example.com", "sam@example.com"]
    assert "brilliant" in mail.outbox[0].body
    bell = client_for(agent).get("/notifications/").content.decode()
    assert "Jo was brilliant today" in bell


def test_a_polled_thanks_on_a_resolved_case_starts_no_clock_and_reopens_nothing(
    x_account, poll_sandbox, agent, sandbox, django_capture_on_commit_callbacks
):
    complaint = poll_sandbox(
        x_account,
        event(
            "d1",
            "x.dm",
            "My order AH-1 has not arrived",
            ago=timedelta(minutes=30),
            author=CUSTOMER,
        ),
    )
    case_id = complaint.case_id
    actions.claim_case(case_id=case_id, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reply_to_case(case_id=case_id, agent=agent, text="Sorry Neil, it leaves today")
    assert [o.kind for o in sandbox.state.sent("x")] == ["x.dm"]
    actions.set_status(case_id=case_id, by=agent, status=Case.Status.RESOLVED)

    thanks = poll_sandbox(
        x_account,
        event("d2", "x.dm", "Got it, thanks so much!", ago=timedelta(0), author=CUSTOMER),
    )

    case = Case.objects.get(pk=case_id)
    assert thanks.case_id == case_id and thanks.text == "Got it, thanks so much!"
    assert case.status == Case.Status.RESOLVED
    assert case.awaiting_reply_since is None
    assert not thanks.needs_reply
    page = client_for(agent).get(f"/cases/{case_id}/").content.decode()
    assert "Got it, thanks so much!" in page and "Closes the conversation" in page


def test_the_composer_offers_the_canned_response_that_fits_a_polled_message_first(
    facebook_account, poll_sandbox, agent
):
    for title, text in [
        ("Store opening hours", "Our stores open 9 to 5:30, Sundays 10 to 4."),
        ("Delivery delays", "Sorry {first_name}, deliveries are running late this week."),
        ("Refund timescales", "Hi {first_name}, refunds reach your card within 5 working days."),
    ]:
        CannedResponse.objects.create(title=title, text=text)
    message = poll_sandbox(
        facebook_account,
        event(
            "m1",
            "facebook.message",
            "Where is my refund? I returned the kettle ten days ago",
            ago=timedelta(minutes=5),
            author={"id": "100066745989389", "name": "Bernadette Quinn"},
        ),
    )

    picker = client_for(agent).get(f"/cases/{message.case_id}/canned/picker/").content.decode()
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", picker)
    assert options == ["Refund timescales", "Delivery delays", "Store opening hours"]
