"""The polling service, on the X channel against the sandbox: cursors, back-off, locking."""

import dataclasses
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.models import Message
from channels.locks import exclusive
from channels.models import ChannelAccount
from channels.registry import PLATFORMS, platform_channel
from demo.connect import sandbox_facebook_account, sandbox_x_account
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


# Nothing a platform sends stops a channel.

LONE_SURROGATE = "\ud800"


@pytest.mark.parametrize("platform", ["x", "facebook"])
def test_a_lone_surrogate_in_a_message_or_name_is_stored_replaced_and_the_rest_follow(
    sandbox, demo_traffic_lines, platform
):
    """JSON allows a lone UTF-16 surrogate, UTF-8 cannot hold one: the message is stored
    with U+FFFD in its place, and the messages after it are stored too."""
    events = [json.loads(line) for line in demo_traffic_lines]
    chosen = [e for e in events if e["channel"].startswith(f"{platform}.")][:6]
    chosen[2]["text"] += f" broken {LONE_SURROGATE} character"
    chosen[-1]["author"]["name"] = f"Name {LONE_SURROGATE}"  # the name the identity keeps
    sandbox.state.load(json.dumps(e) for e in chosen)  # escaped, as a platform sends it
    connect = sandbox_x_account if platform == "x" else sandbox_facebook_account
    account = ChannelAccount.objects.create(platform=platform, **connect({"url": sandbox.url}))

    result = poll_account(account=account)

    assert (result.failed, result.quarantined, result.stored) == (False, 0, len(chosen))
    texts = list(Message.objects.values_list("text", flat=True))
    assert any(text.endswith(" broken \ufffd character") for text in texts)
    names = Message.objects.values_list("author_identity__display_name", flat=True)
    assert "Name \ufffd" in set(names)
    assert poll_account(account=account).stored == 0  # the cursor moved past them


def test_an_unexpected_failure_is_recorded_on_its_account_and_the_others_are_polled(
    x_account, sandbox, monkeypatch
):
    broken = ChannelAccount.objects.create(
        platform="facebook", **sandbox_facebook_account({"url": sandbox.url})
    )

    def fails(account):
        raise RuntimeError("the Graph client broke")
        yield  # a generator, as a channel's poll is

    channel = platform_channel("facebook")
    monkeypatch.setitem(PLATFORMS, "facebook", dataclasses.replace(channel, poll=fails))
    out = []

    with pytest.raises(CommandError, match="Polling failed for Facebook"):
        call_command("poll", once=True, stdout=_Collect(out))

    broken.refresh_from_db()
    assert broken.last_error == "the Graph client broke" and broken.backoff_until
    assert Message.objects.filter(channel_account=x_account).count() == 12
