"""A session ends after CAREINBOX_SESSION_IDLE_MINUTES without a request, and not while the
person keeps working."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_session_ends_after_the_idle_time_and_not_while_used(agent, settings, clock):
    settings.SESSION_COOKIE_AGE = 30 * 60
    client = client_for(agent)
    inbox = reverse("workspace:inbox")

    for _ in range(3):  # each request moves the end on: 75 minutes of work, 25 at a time
        clock.at += timedelta(minutes=25)
        assert client.get(inbox).status_code == 200
    clock.at += timedelta(minutes=31)
    idle = client.get(inbox)

    assert idle.status_code == 302 and idle["Location"].startswith(reverse("login"))
