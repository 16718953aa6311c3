"""Password guessing is stopped: after a few failures for one account, or from one address,
sign-in is refused for a while, on the workspace's form and the admin's alike, until the
pause ends or an admin lifts it."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

FORMS = ["login", "admin:login"]


@pytest.fixture
def kim(db):
    return get_user_model().objects.create_user("kim", password="right-password", is_staff=True)


def sign_in(client: Client, form: str, username: str, password: str):
    return client.post(reverse(form), {"username": username, "password": password})


@pytest.mark.parametrize("form", FORMS)
def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(kim, settings, form):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, form, "kim", "guess").status_code == 200  # the form again
    assert sign_in(client, form, "kim", "guess").status_code == 429  # the last allowed

    locked = sign_in(client, form, "kim", "right-password")

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_many_accounts_guessed_from_one_address_lock_the_address(kim, settings):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "login", f"user{n}", "guess")

    assert sign_in(client, "login", "kim", "right-password").status_code == 429
    other_address = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(other_address, "login", "kim", "right-password").status_code == 302


def test_a_lock_ends_when_an_admin_lifts_it_in_the_admin(kim, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "login", "kim", "guess")
    assert sign_in(client, "login", "kim", "right-password").status_code == 429
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", password="x"))
    attempts = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert attempts.status_code == 200 and "kim" in attempts.content.decode()

    for attempt in AccessAttempt.objects.filter(username="kim"):
        admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert sign_in(client, "login", "kim", "right-password").status_code == 302


def test_behind_the_trusted_proxy_each_client_address_is_counted_apart(kim, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    guesser = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(guesser, "login", f"user{n}", "guess")

    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert sign_in(guesser, "login", "kim", "right-password").status_code == 429
    assert sign_in(colleague, "login", "kim", "right-password").status_code == 302


def test_admins_see_every_sign_in_and_every_failure(kim):
    sign_in(Client(REMOTE_ADDR="203.0.113.9"), "login", "kim", "guess")
    sign_in(Client(REMOTE_ADDR="198.51.100.7"), "admin:login", "kim", "right-password")
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", password="x"))

    failures = admin.get(reverse("admin:axes_accessfailurelog_changelist")).content.decode()
    sign_ins = admin.get(reverse("admin:axes_accesslog_changelist")).content.decode()

    assert "kim" in failures and "203.0.113.9" in failures and "198.51.100.7" not in failures
    assert "kim" in sign_ins and "198.51.100.7" in sign_ins
