"""What people do to a case: claim, release, hand off, reassign, reply, note, status, priority,
tags and spam, as the services decide it, including two agents acting at the same moment."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from cases.models import CannedResponse, Case, CaseEvent, Message
from casework import actions
from casework.exceptions import ActionNotAllowed, CaseTaken, ReplyNotPossible
from casework.merge import merge_customers
from customers.models import Customer
from notifications.models import Notification
from staff.models import Team
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db

BARRIER_TIMEOUT_SECONDS = 30


@pytest.fixture
def case(ingest):
    author = AuthorFactory(display_name="Neil Carver", handle="neilcarver")
    return ingest(author=author, text="@acme_care my HomeHub is flashing orange").message.case


def kinds(case):
    return list(case.events.order_by("pk").values_list("kind", flat=True))


def test_claiming_an_unassigned_case_opens_it_and_records_who(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    case.refresh_from_db()
    assert (case.assignee, case.status) == (agent, Case.Status.OPEN)
    assert kinds(case)[-2:] == ["status_changed", "claimed"]


def test_claiming_a_case_someone_holds_names_them(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=other_agent)

    with pytest.raises(CaseTaken, match=f"Priya Shah has already claimed case #{case.pk}"):
        actions.claim_case(case_id=case.pk, agent=agent)
    case.refresh_from_db()
    assert case.assignee == other_agent


def test_a_manager_cannot_claim(case, manager):
    with pytest.raises(ActionNotAllowed, match="may not claim"):
        actions.claim_case(case_id=case.pk, agent=manager)
    case.refresh_from_db()
    assert case.assignee is None


def test_an_agent_cannot_release_a_colleagues_case_but_a_supervisor_can(
    case, agent, other_agent, supervisor
):
    actions.claim_case(case_id=case.pk, agent=other_agent)

    with pytest.raises(CaseTaken, match="Priya Shah has case"):
        actions.release_case(case_id=case.pk, agent=agent)
    actions.release_case(case_id=case.pk, agent=supervisor)

    case.refresh_from_db()
    assert case.assignee is None
    released = case.events.get(kind=CaseEvent.Kind.RELEASED)
    assert (released.actor, released.data["from"]) == (supervisor, other_agent.pk)


def test_a_reply_claims_an_unassigned_case_and_is_queued_signed(case, agent):
    reply = actions.reply_to_case(case_id=case.pk, agent=agent, text="Sorry!\r\nTry a restart.")

    case.refresh_from_db()
    assert case.assignee == agent
    assert (reply.direction, reply.delivery_status) == ("outbound", "queued")
    assert reply.text == "Sorry!\nTry a restart. ^JL"
    assert case.events.filter(kind="claimed", data__by_reply=True).exists()


def test_a_reply_after_the_case_was_reassigned_meanwhile_is_refused(
    case, agent, other_agent, supervisor
):
    actions.claim_case(case_id=case.pk, agent=agent)
    actions.reassign_case(case_id=case.pk, by=supervisor, to_user_id=other_agent.pk)

    with pytest.raises(CaseTaken, match=r"Priya Shah has case #\d+, so you cannot reply to it"):
        actions.reply_to_case(case_id=case.pk, agent=agent, text="On it!")
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_a_reply_to_a_message_of_another_case_is_refused(case, agent, ingest):
    other = ingest().message

    with pytest.raises(ActionNotAllowed, match=f"Message {other.pk} is not on case"):
        actions.reply_to_case(case_id=case.pk, agent=agent, text="Hi", answering_id=other.pk)


def test_an_empty_reply_is_refused_with_the_next_step(case, agent):
    with pytest.raises(ReplyNotPossible, match="The reply is empty"):
        actions.reply_to_case(case_id=case.pk, agent=agent, text="   ")


@pytest.fixture
def canned(db):
    return CannedResponse.objects.create(
        title="Restart", text="Hi {first_name}, please restart it. {agent_first_name}"
    )


def test_canned_text_is_filled_in_for_the_case_and_agent(case, agent, canned):
    text = actions.render_canned(canned=canned, case=case, agent=agent)

    assert text == "Hi Neil, please restart it. Jo"


def test_a_canned_response_sent_without_an_edit_asks_for_confirmation(case, agent, canned):
    text = actions.render_canned(canned=canned, case=case, agent=agent)

    with pytest.raises(actions.CannedUnchanged, match="“Restart” without a single edit"):
        actions.reply_to_case(case_id=case.pk, agent=agent, text=text, canned_id=canned.pk)
    assert not Message.objects.filter(direction="outbound").exists()

    actions.reply_to_case(
        case_id=case.pk, agent=agent, text=text, canned_id=canned.pk, send_unchanged=True
    )
    assert Message.objects.filter(direction="outbound").count() == 1


def test_an_edited_canned_response_goes_out_at_once(case, agent, canned):
    text = actions.render_canned(canned=canned, case=case, agent=agent) + " Thanks!"

    reply = actions.reply_to_case(case_id=case.pk, agent=agent, text=text, canned_id=canned.pk)

    assert reply.text.endswith("Thanks! ^JL")


def test_a_hand_off_needs_a_note(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    with pytest.raises(ActionNotAllowed, match="A hand-off needs a note"):
        actions.hand_off_case(case_id=case.pk, by=agent, note="  ", to_user_id=other_agent.pk)
    case.refresh_from_db()
    assert case.assignee == agent
    assert not Notification.objects.exists()


def test_a_hand_off_passes_the_case_with_its_note_and_notifies(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    actions.hand_off_case(
        case_id=case.pk,
        by=agent,
        note="Refund approved, send the label.",
        to_user_id=other_agent.pk,
    )

    case.refresh_from_db()
    assert case.assignee == other_agent
    event = case.events.get(kind=CaseEvent.Kind.HANDED_OFF)
    assert (
        event.data.items()
        >= {
            "from_name": "Jo Lee",
            "to_name": "Priya Shah",
            "note": "Refund approved, send the label.",
        }.items()
    )
    notification = Notification.objects.get()
    assert notification.recipient == other_agent
    assert notification.text == (
        f"Jo Lee handed off case #{case.pk} to you: Refund approved, send the label."
    )


def test_a_hand_off_to_a_team_notifies_its_agents_and_leaves_it_unassigned(
    case, agent, other_agent, supervisor
):
    team = Team.objects.create(name="Returns")
    other_agent.agent_profile.teams.add(team)
    supervisor.agent_profile.teams.add(team)
    actions.claim_case(case_id=case.pk, agent=agent)

    actions.hand_off_case(case_id=case.pk, by=agent, note="Needs a return.", to_team_id=team.pk)

    case.refresh_from_db()
    assert (case.assignee, case.team) == (None, team)
    assert set(Notification.objects.values_list("recipient", flat=True)) == {
        other_agent.pk,
        supervisor.pk,
    }


def test_only_the_holder_hands_off(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=other_agent)

    with pytest.raises(CaseTaken, match=r"Priya Shah has case #\d+, so you cannot hand it off"):
        actions.hand_off_case(case_id=case.pk, by=agent, note="Mine now", to_user_id=agent.pk)


def test_agents_may_not_reassign(case, agent, other_agent):
    with pytest.raises(ActionNotAllowed, match="Jo Lee may not reassign cases"):
        actions.reassign_case(case_id=case.pk, by=agent, to_user_id=other_agent.pk)
    case.refresh_from_db()
    assert case.assignee is None


def test_a_supervisor_reassigns_a_held_case_and_the_new_holder_is_told(
    case, agent, other_agent, supervisor
):
    actions.claim_case(case_id=case.pk, agent=agent)

    actions.reassign_case(
        case_id=case.pk, by=supervisor, to_user_id=other_agent.pk, note="Jo is off today."
    )

    case.refresh_from_db()
    assert case.assignee == other_agent
    assert Notification.objects.get(recipient=other_agent).text.endswith(": Jo is off today.")


def test_a_case_cannot_go_to_someone_who_does_not_work_cases(case, agent, manager):
    with pytest.raises(ActionNotAllowed, match="cannot work cases"):
        actions.hand_off_case(case_id=case.pk, by=agent, note="Over to you", to_user_id=manager.pk)


def test_a_mention_in_a_note_notifies_that_colleague_only(case, agent, other_agent, manager):
    note = actions.add_note(
        case_id=case.pk,
        author=agent,
        text="@PRIYA, can you check the order? Not @mo or @nobody. Mail me@example.org.",
    )

    assert (note.direction, note.author_user) == ("note", agent)
    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.kind) == (other_agent, "mentioned")
    assert "Jo Lee mentioned you on case" in notification.text
    assert case.events.get(kind="note_added").data == {"mentioned": [other_agent.pk]}


def test_an_empty_note_is_refused(case, agent):
    with pytest.raises(ActionNotAllowed, match="The note is empty"):
        actions.add_note(case_id=case.pk, author=agent, text=" \r\n ")


def test_only_the_holder_resolves_a_held_case(case, agent, other_agent, supervisor):
    actions.claim_case(case_id=case.pk, agent=other_agent)

    with pytest.raises(CaseTaken, match="Priya Shah has case"):
        actions.set_status(case_id=case.pk, by=agent, status=Case.Status.RESOLVED)
    actions.set_status(case_id=case.pk, by=supervisor, status=Case.Status.RESOLVED)

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and case.resolved_at is not None


def test_a_case_cannot_be_closed_by_hand(case, agent):
    with pytest.raises(ActionNotAllowed, match="cannot be set to \u201cclosed\u201d by hand"):
        actions.set_status(case_id=case.pk, by=agent, status=Case.Status.CLOSED)


def test_priority_tags_and_spam_are_recorded(case, agent):
    actions.set_priority(case_id=case.pk, by=agent, priority=Case.Priority.URGENT)
    actions.set_tags(case_id=case.pk, by=agent, names=["HomeHub ", "wifi", "", "homehub"])
    actions.set_spam(case_id=case.pk, by=agent, spam=True)

    case.refresh_from_db()
    assert case.priority == "urgent" and case.spam
    assert sorted(case.tags.values_list("name", flat=True)) == ["homehub", "wifi"]
    assert kinds(case)[-3:] == ["priority_changed", "tags_changed", "marked_spam"]


def test_status_priority_and_tags_are_updated_together_each_recorded(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    actions.update_case(
        case_id=case.pk, by=agent, status="pending", priority="high", tags=["Router"]
    )

    case.refresh_from_db()
    assert (case.status, case.priority) == ("pending", "high")
    assert list(case.tags.values_list("name", flat=True)) == ["router"]
    assert kinds(case)[-3:] == ["status_changed", "priority_changed", "tags_changed"]


def test_an_update_refused_in_part_changes_nothing(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=other_agent)
    before = kinds(case)

    with pytest.raises(CaseTaken, match="so you cannot change its status"):
        actions.update_case(
            case_id=case.pk, by=agent, status="resolved", priority="urgent", tags=["x"]
        )
    # The status as it is, left alone: a colleague's case takes priority and tags.
    actions.update_case(case_id=case.pk, by=agent, status="open", priority="urgent")

    case.refresh_from_db()
    assert (case.status, case.priority, case.tags.count()) == ("open", "urgent", 0)
    assert kinds(case) == [*before, "priority_changed"]


def test_a_reply_then_sets_the_status(case, agent):
    actions.reply_to_case(case_id=case.pk, agent=agent, text="Sorted.", then_status="resolved")

    case.refresh_from_db()
    assert (case.status, case.assignee) == ("resolved", agent)
    assert case.messages.filter(direction="outbound", delivery_status="queued").count() == 1


def test_a_refused_reply_sets_no_status(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    with pytest.raises(ReplyNotPossible):
        actions.reply_to_case(case_id=case.pk, agent=agent, text=" ", then_status="resolved")
    with pytest.raises(ActionNotAllowed, match="cannot be set to \u201cclosed\u201d by hand"):
        actions.reply_to_case(case_id=case.pk, agent=agent, text="Hi", then_status="closed")

    case.refresh_from_db()
    assert case.status == "open"
    assert not case.messages.filter(direction="outbound").exists()


def test_a_case_folded_into_another_refuses_actions_and_points_on(case, agent, ingest):
    target_message = ingest(channel="email", author=AuthorFactory()).message
    merge_customers(source=case.customer, target=Customer.objects.get(cases=target_message.case))

    with pytest.raises(ActionNotAllowed, match=f"merged into case #{target_message.case_id}"):
        actions.claim_case(case_id=case.pk, agent=agent)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the race needs real commits and row locks
def test_two_agents_claiming_at_once_one_wins_and_the_other_is_told_who(case, agent, other_agent):
    barrier = threading.Barrier(2)

    def claim(user):
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            actions.claim_case(case_id=case.pk, agent=user)
            return None
        except CaseTaken as taken:
            return str(taken)
        finally:
            connection.close()

    for _ in range(5):
        case.refresh_from_db()
        if case.assignee_id:
            actions.release_case(case_id=case.pk, agent=case.assignee)
        with ThreadPoolExecutor(2) as pool:
            errors = list(pool.map(claim, [agent, other_agent]))

        case.refresh_from_db()
        winner = case.assignee
        assert winner in (agent, other_agent)
        [error] = [e for e in errors if e is not None]
        assert error == f"{winner.agent_profile.display_name} has already claimed case #{case.pk}."
    assert case.events.filter(kind="claimed").count() == 5
