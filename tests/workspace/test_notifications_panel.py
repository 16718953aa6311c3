"""The bell opens a panel of unread notifications, one entry per case; the notifications page
groups the same way and pages through the rest."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from notifications.services import notify
from tests.conftest import client_for
from tests.factories import AuthorFactory
from workspace.views.notifications import CASES_PER_PAGE

pytestmark = pytest.mark.django_db

KIND = Notification.Kind


def case_of(ingest, name: str):
    return ingest(author=AuthorFactory(display_name=name), text="Where is it?").message.case


def entries(html: str) -> list[str]:
    """The panel's or page's entries, as text, top to bottom."""
    items = re.findall(r'<li class="notify-case[^"]*">(.*?)</li>', html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


@pytest.fixture
def una(ingest):
    return case_of(ingest, "Una First")


@pytest.fixture
def nina(ingest):
    return case_of(ingest, "Nina Newcomer")


def test_the_panel_shows_one_entry_per_case_newest_first_with_the_rest_in_words(
    agent, other_agent, una, nina
):
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: still waiting")
    notify(recipient_id=agent.pk, kind=KIND.MENTIONED, case=una, text="@jo", actor=other_agent)
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: hello?")
    notify(recipient_id=agent.pk, kind=KIND.HANDED_OFF, case=nina, text="Refund for Nina")
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: any news")

    panel = client_for(agent).get("/notifications/panel/").content.decode()

    una_entry, nina_entry = entries(panel)
    assert una_entry.startswith(f"Case #{una.pk} · Una First Una: any news")
    assert "New message on your case ·" in una_entry
    assert una_entry.endswith("ago · +3 more: new message on your case (2), @mention")
    assert nina_entry.startswith(f"Case #{nina.pk} · Nina Newcomer Refund for Nina")
    assert "more" not in nina_entry


def test_following_an_entry_marks_that_cases_notifications_read_and_opens_it(
    agent, other_agent, una, nina
):
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: still waiting")
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: hello?")
    notify(recipient_id=agent.pk, kind=KIND.HANDED_OFF, case=nina, text="Refund for Nina")
    notify(recipient_id=other_agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: hi Priya")
    jo = client_for(agent)
    panel = jo.get("/notifications/panel/").content.decode()
    [action] = [a for a in re.findall(r'action="([^"]+)"', panel) if f"/cases/{una.pk}/" in a]

    response = jo.post(action)

    assert response["Location"] == f"/cases/{una.pk}/"
    assert 'data-testid="unread-count">1<' in jo.get("/notifications/bell/").content.decode()
    [left] = entries(jo.get("/notifications/panel/").content.decode())
    assert left.startswith(f"Case #{nina.pk} · Nina Newcomer")
    assert Notification.objects.get(recipient=other_agent).read_at is None


def test_mark_all_read_from_the_panel_empties_it_and_the_badge(agent, other_agent, una, nina):
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: still waiting")
    notify(recipient_id=agent.pk, kind=KIND.HANDED_OFF, case=nina, text="Refund for Nina")
    notify(recipient_id=other_agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: hi Priya")
    jo = client_for(agent)
    panel = jo.get("/notifications/panel/").content.decode()
    assert 'hx-post="/notifications/read/"' in panel
    assert "csrfmiddlewaretoken" in panel

    response = jo.post("/notifications/read/", headers={"HX-Request": "true"})

    swapped = response.content.decode()
    assert "No unread notifications." in swapped and entries(swapped) == []
    # The badge is swapped out of band, now without a count.
    assert 'id="bell"' in swapped and 'hx-swap-oob="true"' in swapped
    assert "Notifications, 0 unread" in swapped and "unread-count" not in swapped
    assert "unread-count" not in jo.get("/notifications/bell/").content.decode()
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=other_agent).read_at is None


def test_mark_all_read_needs_the_csrf_token(agent, una):
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: still waiting")
    jo = client_for(agent)
    jo.handler.enforce_csrf_checks = True

    assert jo.post("/notifications/read/", headers={"HX-Request": "true"}).status_code == 403
    assert Notification.objects.get().read_at is None


def test_nobody_reads_or_clears_someone_elses_notifications(agent, other_agent, una):
    notify(recipient_id=other_agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: hi Priya")
    jo = client_for(agent)

    assert entries(jo.get("/notifications/panel/").content.decode()) == []
    jo.post(f"/notifications/cases/{una.pk}/open/")
    jo.post("/notifications/read/")

    assert Notification.objects.get().read_at is None
    priya = client_for(other_agent).get("/notifications/panel/").content.decode()
    assert [e.split(" Una: ")[0] for e in entries(priya)] == [f"Case #{una.pk} · Una First"]


def test_pages_fetch_the_panel_only_when_the_bell_is_opened(agent, una):
    for n in range(3):
        notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text=f"Una: {n}")
    jo = client_for(agent, online=True)

    with CaptureQueriesContext(connection) as queries:
        page = jo.get("/").content.decode()

    notification_queries = [q["sql"] for q in queries if "tickets_notification" in q["sql"]]
    assert len(notification_queries) == 1  # the badge's count, and no grouping
    assert "Una: 2" not in page
    panel = re.search(r'<div class="notify-panel" ([^>]*)>', page)
    assert panel is not None
    assert 'hx-get="/notifications/panel/"' in panel.group(1)
    assert 'hx-trigger="toggle from:closest details"' in panel.group(1)
    assert "Una: 2" in jo.get("/notifications/panel/").content.decode()


def test_the_bell_is_a_named_disclosure_with_a_list(agent, una):
    notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=una, text="Una: still waiting")
    jo = client_for(agent)

    page = jo.get("/").content.decode()
    panel = jo.get("/notifications/panel/").content.decode()

    bell = re.search(r'<details class="notify-menu">\s*<summary>(.*?)</summary>', page, re.S)
    assert bell is not None
    # The summary's name is its text, less what is hidden from assistive technology.
    shown = re.sub(r'<(\w+)[^>]*aria-hidden="true"[^>]*>.*?</\1>', "", bell.group(1), flags=re.S)
    assert " ".join(re.sub(r"<[^>]+>", " ", shown).split()) == "Notifications, 1 unread"
    assert 'aria-hidden="true" data-testid="unread-count">1<' in bell.group(1)
    assert '<ul class="notify-list" aria-label="Unread notifications by case">' in panel
    assert '<button type="submit" class="link-button">Case #' in panel
    assert 'href="/notifications/">See all notifications</a>' in panel


def test_the_notifications_page_groups_by_case_and_pages(ingest, agent, other_agent):
    cases = [case_of(ingest, f"Customer {n}") for n in range(CASES_PER_PAGE + 2)]
    for case in cases:
        notify(recipient_id=agent.pk, kind=KIND.NEW_MESSAGE, case=case, text=f"From {case.pk}")
    notify(recipient_id=agent.pk, kind=KIND.MENTIONED, case=cases[0], text="@jo")
    Notification.objects.filter(case=cases[1]).update(read_at=cases[1].created_at)
    jo = client_for(agent)

    first = jo.get("/notifications/").content.decode()
    second = jo.get("/notifications/", {"page": 2}).content.decode()

    assert len(entries(first)) == CASES_PER_PAGE
    assert entries(first)[0].startswith(f"Case #{cases[0].pk} · Customer 0 @jo")
    assert entries(first)[0].endswith("+1 more: new message on your case")
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert [e.split(" From ")[0] for e in entries(second)] == [
        f"Case #{cases[2].pk} · Customer 2",
        f"Case #{cases[1].pk} · Customer 1",
    ]
    # Read cases stay listed on the page, no longer marked unread.
    assert re.search(rf'<li class="notify-case">\s*<form[^>]*/cases/{cases[1].pk}/', second)
