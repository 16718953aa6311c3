"""Messages that need no reply are found without a rule: they stay on the case with the
reason, start no clock and reopen nothing."""

import json

import pytest
from django.core.management import call_command

from cases.export import export_cases
from cases.models import Case, Message
from casework import actions
from casework.closers import no_reply_reason
from channels.inbound import InboundAttachment
from demo.sample import DEMO_TRAFFIC
from tests.conftest import client_for
from tests.factories import AuthorFactory


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, all sorted!",
        "@acme_care working now 👍 cheers",
        "👍",
        "Thank you for your email. I am out of the office until Monday with limited access "
        "to email.",
    ],
)
def test_closers_reactions_and_away_answers_need_no_reply(text):
    assert no_reply_reason(text, answers_another_customer=False)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, but it is still broken",
        "thanks! when will the engineer come?",
        "My router is down again",
        "Same here, still no internet in Leeds",
        "My sofa arrived torn",
    ],
)
def test_a_message_that_asks_or_complains_needs_a_reply(text):
    assert no_reply_reason(text, answers_another_customer=True) == ""


def test_an_unhappy_message_needs_a_reply_even_when_it_says_thanks():
    text = "Thanks a lot for the useless engineer who never showed up. Appalling."
    assert no_reply_reason(text, answers_another_customer=False, sentiment="neg") == ""


def test_advice_to_another_customer_needs_no_reply_but_their_own_trouble_does():
    advice = "Happened to me too. Call the store directly, they were much quicker"
    assert no_reply_reason(advice, answers_another_customer=True)
    assert no_reply_reason(advice, answers_another_customer=False) == ""
    assert (
        no_reply_reason("same in Withington, went at seven", answers_another_customer=True) == ""
    )


def test_a_thanks_on_a_resolved_case_leaves_it_resolved_with_no_clock(ingest, agent):
    case = ingest(channel="x.dm", text="My order AH-1 has not arrived").message.case
    actions.claim_case(case_id=case.pk, agent=agent)
    actions.set_status(case_id=case.pk, by=agent, status=Case.Status.RESOLVED)
    case.refresh_from_db()
    waiting_before = case.awaiting_reply_since
    author = case.messages.get().author_identity
    thanks = ingest(
        channel="x.dm",
        text="Got it, thanks so much!",
        author=AuthorFactory(external_id=author.external_id, handle=author.handle),
    ).message

    case.refresh_from_db()
    assert thanks.case_id == case.pk
    assert case.status == Case.Status.RESOLVED
    assert case.awaiting_reply_since == waiting_before  # the thanks started no clock
    assert (thanks.needs_reply, thanks.no_reply_reason) == (
        False,
        "Closes the conversation: thanks, or all is well.",
    )
    page = client_for(agent).get(f"/cases/{case.pk}/").content.decode()
    assert "Got it, thanks so much!" in page
    assert "Closes the conversation" in page


def test_a_thanks_with_an_attachment_is_something_to_look_at(ingest):
    message = ingest(
        channel="facebook.message",
        text="Thanks!",
        attachments=(InboundAttachment("receipt.jpg", "image/jpeg", 3, b"abc"),),
    ).message
    assert message.needs_reply
    assert Case.objects.get(pk=message.case_id).awaiting_reply_since == message.sent_at


def test_advice_under_another_customers_comment_starts_no_clock_on_its_case(ingest):
    complaint = ingest(channel="facebook.comment", text="Three weeks and no refund. Awful.")
    advice = ingest(
        channel="facebook.comment",
        text="They did this to my sister too. Push for a discount while you wait",
        in_reply_to=(complaint.message.external_id,),
    ).message
    assert advice.no_reply_reason == "A customer answering another customer."
    assert Case.objects.get(pk=advice.case_id).awaiting_reply_since is None
    assert Message.objects.get(pk=complaint.message.pk).needs_reply


def test_on_the_sample_week_closers_are_found_with_precision_and_recall(db):
    call_command("ingest_sample", str(DEMO_TRAFFIC), stdout=None)
    truth = {}
    for line in DEMO_TRAFFIC.read_text().splitlines():
        event = json.loads(line)
        truth[event["id"]] = event["truth"]
    found = {
        m["external_id"]: m
        for row in export_cases()
        for m in row["messages"]
        if m["direction"] == "inbound"
    }
    closers = {i for i, m in found.items() if not m["needs_reply"] and not truth[i]["spam"]}
    true_closers = {i for i, t in truth.items() if not t["needs_reply"] and not t["spam"]}
    assert len(closers & true_closers) / len(closers) >= 0.95
    assert len(closers & true_closers) / len(true_closers) >= 0.8
