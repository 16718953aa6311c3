"""Satisfaction surveys: offered after a resolution on the customer's private channel only,
at most once per customer in the throttle's days, never on spam; answered by a short reply
that reopens nothing."""

from datetime import timedelta

import pytest

from cases.export import export_cases
from cases.inbox import inbox_page
from cases.models import Case, CaseEvent, Message, Survey
from casework import actions, surveys
from casework.merge import merge_customers
from tests.conftest import NOW, client_for
from tests.factories import AuthorFactory, InboundFactory
from tests.sandbox_events import event

pytestmark = pytest.mark.django_db


def resolve(case_id, by):
    actions.set_status(case_id=case_id, by=by, status=Case.Status.RESOLVED)


def write(ingest, author, text, *, at, channel="x.dm"):
    return ingest(InboundFactory(author=author, channel=channel, text=text, sent_at=at)).message


def test_a_resolved_case_gets_one_survey_by_direct_message(ingest, supervisor, clock):
    author = AuthorFactory()
    message = write(ingest, author, "@acme_care my router is dead", at=NOW, channel="x.mention")
    resolve(message.case_id, supervisor)

    survey = surveys.offer_survey(case_id=message.case_id)

    assert survey is not None and survey.channel == "x.dm"
    asking = survey.message
    assert asking.direction == Message.Direction.OUTBOUND and asking.channel == "x.dm"
    assert asking.parent == message and asking.author_user is None
    assert asking.delivery_status == Message.Delivery.QUEUED
    assert "1 (poor) to 5 (excellent)" in asking.text
    case = Case.objects.get(pk=message.case_id)
    assert case.first_response_at is None  # a survey is no agent's reply
    assert surveys.offer_survey(case_id=message.case_id) is None  # once per resolution


def test_the_inbox_row_shows_the_agents_reply_not_the_survey(ingest, supervisor, clock):
    message = write(ingest, AuthorFactory(), "My bill is wrong", at=NOW)
    actions.claim_case(case_id=message.case_id, agent=supervisor)
    actions.reply_to_case(case_id=message.case_id, agent=supervisor, text="Refunded the extra")
    resolve(message.case_id, supervisor)
    clock.at = NOW + timedelta(minutes=20)
    assert surveys.offer_survey(case_id=message.case_id) is not None

    [row] = inbox_page(user=supervisor, queue="resolved").rows
    assert row["snippet_outbound"] and row["snippet"].startswith("Refunded the extra")


def test_a_second_resolution_within_the_throttle_sends_none_and_after_it_sends(
    ingest, supervisor, clock
):
    author = AuthorFactory()
    first = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(first.case_id, supervisor)
    assert surveys.offer_survey(case_id=first.case_id) is not None

    clock.at = NOW + timedelta(days=2)
    again = write(ingest, author, "The bill is still wrong", at=clock.at)
    assert again.case_id == first.case_id  # reopened
    resolve(again.case_id, supervisor)
    assert surveys.offer_survey(case_id=again.case_id) is None

    clock.at = NOW + timedelta(days=31)
    later = write(ingest, author, "Now my router is broken", at=clock.at)
    assert later.case_id != first.case_id  # a new case
    resolve(later.case_id, supervisor)
    assert surveys.offer_survey(case_id=later.case_id) is not None
    assert Survey.objects.filter(customer=later.case.customer).count() == 2


def test_the_throttle_is_a_setting(ingest, supervisor, clock, settings):
    settings.CAREINBOX_SURVEY_THROTTLE_DAYS = 1
    author = AuthorFactory()
    first = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(first.case_id, supervisor)
    assert surveys.offer_survey(case_id=first.case_id) is not None

    clock.at = NOW + timedelta(days=2)
    again = write(ingest, author, "The bill is still wrong", at=clock.at)
    resolve(again.case_id, supervisor)
    assert surveys.offer_survey(case_id=again.case_id) is not None


def test_spam_gets_no_survey(ingest, supervisor, clock):
    message = write(ingest, AuthorFactory(), "Cheap followers here", at=NOW)
    actions.set_spam(case_id=message.case_id, by=supervisor, spam=True)
    resolve(message.case_id, supervisor)

    assert surveys.offer_survey(case_id=message.case_id) is None
    assert not Survey.objects.exists()


def test_a_case_reopened_before_the_survey_is_due_gets_none(ingest, supervisor, clock):
    message = write(ingest, AuthorFactory(), "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    actions.set_status(case_id=message.case_id, by=supervisor, status=Case.Status.OPEN)

    assert surveys.offer_survey(case_id=message.case_id) is None


def test_public_facebook_comments_alone_get_no_survey(ingest, supervisor, clock):
    comment = write(
        ingest, AuthorFactory(), "Is fibre coming to LS6?", at=NOW, channel="facebook.comment"
    )
    resolve(comment.case_id, supervisor)

    assert surveys.offer_survey(case_id=comment.case_id) is None
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_messenger_is_asked_only_inside_its_24_hour_window(ingest, supervisor, clock):
    author = AuthorFactory()
    late = write(
        ingest,
        author,
        "Where is my engineer?",
        at=NOW - timedelta(hours=25),
        channel="facebook.message",
    )
    resolve(late.case_id, supervisor)
    assert surveys.offer_survey(case_id=late.case_id) is None

    fresh = write(
        ingest,
        AuthorFactory(),
        "Where is my engineer?",
        at=NOW - timedelta(hours=2),
        channel="facebook.message",
    )
    resolve(fresh.case_id, supervisor)
    survey = surveys.offer_survey(case_id=fresh.case_id)
    assert survey is not None and survey.message.channel == "facebook.message"


def test_an_email_customer_gets_an_email_with_the_survey_link(ingest, supervisor, clock, settings):
    settings.CAREINBOX_SITE_URL = "https://care.example.com"
    author = AuthorFactory(external_id="ann@example.com")
    message = write(ingest, author, "My kettle leaks", at=NOW, channel="email")
    resolve(message.case_id, supervisor)

    survey = surveys.offer_survey(case_id=message.case_id)

    assert survey is not None and survey.message.channel == "email"
    assert f"https://care.example.com/survey/{survey.token}/" in survey.message.text
    assert survey.message.subject == f"How did we do? [#{message.case_id}]"


def test_resolving_queues_the_survey_after_the_commit(
    ingest, supervisor, clock, django_capture_on_commit_callbacks
):
    message = write(ingest, AuthorFactory(), "My bill is wrong", at=NOW)
    with django_capture_on_commit_callbacks() as callbacks:
        resolve(message.case_id, supervisor)
    assert len(callbacks) >= 1
    assert not Survey.objects.exists()  # nothing before the commit (and the delay)


@pytest.mark.parametrize(
    ("reply", "score"),
    [("5", 5), ("4 out of 5", 4), ("⭐⭐⭐", 3), ("terrible", 1), ("Muy bien!", 5)],
)
def test_a_short_reply_answers_the_survey_and_reopens_nothing(
    ingest, supervisor, clock, reply, score
):
    author = AuthorFactory()
    message = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    survey = surveys.offer_survey(case_id=message.case_id)
    before = Case.objects.get(pk=message.case_id)

    answer = write(ingest, author, reply, at=NOW + timedelta(minutes=20))

    survey.refresh_from_db()
    case = Case.objects.get(pk=message.case_id)
    assert survey.score == score and survey.answer == answer
    assert survey.answered_at == NOW + timedelta(minutes=20)
    assert answer.case_id == case.pk and not answer.needs_reply
    assert answer.no_reply_reason == f"Answer to the satisfaction survey: {score} of 5"
    assert case.status == Case.Status.RESOLVED
    clocks = ("awaiting_reply_since", "next_response_due_at", "last_inbound_at")
    assert [getattr(case, f) for f in clocks] == [getattr(before, f) for f in clocks]


def test_an_answer_after_the_reopen_window_joins_the_surveyed_case(
    ingest, supervisor, clock, settings
):
    settings.CAREINBOX_REOPEN_WINDOW = timedelta(hours=1)
    author = AuthorFactory()
    message = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    survey = surveys.offer_survey(case_id=message.case_id)

    answer = write(ingest, author, "4/5", at=NOW + timedelta(days=2))

    survey.refresh_from_db()
    assert answer.case_id == message.case_id and survey.score == 4
    assert Case.objects.get(pk=message.case_id).status == Case.Status.RESOLVED
    assert Case.objects.count() == 1


def test_a_message_that_is_not_a_rating_is_handled_as_usual(ingest, supervisor, clock):
    author = AuthorFactory()
    message = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    survey = surveys.offer_survey(case_id=message.case_id)

    again = write(ingest, author, "my order 5 is late again", at=NOW + timedelta(minutes=20))

    survey.refresh_from_db()
    assert survey.answered_at is None and survey.score is None
    assert again.needs_reply
    assert Case.objects.get(pk=message.case_id).status == Case.Status.OPEN


def test_a_rating_on_a_public_channel_answers_nothing(ingest, supervisor, clock):
    author = AuthorFactory()
    message = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    survey = surveys.offer_survey(case_id=message.case_id)

    write(ingest, author, "@acme_care 5", at=NOW + timedelta(minutes=20), channel="x.mention")

    survey.refresh_from_db()
    assert survey.answered_at is None


def test_only_the_first_rating_answers(ingest, supervisor, clock):
    author = AuthorFactory()
    message = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    survey = surveys.offer_survey(case_id=message.case_id)

    first = write(ingest, author, "5", at=NOW + timedelta(minutes=20))
    write(ingest, author, "1", at=NOW + timedelta(minutes=30))

    survey.refresh_from_db()
    assert survey.score == 5 and survey.answer == first


def test_a_page_answer_is_recorded_once(ingest, supervisor, clock):
    message = write(ingest, AuthorFactory(), "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    survey = surveys.offer_survey(case_id=message.case_id)

    first = surveys.answer_survey(token=survey.token, score=2)
    second = surveys.answer_survey(token=survey.token, score=5)

    assert first.recorded and not second.recorded
    survey.refresh_from_db()
    assert survey.score == 2
    with pytest.raises(surveys.SurveyNotFound):
        surveys.answer_survey(token="nope", score=3)


# Through the platform sandbox and the real X client.

SANDBOX_CUSTOMER = {"id": "431221750", "handle": "neilcarver", "name": "Neil Carver"}


@pytest.fixture
def surveyed(x_account, poll_sandbox, agent, sandbox, django_capture_on_commit_callbacks):
    """A public complaint answered in public, resolved: the survey goes by direct message."""
    complaint = poll_sandbox(
        x_account,
        event(
            "t1",
            "x.mention",
            "@acme_care no broadband",
            ago=timedelta(minutes=30),
            author=SANDBOX_CUSTOMER,
        ),
    )
    actions.claim_case(case_id=complaint.case_id, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reply_to_case(case_id=complaint.case_id, agent=agent, text="Fixed now, Neil")
    with django_capture_on_commit_callbacks(execute=True):
        actions.set_status(case_id=complaint.case_id, by=agent, status=Case.Status.RESOLVED)
    return Survey.objects.get(case=complaint.case_id)


def test_the_survey_goes_by_direct_message_never_in_public(surveyed, sandbox):
    sent = sandbox.state.sent("x")
    assert [o.kind for o in sent] == ["x.tweet", "x.dm"]  # the agent's reply, the survey
    dm = sent[1].payload
    assert "How did we do?" in dm["text"]
    assert "How did we do?" not in sent[0].payload["text"]
    surveyed.message.refresh_from_db()
    assert surveyed.message.delivery_status == Message.Delivery.SENT
    replies = CaseEvent.objects.filter(case=surveyed.case, kind=CaseEvent.Kind.REPLY_SENT)
    assert replies.count() == 1  # the agent's; the survey is no reply


def test_a_polled_rating_answers_and_leaves_the_case_resolved(surveyed, poll_sandbox, x_account):
    answer = poll_sandbox(
        x_account, event("d9", "x.dm", "4 out of 5", ago=timedelta(0), author=SANDBOX_CUSTOMER)
    )

    surveyed.refresh_from_db()
    case = Case.objects.get(pk=surveyed.case_id)
    assert surveyed.score == 4 and surveyed.answer == answer
    assert answer.case_id == case.pk and not answer.needs_reply
    assert case.status == Case.Status.RESOLVED and case.awaiting_reply_since is None


def test_the_export_gives_each_case_its_survey(ingest, supervisor, clock):
    author = AuthorFactory()
    surveyed = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(surveyed.case_id, supervisor)
    survey = surveys.offer_survey(case_id=surveyed.case_id)
    write(ingest, author, "⭐⭐⭐⭐", at=NOW + timedelta(minutes=20))
    write(ingest, AuthorFactory(), "Still waiting", at=NOW)

    rows = {row["subject"]: row["survey"] for row in export_cases()}

    assert rows == {
        "My bill is wrong": {
            "sent": survey.sent_at.isoformat(),
            "answered": (NOW + timedelta(minutes=20)).isoformat(),
            "score": 4,
        },
        "Still waiting": None,
    }


def test_the_case_page_shows_the_survey_and_its_answer(ingest, supervisor, clock):
    author = AuthorFactory()
    message = write(ingest, author, "My bill is wrong", at=NOW)
    resolve(message.case_id, supervisor)
    surveys.offer_survey(case_id=message.case_id)
    write(ingest, author, "5/5", at=NOW + timedelta(minutes=20))

    page = client_for(supervisor).get(f"/cases/{message.case_id}/").content.decode()

    assert "How did we do?" in page and '<span class="automated">survey</span>' in page
    assert "Answer to the satisfaction survey: 5 of 5" in page


def test_a_merged_customer_keeps_their_surveys_and_throttle(ingest, supervisor, clock):
    x_author, mail_author = AuthorFactory(), AuthorFactory(external_id="bo@example.com")
    tweeted = write(ingest, x_author, "My bill is wrong", at=NOW)
    resolve(tweeted.case_id, supervisor)
    survey = surveys.offer_survey(case_id=tweeted.case_id)
    mailed = write(ingest, mail_author, "About my bill", at=NOW, channel="email")
    resolve(mailed.case_id, supervisor)
    merge_customers(source=tweeted.case.customer, target=mailed.case.customer)

    assert surveys.offer_survey(case_id=mailed.case_id) is None  # one a month, merged too
    answer = write(ingest, x_author, "5", at=NOW + timedelta(minutes=20))

    survey.refresh_from_db()
    assert survey.customer_id == mailed.case.customer_id
    assert survey.score == 5 and survey.answer == answer
