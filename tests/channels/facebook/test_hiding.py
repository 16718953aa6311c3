"""A bot's comments under the brand's post are hidden on the page when the account says so,
through the Graph client and the sandbox; CareInbox keeps them as spam either way."""

import pytest

from cases.models import CaseEvent, Message
from intake.polling import poll_account

from .events import event

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
