"""A fresh install's first run, in the browser's pages and on the command line: the admin
(only with the setup key the server logs), a team, agents invited to choose a password, and
channel accounts connected after a test through the real clients."""

import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from channels.models import ChannelAccount
from demo.connect import sandbox_email_account, sandbox_x_account
from staff import onboarding, roles
from staff.models import Team
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

ADMIN = {
    "username": "amara",
    "display_name": "Amara Obi",
    "email": "amara@acme.example",
    "password": "kettle-lamp-sofa-42",
    "password_again": "kettle-lamp-sofa-42",
}


def test_the_first_visit_to_a_new_install_goes_to_the_setup():
    assert Client().get("/accounts/login/")["Location"] == "/setup/"


def test_the_setup_opens_only_with_the_key_the_server_logs(caplog):
    client = Client()

    refused = client.get("/setup/")

    assert refused.status_code == 403
    assert "setup key the server has just written to its log" in refused.text
    logged = re.search(r"/setup/\?key=(\w+)", caplog.text)
    assert logged and logged.group(1) == onboarding.setup_key()
    assert client.get("/setup/", {"key": "guess"}).status_code == 403
    assert 'name="password_again"' in client.get("/setup/", {"key": logged.group(1)}).text


def test_the_first_admin_is_created_and_signed_in():
    client = Client()

    response = client.post("/setup/", {**ADMIN, "key": onboarding.setup_key()})

    assert response["Location"] == "/setup/team/"
    admin = get_user_model().objects.get(username="amara")
    assert admin.is_staff and roles.role_names(admin) == [roles.ADMIN]
    assert client.get("/setup/team/").status_code == 200
    # Once a user exists, sign-in is sign-in again and the key opens nothing.
    assert Client().get("/accounts/login/").status_code == 200
    assert Client().post("/setup/", {**ADMIN, "key": onboarding.setup_key()}).status_code == 302
    assert get_user_model().objects.count() == 1


def test_a_weak_or_mistyped_password_is_refused_with_the_reason():
    client = Client()

    weak = client.post("/setup/", {**ADMIN, "password": "1234", "password_again": "1234",
                                   "key": onboarding.setup_key()})  # fmt: skip
    typo = client.post(
        "/setup/", {**ADMIN, "password_again": "kettle", "key": onboarding.setup_key()}
    )

    assert "This password is too short" in weak.text
    assert "The two passwords differ." in typo.text
    assert not get_user_model().objects.exists()


@pytest.fixture
def admin(db):
    return client_for(make_user("admin", roles.ADMIN))


def test_invited_agents_choose_their_password_from_the_mail_and_sign_in(
    admin, django_capture_on_commit_callbacks
):
    admin.post("/setup/team/", {"name": "Care team"})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
        "/setup/agents/",
            {"people": "Jo Lee, jo@acme.example, agent\nSam Ray, sam@acme.example, supervisor",
             "team": Team.objects.get().pk},
        )  # fmt: skip

    assert response["Location"] == "/setup/channels/"
    jo = get_user_model().objects.get(username="jo@acme.example")
    assert roles.role_names(jo) == [roles.AGENT] and not jo.has_usable_password()
    assert list(jo.agent_profile.teams.values_list("name", flat=True)) == ["Care team"]
    invitation = next(m for m in mail.outbox if m.to == ["jo@acme.example"])
    link = re.search(r"http://testserver(/accounts/reset/\S+)", invitation.body).group(1)
    visitor = Client()
    form_url = visitor.get(link, follow=True).redirect_chain[-1][0]
    visitor.post(
        form_url, {"new_password1": "teapot-garden-77", "new_password2": "teapot-garden-77"}
    )
    signed_in = Client().post(
        "/accounts/login/", {"username": "jo@acme.example", "password": "teapot-garden-77"}
    )
    assert signed_in["Location"] == "/"


def test_a_wrong_line_of_people_says_which_and_invites_nobody(admin):
    response = admin.post(
        "/setup/agents/", {"people": "Jo Lee, jo@acme.example, agent\nSam, not-an-address, boss"}
    )

    assert "Line 2: &#x27;not-an-address&#x27; is not an email address." in response.text
    assert not get_user_model().objects.filter(username="jo@acme.example").exists()
    assert mail.outbox == []


def test_only_admins_set_up(db):
    agent = client_for(make_user("agent", roles.AGENT))

    assert agent.get("/setup/channels/").status_code == 403


def _fields(platform: str, account: dict) -> dict[str, str]:
    values = {**account["settings"], **account["credentials"]}
    return {f"{platform}-{k}": str(v) for k, v in values.items() if not isinstance(v, bool)}


def test_a_channel_is_tested_through_its_client_then_connected(admin, sandbox):
    x = sandbox_x_account({"url": sandbox.url})

    tested = admin.post("/setup/channels/", {"platform": "x", "action": "test", **_fields("x", x)})

    assert "It works: Signed in to X as @acme_care" in tested.text
    assert not ChannelAccount.objects.exists()
    connected = admin.post(
        "/setup/channels/", {"platform": "x", "action": "connect", **_fields("x", x)}, follow=True
    )
    assert "Connected @acme_care." in connected.text
    assert ChannelAccount.objects.get().settings["api_base"] == sandbox.url


def test_a_channel_that_does_not_answer_is_not_connected(admin):
    fields = {"email-address": "care@acme.example", "email-mailbox": "maildir",
              "email-maildir": "/nonexistent", "email-smtp_host": "127.0.0.1"}  # fmt: skip

    response = admin.post("/setup/channels/", {"platform": "email", "action": "connect", **fields})

    assert "It did not work: /nonexistent is not a Maildir" in response.text
    assert not ChannelAccount.objects.exists()


def test_the_command_sets_up_a_new_install(sandbox, monkeypatch):
    monkeypatch.setenv("CAREINBOX_SETUP_PASSWORD", "kettle-lamp-sofa-42")
    email = sandbox_email_account(
        {"maildir": str(sandbox.maildir), "smtp_port": sandbox.smtp_port}
    )
    out = io.StringIO()

    call_command(
        "setup", username="amara", email="amara@acme.example", name="Amara Obi", team="Care",
        invite=["Jo Lee, jo@acme.example, agent"],
        connect=[("email", json.dumps(email["settings"]), json.dumps(email["credentials"]))],
        stdout=out,
    )  # fmt: skip

    said = out.getvalue()
    assert "Admin amara created" in said and "Invited Jo Lee <jo@acme.example> as agent." in said
    assert "Connected care@acme-home.example. The Maildir " in said
    assert [m.to for m in mail.outbox] == [["jo@acme.example"]]
    with pytest.raises(CommandError, match=r"was not connected: .* is not a Maildir"):
        call_command("setup", connect=[("email", '{"maildir": "/nope"}', "{}")], stdout=out)
