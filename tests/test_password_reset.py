"""A forgotten password is reset by email: a link to the account's address that works once."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

NEW = "a-new-long-passphrase-9"


def test_a_link_by_email_sets_a_new_password_once(client: Client):
    get_user_model().objects.create_user("kim", email="kim@example.org", password="forgotten")
    assert "Forgot your password?" in client.get(reverse("login")).content.decode()

    asked = client.post(reverse("password_reset"), {"email": "kim@example.org"})

    assert asked.status_code == 302 and asked["Location"] == reverse("password_reset_done")
    (sent,) = mail.outbox
    assert sent.to == ["kim@example.org"] and "kim" in sent.body
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", sent.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}, follow=True
    )
    assert "Your new password is set" in done.content.decode()
    signed_in = Client().post(reverse("login"), {"username": "kim", "password": NEW})
    assert signed_in.status_code == 302
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_email(client: Client):
    asked = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert asked.status_code == 302 and asked["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
