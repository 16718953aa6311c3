"""Spam and bots found at ingest: stored with a reason, kept out of the working queues, shown
collapsed, and taught by "Not spam"."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.export import export_cases
from cases.inbox import inbox_page
from cases.models import Case, CaseEvent, Message, SpamBlock
from casework import actions, spam
from casework.spam import brand_words, content_reason, impersonation_reason
from tests.conftest import client_for
from tests.factories import T0, AuthorFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "demo" / "sample_data" / "traffic.jsonl"
HTMX = {"HX-Request": "true"}


def message(result) -> Message:
    return Message.objects.get(pk=result.message.pk)


def queue_ids(user, queue: str) -> set[int]:
    return {int(row["id"]) for row in inbox_page(user=user, queue=queue).rows}


# Repeats.


def test_a_bot_repeating_near_identical_text_is_spam_and_its_first_copy_too(ingest):
    bot = AuthorFactory()
    text = "Check out our amazing new deals today, best prices"
    first = ingest(author=bot, sent_at=T0, text=text)
    assert message(first).spam_reason == ""
    assert Case.objects.get().awaiting_reply_since == T0

    # Nearly the same: other case, other mention, other link, an emoji.
    second = ingest(
        author=bot,
        sent_at=T0 + timedelta(days=2),
        text="@acme_care CHECK out our amazing new  deals today, best prices 🔥 x.example/abc",
    )

    for found in (message(first), message(second)):
        assert found.spam_reason == "The same text posted 2 times by this author"
        assert not found.needs_reply
        assert found.no_reply_reason == f"Spam: {found.spam_reason}"
    case = Case.objects.get()
    assert case.spam and case.awaiting_reply_since is None
    events = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.MARKED_SPAM)
    assert {e.message_id for e in events} == {first.message.pk, second.message.pk}
    assert all(e.actor is None and e.data["by"] == "ingest" for e in events)


def test_a_copy_stored_before_its_words_were_kept_is_read_from_its_text(ingest):
    bot = AuthorFactory()
    text = "Check out our amazing new deals today, best prices"
    first = ingest(author=bot, sent_at=T0, text=text)
    assert message(first).text_words == "check out our amazing new deals today best prices"
    Message.objects.filter(pk=first.message.pk).update(text_words=None)  # as an upgrade finds it

    ingest(author=bot, sent_at=T0 + timedelta(hours=1), text=text)

    assert message(first).spam_reason == "The same text posted 2 times by this author"


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from("abcdefghij"), min_size=6, max_size=40),
    edits=st.lists(st.tuples(st.integers(0, 39), st.sampled_from("abcdefghijk")), max_size=4),
)
def test_near_duplicates_are_found_by_their_first_word_pairs(words, edits):
    """The campaign search looks a text up only by its first few word pairs: any near
    duplicate must share one of those with it."""
    edited = list(words)
    for at, word in edits:
        edited[at % len(edited)] = word
    a, b = spam.shingles(words), spam.shingles(edited)
    if spam.similar(a, b):
        assert set(spam._prefix(a)) & set(spam._prefix(b))


@settings(max_examples=200, deadline=None)
@given(
    posts=st.lists(
        st.tuples(
            st.integers(0, 4),  # the author
            st.integers(0, 48),  # hours after T0
            st.lists(st.sampled_from("abc"), min_size=6, max_size=9),  # the words
            st.booleans(),  # stored
            st.booleans(),  # promotes
        ),
        max_size=25,
    )
)
def test_repeats_are_those_found_by_comparing_every_post_with_every_other(posts):
    """The repeat rules search by word pairs and compare each distinct text once (copies
    given one shingles object by ``Shingler``); what they mark must be what comparing every
    post with every other marks."""
    shared = spam.Shingler()
    built = [
        spam.Post(
            n,
            author,
            T0 + timedelta(hours=hours),
            shared(" ".join(words)),
            stored,
            promotes=promotes,
        )
        for n, (author, hours, words, stored, promotes) in enumerate(posts)
    ]

    def copies(post: spam.Post, *, same_author: bool, within: timedelta) -> list[spam.Post]:
        return [
            other
            for other in built
            if other is not post
            and (other.author == post.author) == same_author
            and abs(other.at - post.at) <= within
            and spam.similar(post.shingles, other.shingles)
        ]

    expected = {}
    for post in built:
        if post.stored or not post.shingles:
            continue
        own = copies(post, same_author=True, within=spam.SAME_AUTHOR_WINDOW)
        if own:
            expected[post.key] = f"The same text posted {len(own) + 1} times by this author"
            for other in own:
                if other.stored:
                    again = copies(other, same_author=True, within=spam.SAME_AUTHOR_WINDOW)
                    count = len(again) + 1
                    expected[other.key] = f"The same text posted {count} times by this author"
        elif post.promotes:
            others = copies(post, same_author=False, within=spam.MANY_AUTHORS_WINDOW)
            authors = {post.author} | {other.author for other in others}
            if len(authors) >= spam.MANY_AUTHORS:
                reason = f"The same text posted by {len(authors)} authors within a day"
                expected[post.key] = reason

    assert spam.repeats(built) == expected


def test_a_customer_repeating_after_a_week_or_a_short_text_is_not_spam(ingest):
    customer = AuthorFactory()
    text = "@acme_care my washing machine still has not been collected from the house"
    ingest(author=customer, sent_at=T0, text=text)
    later = ingest(author=customer, sent_at=T0 + timedelta(days=8), text=text)
    ingest(author=customer, sent_at=T0 + timedelta(days=8, minutes=1), text="thanks!")
    thanks = ingest(author=customer, sent_at=T0 + timedelta(days=8, minutes=2), text="thanks!")

    assert message(later).spam_reason == message(thanks).spam_reason == ""


def test_an_answered_earlier_copy_stays_as_it_was(ingest, agent):
    bot = AuthorFactory()
    text = "Check out our amazing new deals today, best prices in town"
    first = ingest(author=bot, sent_at=T0, text=text)
    case = Case.objects.get()
    actions.reply_to_case(case_id=case.pk, agent=agent, text="Thanks, not for us.")
    second = ingest(author=bot, sent_at=T0 + timedelta(hours=1), text=text)

    assert message(first).spam_reason == ""
    assert message(second).spam_reason.startswith("The same text posted")


def test_the_same_text_from_three_authors_within_a_day_is_spam(ingest):
    text = "Wow I just got a gift card from this amazing site, everyone try it: deal.example/x"
    results = [
        ingest(author=AuthorFactory(), sent_at=T0 + timedelta(hours=n), text=text)
        for n in range(3)
    ]

    assert message(results[0]).spam_reason == message(results[1]).spam_reason == ""
    assert message(results[2]).spam_reason == "The same text posted by 3 authors within a day"


def test_customers_writing_the_same_words_about_an_outage_are_not_spam(ingest):
    text = "@acme_care is the broadband down in Manchester tonight, nothing loads at all"
    results = [
        ingest(author=AuthorFactory(), sent_at=T0 + timedelta(minutes=n), text=text)
        for n in range(4)
    ]

    assert {message(r).spam_reason for r in results} == {""}


# Content.


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Earn $1,200 a week from home with forex, no experience required! DM me",
            "Money-making scheme",
        ),
        ("Buy 10K real followers cheap at grow.example.org, use code WIN", "Selling followers"),
        (
            "Congratulations! You have won a £250 voucher. Claim it at prize.example.net/x",
            "Fake prize or giveaway",
        ),
        (
            "Hi team, I noticed your website is not ranking on Google. Our agency offers SEO "
            "packages at affordable prices.",
            "Marketing pitch",
        ),
        (
            "Your page deserves more. We grow your page with social media management, message "
            "us today!",
            "Marketing pitch",
        ),
    ],
)
def test_content_families(ingest, text, reason):
    found = message(ingest(text=text))

    assert found.spam_reason.startswith(reason)
    assert Case.objects.get().spam


@pytest.mark.parametrize(
    "text",
    [
        # One signal each, from customers.
        "@acme_care the installer said no experience needed to set up the hub, but it won't start",
        "I work from home and need the broadband back today @acme_care",
        "@acme_care I lost followers on my page because your app crashed, lol",
        "Congratulations on the new Leeds store @acme_care!",
        "I want to downgrade my package to the basic one, can my team do that?",
        "@acme_care I paid £1,149 for the cooker and still have no delivery date",
    ],
)
def test_innocent_look_alikes_are_not_spam(ingest, text):
    assert message(ingest(text=text)).spam_reason == ""
    assert not Case.objects.get().spam


def test_content_reasons_need_more_than_one_signal():
    assert content_reason("No experience needed, honestly the easiest oven ever") == ""
    assert content_reason("I earn £30 a day less since your outage") == ""
    assert content_reason("I won a voucher in your giveaway but never got it") == ""
    assert content_reason("Earn 400 USD daily working from home, DM me") == "Money-making scheme"
    assert content_reason("You have been chosen as a winner! Claim your prize") == (
        "Fake prize or giveaway"
    )
    assert content_reason("Make £500 a day from home, no experience needed") == (
        "Money-making scheme"
    )


# Impersonators.


def test_brand_words_come_from_the_account_name():
    assert brand_words("Acme Home") == {"acme"}
    assert brand_words("Sample file: @acme_care") == {"acme"}
    assert brand_words("care@acme-home.example") == {"acme"}


def test_an_impersonator_of_the_brand_is_spam(ingest):
    fake = AuthorFactory(handle="AcmeSupport_Desk7", display_name="Acme Support Desk")
    found = message(
        ingest(
            author=fake,
            text="@some_customer @acme_care Sorry for this! Please contact our team on "
            "WhatsApp +44 7700 900555 and we will sort it.",
        )
    )

    assert found.spam_reason == "Impersonating the brand and sending customers elsewhere"


def test_a_customer_with_a_brand_like_name_or_a_brand_name_without_redirect_is_not():
    # The brand's name, no redirect; a redirect, but the customer's own name.
    assert not impersonation_reason(
        "We love our new fridge!", display_name="Acme Fan", handle="acmefan", account_name="Acme"
    )
    assert not impersonation_reason(
        "Call me on 07700 900123 please, we are in all day",
        display_name="Jo Smith",
        handle="jo",
        account_name="Acme Home",
    )
    assert not impersonation_reason(
        "We have answered you, call us on 0800 123 4567",
        display_name="Acme Care",
        handle="acme_care",
        account_name="Sample file: @acme_care",
    )


# The spam list.


def test_a_blocked_author_and_a_blocked_domain(ingest):
    blocked = AuthorFactory(handle="nuisance")
    SpamBlock.objects.create(kind=SpamBlock.Kind.AUTHOR, value="@Nuisance")
    SpamBlock.objects.create(kind=SpamBlock.Kind.DOMAIN, value="bad.example")

    by_author = message(ingest(author=blocked, text="@acme_care hello there"))
    by_domain = message(ingest(text="@acme_care look at https://www.shop.bad.example/item?x=1"))
    other = message(ingest(text="@acme_care look at https://good.example/item"))

    assert by_author.spam_reason == "Blocked author"
    assert by_domain.spam_reason == "Blocked domain shop.bad.example"
    assert other.spam_reason == ""


# Queues, the case page and "Not spam".


def test_spam_is_only_in_the_spam_queue(ingest, agent):
    spam = ingest(text="Congratulations! You have won a £250 voucher. Claim it at x.example/y")
    ham = ingest(text="@acme_care my order never came")

    spam_case, ham_case = spam.message.case_id, ham.message.case_id
    for queue in ("unassigned", "all"):
        assert spam_case not in queue_ids(agent, queue)
        assert ham_case in queue_ids(agent, queue)
    assert queue_ids(agent, "spam") == {spam_case}


def test_spam_joining_a_customer_case_leaves_it_where_it_is(ingest, agent):
    customer = AuthorFactory()
    ingest(author=customer, sent_at=T0, text="@acme_care my order never came")
    spam = ingest(
        author=customer,
        sent_at=T0 + timedelta(minutes=5),
        text="Congratulations! You have won a £250 voucher. Claim it at x.example/y",
    )

    case = Case.objects.get()
    assert not case.spam and case.awaiting_reply_since == T0
    assert message(spam).spam_reason == "Fake prize or giveaway"
    assert case.pk in queue_ids(agent, "unassigned")


def test_the_case_page_shows_spam_collapsed_with_its_reason(ingest, agent):
    spam = ingest(text="Congratulations! You have won a £250 voucher. Claim it at x.example/y")
    case_id = spam.message.case_id

    html = client_for(agent).get(reverse("workspace:case-detail", kwargs={"case_id": case_id}))
    text = html.content.decode()

    assert f'<details id="spam-{spam.message.pk}"' in text
    assert "<summary>Spam: Fake prize or giveaway</summary>" in text
    assert "A message was found to be spam: Fake prize or giveaway" in text


def test_not_spam_restores_the_case_with_its_clock_and_trusts_the_author(ingest, agent):
    bot_like = AuthorFactory()
    text = "Our family loves this shop, check the new deals in store this week everyone"
    ingest(author=bot_like, sent_at=T0, text=text)
    ingest(author=bot_like, sent_at=T0 + timedelta(hours=1), text=text)
    case = Case.objects.get()
    assert case.spam and case.pk not in queue_ids(agent, "unassigned")

    response = client_for(agent).post(
        reverse("workspace:case-spam", kwargs={"case_id": case.pk}), {"spam": "0"}, headers=HTMX
    )

    assert response.status_code in (200, 204)
    case.refresh_from_db()
    assert not case.spam and case.awaiting_reply_since == T0
    assert case.pk in queue_ids(agent, "unassigned")
    assert not Message.objects.exclude(spam_reason="").exists()
    assert not Message.objects.filter(needs_reply=False).exists()
    assert SpamBlock.objects.filter(kind=SpamBlock.Kind.TRUSTED).count() == 1

    again = ingest(author=bot_like, sent_at=T0 + timedelta(hours=2), text=text)
    assert message(again).spam_reason == ""
    case.refresh_from_db()
    assert not case.spam


# The sample week.


def test_the_sample_week_spam_precision_and_recall():
    events = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    truth = {e["id"]: e["truth"]["spam"] for e in events}

    call_command("ingest_sample", SAMPLE)

    found = {
        m["external_id"]: m["spam"]
        for row in export_cases()
        for m in row["messages"]
        if m["direction"] == "inbound"
    }
    marked = {i for i in truth if found.get(i)}
    spam = {i for i, is_spam in truth.items() if is_spam}
    assert len(marked & spam) / len(marked) >= 0.95
    assert len(marked & spam) / len(spam) >= 0.9


def test_the_spam_queue_row_gives_the_reason_instead_of_the_bots_text(ingest, agent):
    spam = ingest(text="Congratulations! You have won a £250 voucher. Claim it at x.example/y")

    [row] = inbox_page(user=agent, queue="spam").rows

    assert int(row["id"]) == spam.message.case_id
    assert row["snippet"] == "Spam: Fake prize or giveaway"
    assert "voucher" not in row["snippet"]
