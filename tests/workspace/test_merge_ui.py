import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from cases.models import Case, CaseEvent, Message
from cases.selectors import case_events
from casework import linking
from casework.merge import merge_customers
from channels.inbound import InboundAuthor
from customers.models import Customer, MergeSuggestion
from tests.factories import T0, AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# What only Gwen's Facebook self wrote: never shown to anyone who may not merge.
PRIVATE = "my flat flooded"


@dataclass
class Pair:
    on_x: InboundAuthor
    on_facebook: InboundAuthor
    x_case: Case
    facebook_case: Case
    suggestion: MergeSuggestion


@pytest.fixture
def pair(ingest):
    """Gwen DMs on X, then an hour later a Messenger customer quotes her order number: weak
    evidence, so a suggestion and two customers."""
    on_x = AuthorFactory(handle="gwen_h", display_name="Gwen Harlow")
    on_facebook = AuthorFactory(display_name="Harlow Household")
    x = ingest(
        InboundFactory(
            channel="x.dm", author=on_x, sent_at=T0, text="Order AH-20931-UK, dryer broken"
        )
    ).message
    facebook = ingest(
        InboundFactory(
            channel="facebook.message",
            author=on_facebook,
            sent_at=T0 + timedelta(hours=1),
            text=f"AH-20931-UK: the engineer never came and {PRIVATE} <script>alert(1)</script>",
        )
    ).message
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2
    return Pair(on_x, on_facebook, x.case, facebook.case, MergeSuggestion.objects.get())


def url(name, *args):
    return reverse(f"workspace:{name}", args=args)


def assert_no_inline_code(html: str) -> None:
    """The CSP forbids inline scripts, style attributes and hx-on handlers."""
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html
    assert "hx-on" not in html


def test_suggestions_show_the_other_customers_name_and_evidence_but_never_their_messages(
    client, pair, supervisor
):
    client.force_login(supervisor)

    response = client.get(url("case-suggestions", pair.x_case.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Harlow Household" in html
    assert "Same order or account number" in html and "AH-20931-UK" in html
    assert "Score 0.9" in html
    assert PRIVATE not in html and "engineer never came" not in html
    assert "Compare" in html and ">Merge</button>" in html and "Dismiss" in html
    assert_no_inline_code(html)


def test_suggestions_list_the_best_first(client, pair, supervisor, ingest):
    ingest(
        InboundFactory(
            channel="x.mention",
            author=AuthorFactory(display_name="Gwen Harlow", handle="another_gwen"),
            sent_at=T0 + timedelta(hours=2),
            text="@acme_care hello",
        )
    )
    client.force_login(supervisor)

    html = client.get(url("case-suggestions", pair.x_case.pk)).content.decode()

    scores = [float(s) for s in re.findall(r"Score (\d\.\d\d)", html)]
    assert len(scores) == 2
    assert scores == sorted(scores, reverse=True)


def test_an_agent_without_the_right_sees_neither_messages_nor_merge_controls(client, pair, agent):
    client.force_login(agent)
    case, suggestion = pair.x_case, pair.suggestion
    other = pair.facebook_case.customer_id

    html = client.get(url("case-suggestions", case.pk)).content.decode()
    entry = render_to_string("workspace/merge_entry.html", {"case": case, "user": agent})

    assert "Harlow Household" in html and "AH-20931-UK" in html
    assert "Dismiss" in html
    assert "Compare" not in html and "Merge" not in html
    assert entry.strip() == ""
    refused = [
        client.get(url("merge-compare", case.pk, other)),
        client.get(url("merge-search", case.pk), {"q": "harlow"}),
        client.post(url("suggestion-confirm", case.pk, suggestion.pk)),
        client.post(url("merge-confirm", case.pk, other), {"reason": "Same order"}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert all(PRIVATE not in r.content.decode() for r in refused)
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2
    suggestion.refresh_from_db()
    assert suggestion.status == MergeSuggestion.Status.OPEN


def test_a_manager_sees_the_suggestions_read_only(client, pair, manager):
    client.force_login(manager)

    html = client.get(url("case-suggestions", pair.x_case.pk)).content.decode()
    dismiss = client.post(url("suggestion-dismiss", pair.x_case.pk, pair.suggestion.pk))

    assert "Harlow Household" in html
    assert "Dismiss" not in html and "Merge" not in html and "Compare" not in html
    assert dismiss.status_code == 403


def test_agents_merge_too_when_the_setting_allows_it(client, pair, agent, settings):
    settings.CAREINBOX_AGENTS_MAY_MERGE = True
    client.force_login(agent)

    html = client.get(url("case-suggestions", pair.x_case.pk)).content.decode()
    entry = render_to_string("workspace/merge_entry.html", {"case": pair.x_case, "user": agent})

    assert "Compare" in html and ">Merge</button>" in html
    assert "Merge with another customer" in entry
    assert url("merge-search", pair.x_case.pk) in entry


def test_the_side_by_side_page_shows_both_histories_and_the_evidence(client, pair, supervisor):
    client.force_login(supervisor)

    response = client.get(url("merge-compare", pair.x_case.pk, pair.facebook_case.customer_id))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Gwen Harlow" in html and "Harlow Household" in html
    assert "@gwen_h" in html
    assert "Order or account number" in html and "AH-20931-UK" in html
    assert "Order AH-20931-UK, dryer broken" in html
    assert PRIVATE in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, never run
    assert url("suggestion-confirm", pair.x_case.pk, pair.suggestion.pk) in html
    assert "Merge customers" in html
    assert_no_inline_code(html)


def test_the_side_by_side_page_names_each_messages_channel_in_words(client, pair, supervisor):
    client.force_login(supervisor)

    html = client.get(
        url("merge-compare", pair.x_case.pk, pair.facebook_case.customer_id)
    ).content.decode()

    metas = [
        re.sub(r"\s+", " ", meta).strip()
        for meta in re.findall(r'<div class="history-meta">(.*?)</div>', html, flags=re.S)
    ]
    assert [meta.split(" · ")[1] for meta in metas] == ["X direct message", "Facebook Messenger"]
    assert "x.dm" not in html and "facebook.message" not in html


def test_a_supervisor_merges_from_a_suggestion_keeping_both_histories_in_time_order(
    client, pair, supervisor, ingest
):
    ingest(
        InboundFactory(
            channel="x.dm", author=pair.on_x, sent_at=T0 + timedelta(hours=2), text="Any news?"
        )
    )
    client.force_login(supervisor)

    # From the newer customer's case, which folds into the older one's.
    response = client.post(
        url("suggestion-confirm", pair.facebook_case.pk, pair.suggestion.pk), follow=True
    )

    assert response.redirect_chain == [(url("case-detail", pair.x_case.pk), 302)]
    assert "Merged: Gwen Harlow is now one customer." in response.content.decode()
    customer = Customer.objects.get(merged_into__isnull=True)
    assert customer.pk == pair.x_case.customer_id
    texts = list(
        Message.objects.filter(case__customer=customer)
        .order_by("sent_at")
        .values_list("text", flat=True)
    )
    assert texts[0] == "Order AH-20931-UK, dryer broken"
    assert texts[1].startswith("AH-20931-UK: the engineer never came")
    assert texts[2] == "Any news?"
    events = case_events(Case.objects.get(pk=pair.x_case.pk))
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    received = [e.message.text[:10] for e in events if e.kind == CaseEvent.Kind.MESSAGE_RECEIVED]
    assert received == ["Order AH-2", "AH-20931-U", "Any news?"]
    merge = next(e for e in events if e.kind == CaseEvent.Kind.CUSTOMERS_MERGED)
    assert merge.actor == supervisor
    assert "AH-20931-UK" in merge.data["reason"] and "sam" in merge.data["reason"]
    pair.suggestion.refresh_from_db()
    assert pair.suggestion.status == MergeSuggestion.Status.MERGED


def test_merging_a_suggestion_twice_says_it_is_already_merged(client, pair, supervisor):
    client.force_login(supervisor)
    confirm = url("suggestion-confirm", pair.x_case.pk, pair.suggestion.pk)
    client.post(confirm)

    response = client.post(confirm, follow=True)

    assert "These customers were already merged; nothing left to do." in (
        response.content.decode()
    )
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1


def test_merging_a_dismissed_suggestion_says_so(client, pair, supervisor):
    client.force_login(supervisor)
    client.post(url("suggestion-dismiss", pair.x_case.pk, pair.suggestion.pk))

    response = client.post(
        url("suggestion-confirm", pair.x_case.pk, pair.suggestion.pk), follow=True
    )

    assert "This suggestion was dismissed." in response.content.decode()
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2


def test_a_dismissed_suggestion_stays_dismissed_after_new_messages_from_both(
    client, pair, agent, ingest
):
    client.force_login(agent)

    response = client.post(url("suggestion-dismiss", pair.x_case.pk, pair.suggestion.pk), **HTMX)
    ingest(InboundFactory(channel="x.dm", author=pair.on_x, text="Ring me on 07911 123456"))
    ingest(
        InboundFactory(
            channel="facebook.message", author=pair.on_facebook, text="AH-20931-UK +447911123456"
        )
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Dismissed: they will not be suggested again." in html
    assert "Harlow Household" not in html
    for case in (pair.x_case, pair.facebook_case):
        again = client.get(url("case-suggestions", case.pk)).content.decode()
        assert "No other customer looks like this one." in again
    pair.suggestion.refresh_from_db()
    assert (pair.suggestion.status, pair.suggestion.decided_by) == ("dismissed", agent)
    assert MergeSuggestion.objects.count() == 1


def test_a_suggestion_about_other_customers_is_not_found(client, pair, supervisor, ingest):
    stranger = ingest(InboundFactory(channel="x.mention", text="@acme_care my kettle")).message
    client.force_login(supervisor)

    responses = [
        client.post(url("suggestion-confirm", stranger.case_id, pair.suggestion.pk)),
        client.post(url("suggestion-dismiss", stranger.case_id, pair.suggestion.pk)),
        client.post(url("suggestion-confirm", pair.x_case.pk, pair.suggestion.pk + 100)),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    pair.suggestion.refresh_from_db()
    assert pair.suggestion.status == MergeSuggestion.Status.OPEN


def test_a_customer_cannot_be_merged_with_itself(client, pair, supervisor):
    client.force_login(supervisor)
    own = pair.x_case.customer_id

    compare = client.get(url("merge-compare", pair.x_case.pk, own), follow=True)
    merge = client.post(url("merge-confirm", pair.x_case.pk, own), {"reason": "x"}, follow=True)

    for response in (compare, merge):
        assert response.redirect_chain == [(url("merge-search", pair.x_case.pk), 302)]
        assert "a customer cannot be merged with itself" in response.content.decode()
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2


def test_comparing_with_an_already_merged_customer_points_to_the_one_it_went_into(
    client, pair, supervisor, ingest
):
    mail = ingest(InboundFactory(channel="email", text="Hello", subject="Kettle")).message
    x_customer, facebook_customer = pair.x_case.customer, pair.facebook_case.customer
    merge_customers(source=facebook_customer, target=x_customer, reason="Same order")
    client.force_login(supervisor)

    response = client.get(url("merge-compare", mail.case_id, facebook_customer.pk), follow=True)

    assert response.redirect_chain == [(url("merge-compare", mail.case_id, x_customer.pk), 302)]
    assert (
        f"Harlow Household (customer {facebook_customer.pk}) was already merged into "
        f"customer {x_customer.pk}" in response.content.decode()
    )


@pytest.fixture
def strangers(ingest):
    """Gwen on X and, with nothing in common, an email from her address."""
    tweet = ingest(
        InboundFactory(
            channel="x.mention",
            author=AuthorFactory(handle="gwen_h", display_name="Gwen Harlow"),
            sent_at=T0,
            text="@acme_care my washer leaks",
        )
    ).message
    mail = ingest(
        InboundFactory(
            channel="email",
            author=AuthorFactory(external_id="g.harlow@example.org", display_name="Mrs H"),
            sent_at=T0 + timedelta(days=1),
            subject="Washer",
            text="Water all over the kitchen floor.",
        )
    ).message
    assert not MergeSuggestion.objects.exists()
    return tweet.case, mail.case


def test_the_search_finds_customers_by_name_handle_or_email_address(client, strangers, supervisor):
    x_case, mail_case = strangers
    client.force_login(supervisor)
    search = url("merge-search", mail_case.pk)

    by_name = client.get(search, {"q": "harlow"}, **HTMX).content.decode()
    by_handle = client.get(search, {"q": "@gwen_H"}, **HTMX).content.decode()
    by_address = client.get(url("merge-search", x_case.pk), {"q": "g.harlow@"}, **HTMX)
    too_short = client.get(search, {"q": "g"}, **HTMX).content.decode()
    page = client.get(search).content.decode()

    compare = url("merge-compare", mail_case.pk, x_case.customer_id)
    assert "Gwen Harlow" in by_name and compare in by_name
    assert "Mrs H" not in by_name  # the case's own customer is no candidate
    assert compare in by_handle
    assert "Mrs H" in by_address.content.decode()
    assert "Type at least 2 characters." in too_short
    assert "<html" not in by_name  # the fragment alone
    assert 'hx-get="' + search + '"' in page and "Name, handle or email address" in page
    assert_no_inline_code(page)


def test_a_supervisor_merges_a_customer_found_by_search(client, strangers, supervisor):
    x_case, mail_case = strangers
    client.force_login(supervisor)
    other = x_case.customer_id

    page = client.get(url("merge-compare", mail_case.pk, other)).content.decode()
    empty = client.post(url("merge-confirm", mail_case.pk, other), {"reason": "  "})
    response = client.post(
        url("merge-confirm", mail_case.pk, other),
        {"reason": "Same washer, same street"},
        follow=True,
    )

    assert "Why are they the same person?" in page and "my washer leaks" in page
    assert empty.status_code == 400
    assert "Say why they are the same person" in empty.content.decode()
    assert response.redirect_chain == [(url("case-detail", x_case.pk), 302)]
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1
    events = case_events(Case.objects.get(pk=x_case.pk))
    merge = next(e for e in events if e.kind == CaseEvent.Kind.CUSTOMERS_MERGED)
    assert merge.actor == supervisor
    assert merge.data["reason"] == (
        f"Merged by hand by sam on case #{mail_case.pk}: Same washer, same street"
    )
    texts = [e.message.text for e in events if e.kind == CaseEvent.Kind.MESSAGE_RECEIVED]
    assert texts == ["@acme_care my washer leaks", "Water all over the kitchen floor."]


def test_a_manual_merge_names_the_evidence_both_customers_gave(client, ingest, supervisor, agent):
    first = ingest(
        InboundFactory(channel="x.dm", sent_at=T0, text="Call me on 07911 123456")
    ).message
    later = T0 + timedelta(days=30)
    second = ingest(
        InboundFactory(channel="email", sent_at=later, text="Tel 07911 123456")
    ).message
    linking.dismiss_suggestion(suggestion_id=MergeSuggestion.objects.get().pk, by=agent)
    client.force_login(supervisor)
    compare = url("merge-compare", second.case_id, first.case.customer_id)

    page = client.get(compare).content.decode()
    client.post(
        url("merge-confirm", second.case_id, first.case.customer_id), {"reason": "Same phone"}
    )

    assert "This pair was dismissed by Jo Lee." in page
    assert "Phone number" in page and "+447911123456" in page
    assert "Why are they the same person?" in page  # a dismissed pair is merged by hand
    merge = CaseEvent.objects.get(kind=CaseEvent.Kind.CUSTOMERS_MERGED, case=first.case)
    assert merge.actor == supervisor
    assert merge.data["reason"] == (
        f"Merged by hand by sam on case #{second.case_id}: Same phone "
        "(shared: phone +447911123456)"
    )


def test_anonymous_visitors_are_sent_to_sign_in(client, pair):
    response = client.get(url("case-suggestions", pair.x_case.pk))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_suggestions_panel_costs_a_fixed_number_of_queries(
    client, pair, supervisor, django_assert_max_num_queries
):
    client.force_login(supervisor)
    client.get(url("case-suggestions", pair.x_case.pk))

    with django_assert_max_num_queries(8):
        client.get(url("case-suggestions", pair.x_case.pk))


def test_suggestions_of_the_same_name_say_where_each_writes_from_and_what_matched(
    client, ingest, supervisor
):
    gordon = dict(display_name="Gordon Mackie")
    on_x = ingest(
        InboundFactory(
            channel="x.dm",
            author=AuthorFactory(handle="gmackie", **gordon),
            sent_at=T0,
            text="My router is dead, order AH-20931-UK",
        )
    ).message
    ingest(
        InboundFactory(
            channel="facebook.message",
            author=AuthorFactory(handle="gordon.mackie.77", **gordon),
            sent_at=T0 + timedelta(hours=1),
            text="Hello, router problem",
        )
    )
    ingest(
        InboundFactory(
            channel="email",
            author=AuthorFactory(external_id="gordon@example.org", handle="", **gordon),
            sent_at=T0 + timedelta(hours=2),
            text="About order AH-20931-UK: the router",
        )
    )
    client.force_login(supervisor)

    html = client.get(url("case-suggestions", on_x.case.pk)).content.decode()

    cards = html.split('data-testid="suggestion"')[1:]
    assert len(cards) == 2
    shown = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card)) for card in cards]
    by_email = next(card for card in shown if "gordon@example.org" in card)
    on_facebook = next(card for card in shown if "gordon.mackie.77" in card)
    assert " Email gordon@example.org " in by_email
    assert "Same order or account number AH-20931-UK" in by_email
    assert "Same name gordon mackie" in by_email
    assert " Facebook gordon.mackie.77 " in on_facebook
    assert "Same name gordon mackie" in on_facebook and "AH-20931-UK" not in on_facebook
