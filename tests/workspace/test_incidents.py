"""Supervisors see live incidents above the inbox, read an incident's cases and messages on
its page, confirm or dismiss it, change its cases and merge two; agents get none of it."""

import re
from datetime import timedelta
from html import unescape

import pytest

from cases.models import Message
from incidents.models import Incident, IncidentMessage
from tests.conftest import client_for
from tests.factories import T0, AuthorFactory
from tests.incidents.world import SPIKE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def detection_on(settings):
    settings.CAREINBOX_INCIDENTS = True


@pytest.fixture
def spike(ingest):
    """Eight customers write about a Leeds outage within 35 minutes, six on X and two on
    Messenger; one more writes about a kettle. Detection proposes one incident."""
    for n, text in enumerate(SPIKE):
        ingest(
            text=text,
            channel="x.mention" if n < 6 else "facebook.message",
            author=AuthorFactory(display_name=f"Customer {n}"),
            sent_at=T0 + timedelta(minutes=5 * n),
        )
    kettle = ingest(text="@acme_care my kettle is leaking", sent_at=T0 + timedelta(minutes=3))
    [incident] = Incident.objects.all()
    return incident, kettle.message.case


def text_of(response) -> str:
    assert response.status_code == 200
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def make_incident(title: str, messages: list[Message], **fields) -> Incident:
    times = [m.sent_at for m in messages]
    incident = Incident.objects.create(
        title=title,
        created_at=max(times),
        first_message_at=min(times),
        last_message_at=max(times),
        **fields,
    )
    IncidentMessage.objects.bulk_create(
        IncidentMessage(incident=incident, message=m, added_at=m.sent_at) for m in messages
    )
    return incident


def test_a_supervisor_sees_the_proposed_incident_above_the_inbox(spike, supervisor):
    incident, _ = spike
    inbox = client_for(supervisor).get("/")
    page = text_of(inbox)
    assert (
        f"Proposed Possible incident: {incident.title} — 8 messages from 8 customers since 09:00"
        in page
    )
    html = inbox.content.decode()
    assert f'href="/incidents/{incident.pk}/"' in html
    assert f'action="/incidents/{incident.pk}/confirm/"' in html
    assert f'action="/incidents/{incident.pk}/dismiss/"' in html
    assert 'href="/incidents/">Incidents</a>' in html


def test_an_agent_sees_no_banner_and_no_incidents_link(spike, agent):
    html = client_for(agent).get("/").content.decode()
    assert "incident-banner" not in html
    assert "Possible incident" not in html
    assert 'href="/incidents/"' not in html


def test_the_list_shows_each_incident_with_its_counts_places_and_channels(spike, supervisor):
    incident, _ = spike
    page = text_of(client_for(supervisor).get("/incidents/"))
    assert f"Proposed {incident.title} 2 Nov 09:00 2 Nov 09:35 8 8 8 Leeds" in page
    assert "Facebook Messenger, X mention" in page


def test_the_page_shows_the_cases_their_messages_and_the_volume(spike, supervisor):
    incident, kettle_case = spike
    response = client_for(supervisor).get(f"/incidents/{incident.pk}/")
    page = text_of(response)
    html = response.content.decode()
    assert "Status: Proposed" in page
    assert "Messages 8 Customers 8 Cases 8" in page
    assert "Places Leeds" in page
    assert "Channels X mention (6), Facebook Messenger (2)" in page
    first = Message.objects.get(text=SPIKE[0])
    assert f'href="/cases/{first.case_id}/"' in html
    assert f"Case #{first.case_id} Customer 0 Remove X mention · 2 Nov 09:00 {SPIKE[0]}" in page
    assert f"Facebook Messenger · 2 Nov 09:35 {SPIKE[7]}" in page
    assert f"Case #{kettle_case.pk}" not in page
    # One bar every five minutes from 09:00 to 09:40, each with one message.
    assert "Messages every 5 minutes" in page
    assert html.count("<rect ") == 8
    assert html.count("1 message</title>") == 8


def test_confirming_opens_the_incident_and_the_banner_says_so(spike, supervisor):
    incident, _ = spike
    sam = client_for(supervisor)
    confirmed = sam.post(f"/incidents/{incident.pk}/confirm/", follow=True)
    assert f"Incident confirmed: {incident.title}." in text_of(confirmed)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.OPEN
    banner = text_of(sam.get("/"))
    assert f"Open Incident: {incident.title} — 8 messages from 8 customers" in banner
    assert 'action="/incidents/' not in sam.get("/").content.decode()

    again = text_of(sam.post(f"/incidents/{incident.pk}/confirm/", follow=True))
    assert f"Incident {incident.pk} is open; only a proposed incident can be confirmed." in again


def test_dismissing_keeps_the_messages_linked_and_removes_the_banner(spike, supervisor):
    incident, _ = spike
    sam = client_for(supervisor)
    sam.post(f"/incidents/{incident.pk}/dismiss/")
    incident.refresh_from_db()
    assert incident.status == Incident.Status.DISMISSED
    assert incident.links.count() == 8
    assert "Possible incident" not in text_of(sam.get("/"))
    assert f"Dismissed {incident.title}" in text_of(sam.get("/incidents/"))


def test_a_case_is_added_by_number_and_removed_again(spike, supervisor):
    incident, kettle_case = spike
    sam = client_for(supervisor)
    added = text_of(
        sam.post(f"/incidents/{incident.pk}/cases/", {"case": kettle_case.pk}, follow=True)
    )
    assert f"Case #{kettle_case.pk} added: 1 message." in added
    assert "Messages 9 Customers 9 Cases 9" in added
    assert "my kettle is leaking" in added

    first = Message.objects.get(text=SPIKE[0])
    removed = text_of(
        sam.post(f"/incidents/{incident.pk}/cases/{first.case_id}/remove/", follow=True)
    )
    assert f"Case #{first.case_id} removed from the incident." in removed
    assert "Messages 8 Customers 8 Cases 8" in removed
    assert SPIKE[0] not in removed
    assert not IncidentMessage.objects.filter(message=first).exists()
    incident.refresh_from_db()
    # The first message left with its case: the incident now starts with the kettle's.
    assert incident.first_message_at == T0 + timedelta(minutes=3)


def test_adding_a_case_already_counted_or_unknown_is_refused(spike, supervisor):
    incident, _ = spike
    sam = client_for(supervisor)
    counted = Message.objects.get(text=SPIKE[1]).case_id
    page = text_of(sam.post(f"/incidents/{incident.pk}/cases/", {"case": counted}, follow=True))
    assert f"Case {counted} has no customer message outside an incident to add" in page
    page = text_of(sam.post(f"/incidents/{incident.pk}/cases/", {"case": 99999}, follow=True))
    assert "There is no case 99999; check the case number." in page
    assert incident.links.count() == 8


def test_merging_moves_every_message_and_the_merged_incident_points_on(ingest, supervisor):
    messages = [
        ingest(text=f"@acme_care PAY-503 at checkout {n}", sent_at=T0 + timedelta(minutes=n))
        for n in range(4)
    ]
    kept = make_incident("PAY-503 checkout", [m.message for m in messages[:2]])
    other = make_incident(
        "Checkout error", [m.message for m in messages[2:]], status=Incident.Status.OPEN
    )
    sam = client_for(supervisor)
    merged = sam.post(f"/incidents/{kept.pk}/merge/", {"other": other.pk}, follow=True)
    page = text_of(merged)
    assert f"Incident {other.pk} merged into this one." in page
    assert "Status: Open" in page
    assert "Messages 4 Customers 4" in page
    assert IncidentMessage.objects.filter(incident=kept).count() == 4
    other.refresh_from_db()
    assert other.status == Incident.Status.MERGED and other.merged_into == kept

    followed = sam.get(f"/incidents/{other.pk}/")
    assert followed.status_code == 302 and followed["Location"] == f"/incidents/{kept.pk}/"
    listing = text_of(sam.get("/incidents/"))
    assert "PAY-503 checkout" in listing and "Checkout error" not in listing


def test_agents_are_refused_the_pages_and_the_changes(spike, agent):
    incident, kettle_case = spike
    jo = client_for(agent)
    assert jo.get("/incidents/").status_code == 403
    assert jo.get(f"/incidents/{incident.pk}/").status_code == 403
    assert jo.post(f"/incidents/{incident.pk}/confirm/").status_code == 403
    assert jo.post(f"/incidents/{incident.pk}/cases/", {"case": kettle_case.pk}).status_code == 403
    incident.refresh_from_db()
    assert incident.status == Incident.Status.PROPOSED
    assert incident.links.count() == 8


def test_the_pages_read_a_fixed_number_of_times_however_many_cases(
    spike, ingest, supervisor, django_assert_max_num_queries
):
    incident, _ = spike
    sam = client_for(supervisor, online=True)
    sam.get("/")  # the session and the user's permissions, read once
    with django_assert_max_num_queries(12) as before:
        sam.get(f"/incidents/{incident.pk}/")
    for n in range(3):  # each joins the live incident as it arrives
        ingest(text=f"@acme_care broadband down in Leeds {n}", sent_at=T0 + timedelta(hours=1))
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert "Cases 11" in text_of(sam.get(f"/incidents/{incident.pk}/"))
    with django_assert_max_num_queries(9):
        sam.get("/incidents/")
