"""Sessions: read with a prepared statement, as Django's database backend reads them."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from careinbox.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_saved_session_reads_back():
    store = SessionStore()
    store["case"] = 42
    store.save()

    again = SessionStore(session_key=store.session_key)

    assert again["case"] == 42
    assert again.session_key == store.session_key


def test_an_expired_or_unknown_session_reads_as_a_new_one():
    store = SessionStore()
    store["case"] = 42
    store.save()
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    for key in [store.session_key, "no-such-session-key-at-all-here"]:
        again = SessionStore(session_key=key)
        assert "case" not in again
        assert again.session_key is None
