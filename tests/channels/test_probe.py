""" "Test connection" reaches each platform through its real client and says what it saw, or
what failed."""

import io

import pytest
from django.core.management import call_command

from channels.errors import FetchError
from channels.models import ChannelAccount
from channels.registry import platform_channel
from demo.sandbox import mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(sandbox, demo_traffic_lines):
    sandbox.state.load(demo_traffic_lines[:40])
    mail.deliver_visible(sandbox)
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    return {a.platform: a for a in ChannelAccount.objects.all()}


def probe(account):
    return platform_channel(account.platform).probe(account)


def test_x_says_who_it_signed_in_as_and_what_it_can_read(connected):
    said = probe(connected["x"])

    assert said.startswith("Signed in to X as @acme_care (user id ")
    assert "recent mentions readable" in said


def test_facebook_names_the_page_and_its_feed(connected):
    said = probe(connected["facebook"])

    assert said.startswith("Connected to the Facebook page 'Acme Home'")
    assert "on its feed readable" in said


def test_email_counts_the_mailbox_and_opens_the_smtp_server(connected):
    said = probe(connected["email"])

    assert "The Maildir " in said and " mails." in said
    assert "The SMTP server 127.0.0.1 accepted the connection" in said


@pytest.mark.parametrize(
    ("platform", "change", "reason"),
    [
        ("x", {"settings": {"api_base": "http://127.0.0.1:1"}}, "Could not read GET /2/users/me"),
        ("facebook", {"credentials": {"page_access_token": "wrong"}}, "Graph refused"),
        ("email", {"settings": {"smtp_port": 1}}, "The SMTP server 127.0.0.1:1 refused us"),
        ("email", {"settings": {"maildir": "/nonexistent"}}, "is not a Maildir"),
    ],
)
def test_a_wrong_setting_or_secret_is_named(connected, platform, change, reason):
    account = connected[platform]
    for field, values in change.items():
        setattr(account, field, {**getattr(account, field), **values})

    with pytest.raises(FetchError, match=reason):
        probe(account)
