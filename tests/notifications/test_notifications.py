"""The bell: hand-offs, mentions and new messages on my cases reach me, and only me."""

import pytest

from casework import actions
from notifications.models import Notification
from staff import presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(ingest):
    return ingest(text="Where is it?").message.case


def test_a_new_message_on_my_case_rings_my_bell(client, ingest, agent, case):
    actions.claim_case(case_id=case.pk, agent=agent)
    author = case.messages.get().author_identity
    ingest(author__external_id=author.external_id, text="Hello again, still waiting")
    client.force_login(agent)

    bell = client.get("/notifications/bell/").content.decode()
    page = client.get("/notifications/").content.decode()

    assert 'data-testid="unread-count">1<' in bell
    assert "Hello again, still waiting" in page


def test_opening_a_notification_marks_it_read_and_goes_to_its_case(
    client, agent, other_agent, case
):
    actions.hand_off_case(
        case_id=case.pk, by=other_agent, to_user_id=agent.pk, note="Needs a refund"
    )
    notification = Notification.objects.get(recipient=agent)
    client.force_login(agent)

    response = client.post(f"/notifications/cases/{case.pk}/open/")

    assert response["Location"] == f"/cases/{case.pk}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "unread-count" not in client.get("/notifications/bell/").content.decode()


def test_nobody_opens_someone_elses_notification(client, agent, other_agent, case):
    actions.add_note(case_id=case.pk, author=other_agent, text="@jo can you look?")
    notification = Notification.objects.get(recipient=agent)
    client.force_login(other_agent)

    client.post(f"/notifications/cases/{case.pk}/open/")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_clears_only_my_bell(client, agent, other_agent, supervisor, case):
    actions.add_note(case_id=case.pk, author=supervisor, text="@jo and @priya: priority customer")
    client.force_login(agent)

    client.post("/notifications/read/")

    assert Notification.objects.get(recipient=agent).read_at is not None
    assert Notification.objects.get(recipient=other_agent).read_at is None


def test_presence_lists_others_repliers_first_and_lapses(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(presence.time, "time", lambda: clock[0])
    presence.report(case_id=1, user_id=1, name="Jo Lee", activity="viewing")
    presence.report(case_id=1, user_id=2, name="Priya Shah", activity="replying")
    presence.report(case_id=1, user_id=3, name="Ann Bell", activity="viewing")

    assert presence.others(case_id=1, user_id=1) == [
        ("Priya Shah", "replying"),
        ("Ann Bell", "viewing"),
    ]
    clock[0] += presence.LAPSE_SECONDS + 1
    presence.report(case_id=1, user_id=3, name="Ann Bell", activity="viewing")
    assert presence.others(case_id=1, user_id=1) == [("Ann Bell", "viewing")]
