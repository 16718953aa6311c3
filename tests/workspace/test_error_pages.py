"""A page that is not there, or not allowed, is answered inside the app: with the top bar and
a way back, not the framework's bare page."""

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_an_unknown_case_is_answered_with_the_app_s_own_page(agent):
    page = client_for(agent).get("/cases/999999/")

    assert page.status_code == 404
    text = page.content.decode()
    assert '<header class="topbar">' in text
    assert "Not found" in text and "Back to the inbox" in text


def test_an_unknown_queue_says_so(agent):
    page = client_for(agent).get("/", {"queue": "bogus"})

    assert page.status_code == 404
    assert "There is no queue &#x27;bogus&#x27;" in page.content.decode()


def test_the_bell_is_drawn_not_an_emoji_a_font_may_lack(agent):
    text = client_for(agent).get("/").content.decode()

    bell = text[text.index('class="bell"') :][:900]
    assert '<svg class="bell-icon"' in bell
    assert "\U0001f514" not in text and "&#128276;" not in text
