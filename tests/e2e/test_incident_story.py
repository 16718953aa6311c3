"""An incident's whole story in a real browser, with the sandbox as X, Facebook and the mail
server: a spike of customers arrives, CareInbox proposes an incident, a supervisor posts one
public update (a tweet and a page post) and answers every linked case on its own channel, a
late message joins and is answered once approved, and closing posts the closing update and
resolves the cases."""

import re
import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from cases.models import Case, Message
from incidents.models import Incident
from tests.e2e.conftest import arrive, db_turn, poll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POST = {"id": "104857600123456_812039475610293", "text": "Fibre 900 is here!"}
# Six customers in 35 minutes, on X, on the page and by mail, about one outage.
SPIKE = [
    ("x.mention", "@acme_care no internet in Leeds since 7am, router flashing red"),
    ("x.mention", "@acme_care is broadband down in Leeds? nothing since this morning"),
    ("facebook.comment", "Is broadband down in Leeds? No internet since 7am"),
    ("x.mention", "@acme_care Leeds broadband outage? no connection at all"),
    ("email", "No internet here in Leeds either since 7am, the router light is red."),
    ("x.mention", "@acme_care broadband down in Leeds, working from home and stuck"),
]
LATE = ("x.mention", "@acme_care still no internet in Leeds, any update on the outage")
PUBLIC = "Some customers in Leeds have no broadband. Engineers are on it; next update by noon."
REPLY = "Hi {first_name}, there is a broadband outage in Leeds and engineers are fixing it."
CLOSING_PUBLIC = "Broadband in Leeds is back. Thank you for your patience this morning."
CLOSING = "Hi {first_name}, broadband in Leeds is back. Sorry for the trouble."


@pytest.fixture(autouse=True)
def small_spikes(settings):
    settings.CAREINBOX_INCIDENTS = True
    settings.CAREINBOX_INCIDENT_MIN_MESSAGES = 6
    settings.CAREINBOX_INCIDENT_MIN_CUSTOMERS = 5


NAMES = ["Alice Archer", "Ben Booth", "Cara Cole", "Dev Dunn", "Eve Eke", "Finn Ford", "Gia Gale"]


def customer(n: int, channel: str) -> dict:
    name = NAMES[n]
    if channel == "email":
        return {"email": f"customer{n}@example.org", "name": name}
    if channel.startswith("facebook"):
        return {"id": f"1000667459893{n:02d}", "name": name}
    return {"id": f"43122175{n:02d}", "handle": f"customer_{n}", "name": name}


def write(sandbox, n: int, channel: str, text: str, **extra) -> dict:
    if channel == "facebook.comment":
        extra["page_post"] = POST
    if channel == "email":
        extra["subject"] = "No broadband"
    return arrive(
        sandbox, id=f"spike-{n}", channel=channel, author=customer(n, channel), text=text, **extra
    )


def public_posts(sandbox) -> list[str]:
    tweets = [
        o.payload["text"]
        for o in sandbox.state.sent("x")
        if o.kind == "x.tweet" and "referenced_tweets" not in o.payload
    ]
    page_posts = [
        o.payload["message"]
        for o in sandbox.state.sent("facebook")
        if o.kind == "facebook.page_post"
    ]
    return tweets + page_posts


def replies_on(case_ids) -> dict[int, list[str]]:
    with db_turn():
        found: dict[int, list[str]] = {pk: [] for pk in case_ids}
        for m in Message.objects.filter(case__in=case_ids, direction="outbound"):
            found[m.case_id].append(m.text)
        return found


def test_an_incident_from_spike_to_public_close(sign_in, sandbox, supervisor):
    for n, (channel, text) in enumerate(SPIKE):
        write(sandbox, n, channel, text)
    poll()

    with db_turn():
        [incident] = Incident.objects.all()
        spike_cases = set(
            Case.objects.filter(messages__incident_link__incident=incident).values_list(
                "pk", flat=True
            )
        )
    assert len(spike_cases) == len(SPIKE)

    # The supervisor sees the proposal above the inbox and opens it.
    sam = sign_in(supervisor)
    page = sam.page
    banner = page.get_by_test_id("incident-banner")
    expect(banner).to_contain_text(f"Possible incident: {incident.title}")
    expect(banner).to_contain_text(f"{len(SPIKE)} messages from {len(SPIKE)} customers")
    banner.get_by_role("link", name=incident.title).click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.pk}/$"))
    expect(page.get_by_text("Alice Archer").first).to_be_visible()

    # One public update, one reply for every linked case: previewed, then posted.
    page.get_by_role("link", name="Post an update").click()
    page.get_by_label("Public post").fill(PUBLIC)
    page.get_by_label("Reply to each linked case").fill(REPLY)
    page.get_by_role("button", name="Preview").click()
    first_names = "|".join(name.split()[0] for name in NAMES)
    greeting = re.compile(rf"Hi ({first_names}), there is a broadband outage")
    expect(page.get_by_text(greeting).first).to_be_visible()
    assert public_posts(sandbox) == []
    page.get_by_role("button", name="Post the update").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.pk}/$"))

    assert sorted(public_posts(sandbox)) == [PUBLIC, PUBLIC]
    answered = replies_on(spike_cases)
    assert all(
        len(texts) == 1 and "broadband outage in Leeds" in texts[0] for texts in answered.values()
    )
    assert {o.kind for o in sandbox.state.sent("x")} >= {"x.tweet"}
    assert len(sandbox.state.sent("email")) == 1  # the mail customer, in their thread

    # A late message joins; it is answered once the supervisor approves.
    late = write(sandbox, len(SPIKE), *LATE)
    poll()
    # The platform dates a message up to a second ahead; the update answers it after that.
    time.sleep(max(0.0, (datetime.fromisoformat(late["at"]) - datetime.now(UTC)).total_seconds()))
    with db_turn():
        late_case = Message.objects.get(text=LATE[1]).case_id
    assert replies_on([late_case])[late_case] == []
    page.reload()
    page.get_by_role("button", name="Send them the latest update").click()
    assert "broadband outage in Leeds" in replies_on([late_case])[late_case][0]

    # Closing posts the closing update on the same accounts and resolves every case.
    page.get_by_role("link", name="Close the incident").click()
    page.get_by_label("Public post").fill(CLOSING_PUBLIC)
    page.get_by_label("Reply to each linked case").fill(CLOSING)
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Close the incident").click()
    expect(page.get_by_text(re.compile("Status: Resolved"))).to_be_visible()

    assert sorted(public_posts(sandbox)) == sorted(
        [PUBLIC, PUBLIC, CLOSING_PUBLIC, CLOSING_PUBLIC]
    )
    with db_turn():
        statuses = set(
            Case.objects.filter(pk__in=spike_cases | {late_case}).values_list("status", flat=True)
        )
    assert statuses == {Case.Status.RESOLVED}
    assert sam.csp_violations == [] and sam.page_errors == []
