"""Channel credentials are encrypted at rest, can move to a new key, and are never shown."""

import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from channels.models import ChannelAccount
from demo.connect import sandbox_facebook_account, sandbox_x_account
from demo.sandbox.state import Fault
from intake.polling import poll_account

pytestmark = pytest.mark.django_db

SECRET = "AAAAbearer-token-that-must-never-show"
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored(account) -> str:
    """The credentials column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM channels_in_channelaccount WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


@pytest.fixture
def account(settings):
    settings.CAREINBOX_ENCRYPTION_KEYS = [OLD_KEY]
    return ChannelAccount.objects.create(
        platform="x", name="@acme_care", credentials={"bearer_token": SECRET}
    )


def test_credentials_are_stored_encrypted_and_read_back(account):
    assert SECRET not in stored(account)
    assert Fernet(OLD_KEY).decrypt(stored(account).encode())  # a token of the configured key
    assert ChannelAccount.objects.get(pk=account.pk).credentials == {"bearer_token": SECRET}


def test_a_new_key_reads_old_tokens_and_rotation_moves_them_to_it(account, settings):
    settings.CAREINBOX_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert ChannelAccount.objects.get(pk=account.pk).credentials == {"bearer_token": SECRET}

    call_command("rotate_channel_secrets", stdout=io.StringIO())

    settings.CAREINBOX_ENCRYPTION_KEYS = [NEW_KEY]  # the old key dropped
    assert ChannelAccount.objects.get(pk=account.pk).credentials == {"bearer_token": SECRET}


def test_credentials_no_key_opens_read_as_empty_are_logged_and_fail_rotation(
    account, settings, caplog
):
    settings.CAREINBOX_ENCRYPTION_KEYS = [NEW_KEY]

    assert ChannelAccount.objects.get(pk=account.pk).credentials == {}
    assert "cannot be decrypted with CAREINBOX_ENCRYPTION_KEYS" in caplog.text
    with pytest.raises(CommandError, match=f"channel accounts \\[{account.pk}\\]"):
        call_command("rotate_channel_secrets", stdout=io.StringIO())


def test_the_admin_names_the_credentials_set_never_their_values_and_replaces_them(account, client):
    client.force_login(get_user_model().objects.create_superuser("admin", password="pw"))
    url = reverse("admin:channels_channelaccount_change", args=[account.pk])

    page = client.get(url).content.decode()
    assert "bearer_token: set" in page
    assert SECRET not in page and stored(account) not in page

    response = client.post(
        url,
        {
            "platform": "x",
            "name": "@acme_care",
            "settings": "{}",
            "enabled": "on",
            "poll_interval_seconds": "60",
            "poll_cursors": "{}",
            "poll_failures": "0",
            "set_credentials": '{"consumer_secret": "new-secret", "bearer_token": ""}',
        },
    )

    assert response.status_code == 302
    assert ChannelAccount.objects.get(pk=account.pk).credentials == {
        "consumer_secret": "new-secret"
    }


@pytest.mark.parametrize("platform", ["x", "facebook"])
@pytest.mark.parametrize("fault", ["server_error", "rate_limit", "malformed"])
def test_a_failing_poll_puts_no_credential_in_a_log_an_error_or_an_export(
    sandbox, caplog, client, fault, platform
):
    connect = sandbox_x_account if platform == "x" else sandbox_facebook_account
    account = ChannelAccount.objects.create(platform=platform, **connect({"url": sandbox.url}))
    secrets = [value for value in account.credentials.values() if value]
    assert secrets
    sandbox.state.add_fault(Fault(platform=platform, kind=fault, count=3))
    caplog.set_level(logging.DEBUG)

    poll_account(account=account)

    account.refresh_from_db()
    assert account.last_error  # the failure is recorded, in words
    client.force_login(get_user_model().objects.create_superuser("admin", password="pw"))
    pages = [
        client.get(reverse("admin:channels_channelaccount_changelist")).content.decode(),
        client.get(reverse("admin:channels_channelaccount_change", args=[account.pk])).content,
    ]
    exported = io.StringIO()
    call_command("export_cases", stdout=exported)
    # The sandbox logs the platform's side, as the platform would: not ours to keep clean.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("demo.")]
    seen = [*ours, account.last_error, exported.getvalue(), *map(str, pages)]
    assert not [secret for secret in secrets for text in seen if secret in text]
