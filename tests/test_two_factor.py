"""Two-factor sign-in: after the password, a code from an authenticator app (TOTP), required
of admins and supervisors when ``CAREINBOX_REQUIRE_TWO_FACTOR`` is on, and open to anyone."""

import re
from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import roles
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, form: str = "login"):
    return client.post(reverse(form), {"username": username, "password": "pw"})


def code_for(key: str, *, step: int = 0) -> str:
    """The code an authenticator app holding ``key`` (as the set-up page writes it) shows,
    ``step`` periods of 30 s from now. A code once accepted is never accepted again, so a
    test that signs in again within the same 30 s types the next one (step=1), as the
    app would show it a little later (one period of clock drift is allowed)."""
    secret = b32decode(key.replace(" ", "") + "=" * (-len(key.replace(" ", "")) % 8))
    return f"{totp(secret, t0=-step * 30):06d}"


def set_up_app(client: Client) -> str:
    """Scan the set-up page's key and confirm it with the app's code; returns the key."""
    page = client.get(reverse("two_factor_setup")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code
    key = re.search(r'<code class="otp-key">([A-Z2-7 ]+)</code>', page).group(1)
    confirmed = client.post(reverse("two_factor_setup"), {"code": code_for(key)}, follow=True)
    assert "Two-factor sign-in is on" in confirmed.content.decode()
    return key


def back_at_the_code_page(client: Client) -> str:
    """Kim, an agent, sets up an app, signs out and signs in again: the session owes the
    code. Returns the app's key."""
    make_user("kim", roles.AGENT)
    sign_in(client, "kim")
    key = set_up_app(client)
    client.post(reverse("logout"))
    sign_in(client, "kim")
    return key


def test_with_an_app_set_up_every_page_waits_for_the_code(client: Client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no wait after the wrong code here
    make_user("kim", roles.AGENT)
    sign_in(client, "kim")
    key = set_up_app(client)
    client.post(reverse("logout"))

    signed_in = sign_in(client, "kim")

    assert signed_in.status_code == 302
    for page in ["/", "/cases/1/", "/admin/", "/queues/"]:
        held = client.get(page)
        assert held.status_code == 302
        assert held["Location"].startswith(reverse("two_factor_verify") + "?next=")
    htmx = client.get("/queues/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"].startswith(reverse("two_factor_verify"))
    asked = client.get(reverse("two_factor_verify"), {"next": "/?queue=mine"})
    assert "Type your sign-in code" in asked.content.decode()
    assert 'id="queue-counts"' not in asked.content.decode()  # no workspace around it yet

    wrong = client.post(reverse("two_factor_verify"), {"code": "000000", "next": "/"})
    assert wrong.status_code == 400
    assert "That code did not match" in wrong.content.decode()
    assert client.get("/").status_code == 302

    right = client.post(
        reverse("two_factor_verify"), {"code": code_for(key, step=1), "next": "/?queue=mine"}
    )
    assert right.status_code == 302 and right["Location"] == "/?queue=mine"
    assert client.get("/").status_code == 200


def test_a_right_code_right_after_a_wrong_one_waits(client: Client):
    key = back_at_the_code_page(client)

    client.post(reverse("two_factor_verify"), {"code": "000000"})
    refused = client.post(reverse("two_factor_verify"), {"code": code_for(key, step=1)})

    assert "after each wrong code the next try waits longer" in refused.content.decode()
    assert client.get("/").status_code == 302


def test_a_code_from_another_key_or_an_old_one_is_refused(client: Client):
    key = back_at_the_code_page(client)

    stale = client.post(reverse("two_factor_verify"), {"code": code_for(key, step=-5)})

    assert stale.status_code == 400


@pytest.mark.parametrize("role, staff", [(roles.SUPERVISOR, False), (roles.ADMIN, True)])
def test_when_required_supervisors_and_admins_set_up_an_app_before_anything_else(
    client: Client, settings, role, staff
):
    settings.CAREINBOX_REQUIRE_TWO_FACTOR = True
    user = make_user("sam", role)
    user.is_staff = staff
    user.save()

    sign_in(client, "sam")
    held = client.get("/")
    assert held["Location"].startswith(reverse("two_factor_setup"))
    page = client.get(held["Location"]).content.decode()
    assert "needs a code from an authenticator app" in page

    key = set_up_app(client)

    assert client.get("/").status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed
    client.post(reverse("logout"))
    sign_in(client, "sam")
    assert client.get("/")["Location"].startswith(reverse("two_factor_verify"))
    client.post(reverse("two_factor_verify"), {"code": code_for(key, step=1)})
    assert client.get("/").status_code == 200


def test_the_admin_sign_in_form_asks_for_the_code_too(client: Client, settings):
    settings.CAREINBOX_REQUIRE_TWO_FACTOR = True
    user = make_user("ada", roles.ADMIN)
    user.is_staff = True
    user.save()

    sign_in(client, "ada", form="admin:login")

    assert client.get("/admin/")["Location"].startswith(reverse("two_factor_setup"))


def test_agents_are_not_asked_unless_they_choose_it(client: Client, settings):
    settings.CAREINBOX_REQUIRE_TWO_FACTOR = True
    make_user("jo", roles.AGENT)

    sign_in(client, "jo")

    assert client.get("/").status_code == 200
    menu = client.get("/").content.decode()
    assert reverse("two_factor_setup") in menu


def test_a_new_app_replaces_the_old_one(client: Client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    make_user("kim", roles.AGENT)
    sign_in(client, "kim")
    old = set_up_app(client)
    new = set_up_app(client)
    client.post(reverse("logout"))
    sign_in(client, "kim")

    verify = reverse("two_factor_verify")
    assert client.post(verify, {"code": code_for(old, step=1)}).status_code == 400
    assert client.post(verify, {"code": code_for(new, step=1)}).status_code == 302


def test_the_next_page_must_be_on_this_site(client: Client):
    key = back_at_the_code_page(client)

    went = client.post(
        reverse("two_factor_verify"),
        {"code": code_for(key, step=1), "next": "https://evil.example/"},
    )

    assert went["Location"] == "/"


def test_a_code_once_used_cannot_sign_in_again(client: Client):
    key = back_at_the_code_page(client)
    client.post(reverse("two_factor_verify"), {"code": code_for(key, step=1)})
    client.post(reverse("logout"))

    sign_in(client, "kim")
    replayed = client.post(reverse("two_factor_verify"), {"code": code_for(key, step=1)})

    assert replayed.status_code == 400
    assert client.get("/").status_code == 302


def test_an_admin_removes_a_lost_phone_and_the_user_sets_up_a_new_one(client: Client, settings):
    admin = Client()  # signed in before two-factor sign-in was required
    admin.force_login(get_user_model().objects.create_superuser("root", password="x"))
    settings.CAREINBOX_REQUIRE_TWO_FACTOR = True
    sam = make_user("sam", roles.SUPERVISOR)
    sign_in(client, "sam")
    set_up_app(client)
    client.post(reverse("logout"))
    (device,) = TOTPDevice.objects.filter(user=sam)
    listed = admin.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    assert "sam" in listed

    admin.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})

    sign_in(client, "sam")
    assert client.get("/")["Location"].startswith(reverse("two_factor_setup"))
