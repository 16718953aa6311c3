"""The polling service, on the X channel against the sandbox: cursors, back-off, locking."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.models import Message
from channels.locks import exclusive
from channels.models import ChannelAccount
from demo.connect import sandbox_x_account
from demo.sandbox.state import Fault
from intake.polling import due_accounts, poll_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def x_account(sandbox, demo_traffic_lines):
    x_lines = [line for line in demo_traffic_lines if json.loads(line)["channel"] == "x.mention"]
    sandbox.state.load(x_lines[:12])
    fields = sandbox_x_account({"url": sandbox.url})
    return ChannelAccount.objects.create(platform="x", **fields)


def test_poll_stores_every_message_once_and_a_second_poll_adds_nothing(x_account):
    first = poll_account(account=x_account)
    second = poll_account(account=x_account)

    assert (first.stored, first.failed) == (12, False)
    assert (second.fetched, second.stored) == (0, 0)
    x_account.refresh_from_db()
    assert x_account.poll_cursors["mentions_since_id"]
    assert x_account.last_success_at is not None and x_account.last_error == ""


def test_rate_limit_backs_off_until_the_platforms_reset_time(x_account, sandbox):
    sandbox.state.add_fault(Fault(platform="x", kind="rate_limit", seconds=120))

    result = poll_account(account=x_account)

    x_account.refresh_from_db()
    assert result.failed and Message.objects.count() == 0
    assert x_account.last_error
    wait = x_account.backoff_until - timezone.now()
    assert timedelta(seconds=100) < wait <= timedelta(seconds=121)
    assert poll_account(account=x_account).skipped.startswith("backing off until")
    assert x_account not in due_accounts()


def test_server_errors_back_off_longer_each_time_and_success_resets(x_account, sandbox):
    sandbox.state.add_fault(Fault(platform="x", kind="server_error", count=2))

    poll_account(account=x_account)
    x_account.refresh_from_db()
    first_wait = x_account.backoff_until - timezone.now()
    poll_account(account=x_account, force=True)
    x_account.refresh_from_db()
    second_wait = x_account.backoff_until - timezone.now()
    recovered = poll_account(account=x_account, force=True)

    assert x_account.poll_failures == 2
    assert timedelta(seconds=14) < first_wait <= timedelta(seconds=30)
    assert timedelta(seconds=29) < second_wait <= timedelta(seconds=60)
    assert recovered.stored == 12
    x_account.refresh_from_db()
    assert (x_account.poll_failures, x_account.backoff_until, x_account.last_error) == (
        0,
        None,
        "",
    )


def test_only_one_poll_of_an_account_runs_at_a_time(x_account):
    with exclusive(f"poll:{x_account.pk}", seconds=60):
        result = poll_account(account=x_account)

    assert result.skipped == "another poll of this account is running"
    assert Message.objects.count() == 0


def test_poll_command_reports_each_account_and_fails_when_one_fails(x_account, sandbox):
    sandbox.state.add_fault(Fault(platform="x", kind="server_error"))
    out = []

    with pytest.raises(CommandError, match="Polling failed for X: @acme_care"):
        call_command("poll", once=True, stdout=_Collect(out))
    call_command("poll", once=True, stdout=_Collect(out))

    assert "FAILED" in out[0]
    assert "X: @acme_care: fetched 12, stored 12, duplicates 0, quarantined 0" in out[1]


class _Collect:
    def __init__(self, lines):
        self.lines = lines

    def write(self, text):
        self.lines.append(text)

    def flush(self):
        pass
