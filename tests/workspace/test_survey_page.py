"""The survey page an email's link opens: public, one answer recorded once, and an unknown
link told so in words."""

import pytest
from django.test import Client

from cases.models import Case
from casework import actions, surveys
from tests.conftest import NOW
from tests.factories import AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(ingest, supervisor, clock):
    author = AuthorFactory(external_id="ann@example.com")
    message = ingest(InboundFactory(author=author, channel="email", sent_at=NOW)).message
    actions.set_status(case_id=message.case_id, by=supervisor, status=Case.Status.RESOLVED)
    return surveys.offer_survey(case_id=message.case_id)


def test_the_page_offers_five_scores_to_anyone_with_the_link(survey):
    page = Client().get(f"/survey/{survey.token}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "How did we do?" in html
    assert all(f'name="score" value="{n}"' in html for n in range(1, 6))
    assert 'name="nps"' not in html
    assert "<script" not in html  # the site's CSP allows no inline script


def test_an_answer_is_recorded_once_and_a_second_changes_nothing(survey):
    client = Client()

    first = client.post(f"/survey/{survey.token}/", {"score": "4"})
    second = client.post(f"/survey/{survey.token}/", {"score": "1"})

    assert "We have your answer: 4 out of 5." in first.content.decode()
    assert "You answered this survey already" in second.content.decode()
    survey.refresh_from_db()
    assert survey.score == 4 and survey.answered_at is not None and survey.answer is None
    again = client.get(f"/survey/{survey.token}/").content.decode()
    assert "You answered this survey already" in again


def test_with_nps_on_the_page_asks_for_a_recommendation_too(survey, settings):
    settings.CAREINBOX_SURVEY_NPS = True
    client = Client()

    html = client.get(f"/survey/{survey.token}/").content.decode()
    assert all(f'name="nps" value="{n}"' in html for n in range(11))
    client.post(f"/survey/{survey.token}/", {"score": "5", "nps": "9"})

    survey.refresh_from_db()
    assert (survey.score, survey.nps) == (5, 9)


def test_a_score_outside_one_to_five_is_refused(survey):
    page = Client().post(f"/survey/{survey.token}/", {"score": "7"})

    assert page.status_code == 400
    assert "Choose a score from 1 (poor) to 5 (excellent)" in page.content.decode()
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_an_unknown_link_says_there_is_no_survey(db):
    page = Client().get("/survey/not-a-token/")

    assert page.status_code == 404
    assert "There is no survey at this address" in page.content.decode()
