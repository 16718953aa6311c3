import pytest

from cases.export import export_cases
from cases.models import Case, CaseEvent, Message
from cases.selectors import case_events
from casework import linking
from casework.exceptions import MergeNotPermitted
from casework.ingest import ingest_message
from customers import selectors
from customers.evidence import Found, Kind, extract, name_similarity
from customers.models import Customer, Evidence, MergeSuggestion
from tests.factories import AuthorFactory, InboundFactory

pytestmark = pytest.mark.django_db

BRAND = ["@acme_care", "care@acme-home.example"]
PATTERNS = [r"AH-\d{5}-[A-Z]{2}", r"US-\d{6}"]


def live_customers():
    return Customer.objects.filter(merged_into__isnull=True)


def test_it_extracts_contact_details_references_and_the_name():
    found = extract(
        text=(
            "@acme_care I tweeted you as @Gwen_H. Mail me at Gwen.Harlow@example.org, not "
            "care@acme-home.example. Order AH-20931-UK, re [#42]. Call 07911 123456. BS7 8AB"
        ),
        subject="Order US-558102",
        author_name="Gwen Hárlow 🌻",
        brand_identities=BRAND,
        reference_patterns=PATTERNS,
        phone_region="GB",
    )

    assert set(found) == {
        Found(Kind.HANDLE, "gwen_h"),
        Found(Kind.EMAIL, "gwen.harlow@example.org"),
        Found(Kind.REFERENCE, "AH-20931-UK"),
        Found(Kind.REFERENCE, "US-558102"),
        Found(Kind.CASE, "42"),
        Found(Kind.PHONE, "+447911123456"),
        Found(Kind.POSTCODE, "BS7 8AB"),
        Found(Kind.NAME, "gwen harlow"),
    }


def test_it_ignores_quoted_mail_and_product_codes():
    found = extract(
        text="Still broken, my WM-900.\n> Hi, your order AH-11111-UK is on its way.",
        reference_patterns=PATTERNS,
    )

    assert found == []


def test_near_identical_names_are_similar_and_others_are_not():
    assert name_similarity("kelly m", "kelly marsden") == 0.8
    assert name_similarity("jen walsh", "jennifer walsh") == 0.8
    assert name_similarity("lorna", "lorna dyer", handle_a="lornadyer") == 0.8
    assert name_similarity("gwen harlow", "gwen harlow") == 1.0
    assert name_similarity("kelly marsden", "kelly dyer") == 0.0


def test_an_address_stated_in_a_tweet_links_it_to_the_email_identity(ingest):
    email = AuthorFactory(external_id="gwen.harlow@example.org", display_name="Gwen Harlow")
    first = ingest(InboundFactory(channel="email", author=email, text="Account disabled."))
    tweet = ingest(
        InboundFactory(
            author=AuthorFactory(handle="gwenh_writes", display_name="Gwen H."),
            text="@acme_care 30 emails from gwen.harlow@example.org and no answer.",
        )
    )

    assert live_customers().count() == 1
    customer = live_customers().get()
    assert customer.pk == first.message.case.customer_id  # the older customer stays
    assert {i.platform for i in customer.identities.all()} == {"email", "x"}
    merge = CaseEvent.objects.get(kind=CaseEvent.Kind.CUSTOMERS_MERGED, case=tweet.message.case)
    assert "gwen.harlow@example.org" in merge.data["reason"]
    assert merge.actor is None


def test_an_address_stated_before_the_email_identity_exists_links_too(ingest):
    ingest(InboundFactory(channel="facebook.message", text="It's d.okafor@mail.example"))
    email = AuthorFactory(external_id="d.okafor@mail.example")
    ingest(InboundFactory(channel="email", author=email, text="Hello"))

    assert live_customers().count() == 1


def test_a_case_reference_the_brand_sent_links_who_quotes_it(ingest, agent):
    mail = ingest(InboundFactory(channel="email", text="My dryer stopped heating."))
    case = mail.message.case
    Message.objects.create(
        case=case,
        direction=Message.Direction.OUTBOUND,
        channel="email",
        author_user=agent,
        subject=f"Re: Dryer [#{case.pk}]",
        text="An engineer is booked.",
        sent_at=mail.message.sent_at,
        delivery_status=Message.Delivery.SENT,
    )
    ingest(InboundFactory(channel="x.dm", text=f"Following up on [#{case.pk}] here."))

    assert live_customers().count() == 1
    merge = CaseEvent.objects.filter(kind=CaseEvent.Kind.CUSTOMERS_MERGED).first()
    assert f"[#{case.pk}]" in merge.data["reason"]


def test_a_case_number_the_brand_never_sent_links_nothing(ingest):
    mail = ingest(InboundFactory(channel="email", text="My dryer stopped heating."))
    ingest(InboundFactory(channel="x.dm", text=f"Case [#{mail.message.case_id}] please"))

    assert live_customers().count() == 2


def test_weak_evidence_only_suggests(ingest):
    first = ingest(InboundFactory(channel="x.dm", text="Order AH-20931-UK, no engineer yet"))
    second = ingest(InboundFactory(channel="facebook.message", text="Order AH-20931-UK?"))

    assert live_customers().count() == 2
    suggestion = MergeSuggestion.objects.get()
    pair = sorted([first.message.case.customer_id, second.message.case.customer_id])
    assert [suggestion.customer_a_id, suggestion.customer_b_id] == pair
    assert suggestion.status == MergeSuggestion.Status.OPEN
    assert {"kind": "reference", "value": "AH-20931-UK"} in suggestion.evidence
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.CUSTOMERS_MERGED).exists()


def test_linking_again_changes_nothing(ingest):
    first = ingest(InboundFactory(channel="x.dm", text="Order AH-20931-UK"))
    second = ingest(InboundFactory(channel="facebook.message", text="Order AH-20931-UK"))
    again = linking.link_customers_for(message_id=second.message.pk)

    assert again.pk == second.message.case.customer_id
    assert first.message.case.customer_id != again.pk
    assert MergeSuggestion.objects.count() == 1


def test_a_dismissed_suggestion_stays_dismissed_after_more_evidence(ingest, agent):
    on_x, on_facebook = AuthorFactory(), AuthorFactory()
    ingest(InboundFactory(channel="x.dm", author=on_x, text="Order AH-20931-UK"))
    fb = ingest(InboundFactory(channel="facebook.message", author=on_facebook, text="AH-20931-UK"))
    suggestion = MergeSuggestion.objects.get()

    linking.dismiss_suggestion(suggestion_id=suggestion.pk, by=agent)
    ingest(InboundFactory(channel="x.dm", author=on_x, text="Ring me on 07911 123456"))
    ingest(InboundFactory(channel="facebook.message", author=on_facebook, text="+44 7911 123456"))

    suggestion.refresh_from_db()
    assert suggestion.status == MergeSuggestion.Status.DISMISSED
    assert suggestion.decided_by == agent
    assert MergeSuggestion.objects.count() == 1
    assert selectors.open_suggestions(customer=fb.message.case.customer) == []
    assert live_customers().count() == 2


def test_confirming_a_suggestion_keeps_both_histories_in_time_order(ingest, supervisor):
    on_x, on_facebook = AuthorFactory(), AuthorFactory()
    ingest(InboundFactory(channel="x.dm", author=on_x, text="Order AH-20931-UK, dryer broken"))
    ingest(InboundFactory(channel="facebook.message", author=on_facebook, text="AH-20931-UK?"))
    ingest(InboundFactory(channel="x.dm", author=on_x, text="Still waiting"))
    suggestion = MergeSuggestion.objects.get()

    customer = linking.confirm_suggestion(suggestion_id=suggestion.pk, by=supervisor)

    assert list(live_customers()) == [customer]
    case = Case.objects.get(customer=customer, merged_into__isnull=True)
    texts = list(case.messages.order_by("sent_at").values_list("text", flat=True))
    assert texts == ["Order AH-20931-UK, dryer broken", "AH-20931-UK?", "Still waiting"]
    events = case_events(case)
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    received = [e for e in events if e.kind == CaseEvent.Kind.MESSAGE_RECEIVED]
    assert len(received) == 3
    merge = [e for e in events if e.kind == CaseEvent.Kind.CUSTOMERS_MERGED][-1]
    assert merge.actor == supervisor
    assert "AH-20931-UK" in merge.data["reason"]
    assert "sam" in merge.data["reason"]
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == ("merged", supervisor)


def test_an_agent_without_the_right_cannot_confirm(ingest, agent):
    ingest(InboundFactory(channel="x.dm", text="Order AH-20931-UK"))
    ingest(InboundFactory(channel="facebook.message", text="Order AH-20931-UK"))
    suggestion = MergeSuggestion.objects.get()

    assert not linking.may_merge(agent)
    with pytest.raises(MergeNotPermitted, match="supervisor"):
        linking.confirm_suggestion(suggestion_id=suggestion.pk, by=agent)

    assert live_customers().count() == 2
    suggestion.refresh_from_db()
    assert suggestion.status == MergeSuggestion.Status.OPEN


def test_agents_may_merge_when_the_setting_allows_it(ingest, agent, settings):
    settings.CAREINBOX_AGENTS_MAY_MERGE = True
    ingest(InboundFactory(channel="x.dm", text="Order AH-20931-UK"))
    ingest(InboundFactory(channel="facebook.message", text="Order AH-20931-UK"))

    linking.confirm_suggestion(suggestion_id=MergeSuggestion.objects.get().pk, by=agent)

    assert live_customers().count() == 1


def test_similar_names_writing_days_apart_suggest_nothing(ingest):
    kelly = AuthorFactory(display_name="Kelly Marsden")
    ingest(InboundFactory(channel="facebook.post", author=kelly, text="Dryer fire"))
    later = InboundFactory(author=AuthorFactory(display_name="Kelly M")).sent_at
    ingest(
        InboundFactory(
            author=AuthorFactory(display_name="Kelly M"),
            sent_at=later + linking.NAME_WINDOW * 3,
            text="@acme_care dryer fire",
        )
    )

    assert not MergeSuggestion.objects.exists()


def test_similar_names_the_same_week_are_suggested(ingest):
    ingest(
        InboundFactory(channel="facebook.post", author=AuthorFactory(display_name="Kelly Marsden"))
    )
    ingest(InboundFactory(author=AuthorFactory(display_name="Kelly M")))

    suggestion = MergeSuggestion.objects.get()
    assert suggestion.evidence == [{"kind": "name", "value": "kelly m ~ kelly marsden"}]


def test_export_lists_each_customers_open_suggestions(ingest):
    first = ingest(InboundFactory(channel="x.dm", text="Order AH-20931-UK"))
    second = ingest(InboundFactory(channel="facebook.message", text="Order AH-20931-UK"))

    rows = {row["customer"]["key"]: row["customer"] for row in export_cases()}

    a, b = (
        f"{m.author_identity.platform}:{m.author_identity.external_id}"
        for m in (first.message, second.message)
    )
    assert rows[a]["suggestions"] == [{"customer": b, "score": 0.9, "evidence": ["reference"]}]
    assert rows[b]["suggestions"] == [{"customer": a, "score": 0.9, "evidence": ["reference"]}]


def test_evidence_is_stored_per_message(ingest):
    result = ingest(InboundFactory(text="@acme_care order AH-20931-UK"))

    assert list(Evidence.objects.values_list("message", "kind", "value")) == [
        (result.message.pk, "name", "customer"),
        (result.message.pk, "reference", "AH-20931-UK"),
    ]


@pytest.mark.parametrize("first", ["tweet", "email"])
def test_two_batches_linked_in_either_order_link_the_address_one_states(
    accounts, django_capture_on_commit_callbacks, first
):
    """The texts' evidence is read by linking, after ingest: whichever batch's linking runs
    second finds what the first stored."""
    tweet = InboundFactory(text="@acme_care it's me, d.okafor@mail.example")
    mail = InboundFactory(
        channel="email", author=AuthorFactory(external_id="d.okafor@mail.example")
    )
    with django_capture_on_commit_callbacks(execute=False):  # linking not run yet
        ids = {
            name: ingest_message(account=accounts[inbound.platform], inbound=inbound).message.pk
            for name, inbound in (("tweet", tweet), ("email", mail))
        }
    assert live_customers().count() == 2

    second = "email" if first == "tweet" else "tweet"
    linking.link_customers_of(message_ids=[ids[first]])
    linking.link_customers_of(message_ids=[ids[second]])

    assert live_customers().count() == 1


def brand_reply(inbound_message, agent, *, channel, text):
    return Message.objects.create(
        case=inbound_message.case,
        direction=Message.Direction.OUTBOUND,
        channel=channel,
        author_user=agent,
        text=text,
        sent_at=inbound_message.sent_at,
        delivery_status=Message.Delivery.SENT,
    )


def test_an_order_number_the_brand_sent_privately_links_who_quotes_it(ingest, agent):
    dm = ingest(InboundFactory(channel="x.dm", text="Where is my washer?"))
    brand_reply(dm.message, agent, channel="x.dm", text="Your new order is US-558102 ^JL")
    ingest(InboundFactory(channel="email", text="About order US-558102: no driver yet"))

    assert live_customers().count() == 1
    merge = CaseEvent.objects.filter(kind=CaseEvent.Kind.CUSTOMERS_MERGED).first()
    assert "US-558102" in merge.data["reason"]


def test_an_order_number_in_a_public_reply_links_nothing(ingest, agent):
    tweet = ingest(InboundFactory(channel="x.mention", text="Where is my washer?"))
    brand_reply(tweet.message, agent, channel="x.mention", text="Order US-558102 is on its way")
    ingest(InboundFactory(channel="email", text="About order US-558102: no driver yet"))

    assert live_customers().count() == 2
    assert not MergeSuggestion.objects.exists()  # the brand's words are no customer's evidence
