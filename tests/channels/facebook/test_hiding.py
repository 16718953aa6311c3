"""A bot's comments under the brand's post are hidden on the page when the account says so,
through the Graph client and the sandbox; CareInbox keeps them as spam either way."""

import pytest

from cases.inbox import inbox_page
from cases.models import Case, CaseEvent, Message
from intake.polling import poll_account
from tests.conftest import client_for
from tests.sandbox_events import event

pytestmark = pytest.mark.django_db

BOT = {"id": "100093031753359", "name": "Grow Your Page Fast"}
CUSTOMER = {"id": "100066745989389", "name": "Bernadette Quinn"}
POST = {"id": "104857600123456_812039475610293", "text": "Fibre 900 is here!"}
PITCH = "Our team manages pages like yours every day and can grow your reach 10x, message us"


def poll_bot_and_customer(account, sandbox, capture):
    sandbox.state.load(
        [
            event("b1", "facebook.comment", PITCH + " now", author=BOT, page_post=POST),
            event(
                "c1", "facebook.comment", "Is it coming to LS6?", author=CUSTOMER, page_post=POST
            ),
            event("b2", "facebook.comment", PITCH + " today", author=BOT, page_post=POST),
        ]
    )
    with capture(execute=True):
        result = poll_account(account=account, force=True)
    assert not result.failed, result.error
    return {m.text: m for m in Message.objects.filter(direction="inbound")}


def test_with_the_setting_on_the_bots_comments_are_hidden_and_the_customers_is_not(
    account, sandbox, django_capture_on_commit_callbacks
):
    account.settings = {**account.settings, "hide_spam_comments": True}
    account.save()

    found = poll_bot_and_customer(account, sandbox, django_capture_on_commit_callbacks)

    bot = [m for text, m in found.items() if text.startswith(PITCH)]
    assert all(m.spam_reason for m in bot) and len(bot) == 2
    hidden = [o.payload["id"] for o in sandbox.state.sent("facebook") if o.kind == "facebook.hide"]
    assert sorted(hidden) == sorted(m.external_id for m in bot)
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.HIDDEN).count() == 2
    assert not found["Is it coming to LS6?"].spam_reason


def test_with_the_setting_off_spam_stays_visible_on_the_page(
    account, sandbox, django_capture_on_commit_callbacks
):
    found = poll_bot_and_customer(account, sandbox, django_capture_on_commit_callbacks)

    assert sum(bool(m.spam_reason) for m in found.values()) == 2
    assert sandbox.state.sent("facebook") == []


def test_polled_spam_waits_only_in_the_spam_queue_until_someone_says_not_spam(
    account, sandbox, django_capture_on_commit_callbacks, agent
):
    found = poll_bot_and_customer(account, sandbox, django_capture_on_commit_callbacks)
    bot_case = next(m for m in found.values() if m.spam_reason).case_id
    customer_case = found["Is it coming to LS6?"].case_id

    def queue(key):
        return {int(r["id"]) for r in inbox_page(user=agent, queue=key).rows}

    assert bot_case not in queue("unassigned") | queue("all")
    assert customer_case in queue("unassigned")
    assert queue("spam") == {bot_case}

    client_for(agent).post(f"/cases/{bot_case}/spam/", {"spam": "0"})

    assert bot_case in queue("unassigned")
    assert Case.objects.get(pk=bot_case).awaiting_reply_since is not None
