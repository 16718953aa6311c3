"""The case page as each role sees and uses it over HTTP: the timeline, the customer card, the
composer and every action, with htmx and without."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Attachment, CannedResponse, Case, CaseEvent, Message
from casework import actions
from casework.merge import merge_customers
from channels.inbound import InboundAttachment
from notifications.models import Notification
from routing.models import RoutingRule
from staff import presence
from staff.models import Team
from tests.conftest import client_for
from tests.factories import T0, AuthorFactory
from workspace.case_page import attachment_url

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
HOSTILE = (
    '<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a>'
)


@pytest.fixture
def neil():
    return AuthorFactory(external_id="431221750", handle="neilcarver", display_name="Neil Carver")


@pytest.fixture
def case(ingest, neil):
    return ingest(author=neil, text="@acme_care HomeHub flashing orange", sent_at=T0).message.case


def url(name, case, **kwargs):
    return reverse(f"workspace:{name}", kwargs={"case_id": case.pk, **kwargs})


def page(user, case) -> str:
    response = client_for(user).get(url("case-detail", case))
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    """The page's visible words, roughly: tags dropped, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# The timeline


def test_the_timeline_merges_every_channel_and_the_history_in_time_order(
    ingest, case, neil, agent, other_agent
):
    mail_author = AuthorFactory(external_id="neil@example.org", display_name="Neil Carver")
    mail = ingest(
        channel="email",
        author=mail_author,
        subject="Order AH-1",
        text="Second: by email",
        sent_at=T0 + timedelta(minutes=20),
    ).message
    merge_customers(source=mail.case.customer, target=case.customer, actor=other_agent)
    # Arrives last, happened in between.
    ingest(channel="x.dm", author=neil, text="First: a DM", sent_at=T0 + timedelta(1))
    actions.claim_case(case_id=case.pk, agent=agent)
    actions.add_note(case_id=case.pk, author=agent, text="Checking the order.")
    actions.reply_to_case(case_id=case.pk, agent=agent, text="We are on it.")

    html = page(agent, case)

    words = text_of(html)
    order = [
        "HomeHub flashing orange",
        "Second: by email",
        "First: a DM",
        "Priya Shah merged customers",
        "Jo Lee claimed the case",
        "Checking the order.",
        "We are on it. ^JL",
    ]
    timeline = words[words.index("HomeHub flashing orange") :]
    positions = [timeline.find(text) for text in order]
    assert -1 not in positions, dict(zip(order, positions, strict=True))
    # The DM is dated a day later: it comes after the mail although ingested after the merge.
    assert positions[1] < positions[2]
    assert positions[2:] == sorted(positions[2:])
    assert 'class="platform platform-x">X</span> <span class="channel">public reply' in html
    assert 'class="platform platform-x">X</span> <span class="channel">direct message' in html
    assert 'class="platform platform-email">Email</span>' in html
    assert "Internal note" in html
    assert 'data-testid="delivery">Queued</span>' in html


def test_a_failed_reply_shows_its_error(case, agent):
    reply = actions.reply_to_case(case_id=case.pk, agent=agent, text="Hello")
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=Message.Delivery.FAILED, delivery_error="X refused: duplicate content."
    )

    html = page(agent, case)

    assert 'data-testid="delivery">Failed</span>' in html
    assert "Not sent: X refused: duplicate content." in html
    retry = url("case-retry-reply", case, message_id=reply.pk)
    assert f'hx-post="{retry}"' in html
    assert 'data-testid="retry">Retry</button>' in html


def test_a_manager_sees_a_failed_reply_but_no_retry_and_may_not_post_one(case, agent, manager):
    reply = actions.reply_to_case(case_id=case.pk, agent=agent, text="Hello")
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=Message.Delivery.FAILED, delivery_error="X refused: duplicate content."
    )

    html = page(manager, case)
    response = client_for(manager).post(url("case-retry-reply", case, message_id=reply.pk))

    assert "Not sent: X refused: duplicate content." in html
    assert 'data-testid="retry"' not in html
    assert response.status_code == 403
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"


def test_retrying_a_reply_that_has_not_failed_is_refused_in_words(case, agent):
    reply = actions.reply_to_case(case_id=case.pk, agent=agent, text="Hello")

    response = client_for(agent).post(
        url("case-retry-reply", case, message_id=reply.pk), headers=HTMX
    )

    assert response.status_code == 200
    assert f"Reply {reply.pk} has not failed" in response.content.decode()
    assert "HX-Trigger" not in response.headers
    reply.refresh_from_db()
    assert reply.delivery_status == "queued"


def test_hostile_text_and_html_show_as_text_and_never_run(ingest, agent):
    mail = ingest(
        channel="email",
        author=AuthorFactory(external_id="mallory@example.org"),
        text=HOSTILE,
        html="<p>Hello</p>" + HOSTILE,
    ).message
    # Even HTML that somehow skipped sanitising stays inert: only ever inside the sandboxed
    # frame's escaped srcdoc.
    Message.objects.filter(pk=mail.pk).update(html="<p>Hi</p>" + HOSTILE)

    html = page(agent, mail.case)

    body = html[html.index('id="timeline"') :]
    # The frame's document and the reply's subject field, both escaped attribute values.
    markup = re.sub(r'(srcdoc|value)="[^"]*"', "", body)
    assert "<script" not in markup
    assert not re.search(r"<[^>]+\sonerror=", markup)
    assert not re.search(r"<a [^>]*href=\"javascript:", markup, re.IGNORECASE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert re.search(r'<iframe class="email-html" sandbox="" [^>]*srcdoc="&lt;p&gt;Hi', body)


def test_long_email_quotes_are_folded(ingest, agent):
    mail = ingest(
        channel="email",
        author=AuthorFactory(external_id="ines@example.org"),
        text=(
            "Thursday works for me.\n\n"
            "On Mon, 2 Nov 2026 at 09:00, Acme Care <care@acme-home.example> wrote:\n"
            "> Would Thursday suit you?\n> Jo"
        ),
    ).message

    html = page(agent, mail.case)

    words = text_of(html)
    assert "Thursday works for me." in words
    folded = html[
        html.index(f'<details id="quoted-{mail.pk}" class="quoted" hx-preserve="true">') :
    ]
    assert "Show quoted text" in folded[:200]
    assert "&gt; Would Thursday suit you?" in folded[: folded.index("</details>")]


def test_a_message_over_the_text_limit_is_stored_cut_and_marked_and_downloads_whole(
    ingest, agent, manager
):
    line = "Ligne {} : la box clignote en orange — ça ne marche toujours pas 🙁\n"
    whole = "".join(line.format(n) for n in range(3000))  # about 210,000 characters
    assert len(whole) > settings.CAREINBOX_MESSAGE_TEXT_LIMIT

    message = ingest(channel="email", text=whole).message

    message.refresh_from_db()
    shown, marker = message.text.split("\n\n[Truncated: ")
    assert whole.startswith(shown) and shown.endswith("pas 🙁")  # cut at a line break
    assert len(shown) <= settings.CAREINBOX_MESSAGE_TEXT_LIMIT
    assert marker == (
        f"the first {len(shown):,} of {len(whole):,} characters are shown. "
        "Show all downloads the whole message.]"
    )
    html = page(agent, message.case)
    show_all = reverse("workspace:message-full-text", kwargs={"message_id": message.pk})
    assert f'<a href="{show_all}" download data-testid="show-all">Show all</a>' in html
    assert "Ligne 2999" not in html
    for user in (agent, manager):
        response = client_for(user).get(show_all)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response["Content-Disposition"].startswith("attachment;")
        assert b"".join(response.streaming_content) == whole.encode()


def test_a_message_within_the_limit_has_no_show_all(case, agent):
    message = case.messages.get()

    html = page(agent, case)
    response = client_for(agent).get(
        reverse("workspace:message-full-text", kwargs={"message_id": message.pk})
    )

    assert 'data-testid="show-all"' not in html
    assert response.status_code == 404


def test_a_long_message_shows_its_start_and_folds_the_rest(ingest, agent):
    text = "\n".join(f"Step {n}: unplugged it and waited." for n in range(1, 101))
    author = AuthorFactory(external_id="77001", handle="ines_b")
    long = ingest(channel="x.dm", author=author, text=text).message
    short = ingest(channel="x.dm", author=author, text="Still orange.").message
    assert short.case_id == long.case_id

    html = page(agent, long.case)

    fold = f'<details id="more-{long.pk}" class="more" hx-preserve="true"><summary>Show more'
    start, folded = html.split(fold)
    assert "Step 40: unplugged it" in start
    assert "Step 41: unplugged it" not in start
    folded = folded[: folded.index("</details>")]
    assert "Step 41: unplugged it" in folded and "Step 100: unplugged it" in folded
    assert f'id="more-{short.pk}"' not in html


# The customer card


def test_the_customer_card_shows_identities_with_profiles_and_earlier_cases(
    ingest, case, neil, agent
):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)
    case.customer.notes = "Prefers email."
    case.customer.save()
    newer = ingest(author=neil, text="Again!", sent_at=T0 + timedelta(days=30)).message.case
    assert newer.pk != case.pk

    html = page(agent, newer)

    assert '<a href="https://x.com/neilcarver"' in html and ">@neilcarver</a>" in html
    assert "10 followers" in html
    assert "Prefers email." in html
    assert f'href="{url("case-detail", case)}">#{case.pk} @acme_care HomeHub' in html
    assert 'class="avatar avatar-large" aria-hidden="true">NC</span>' in html
    assert "<img" not in html


# Who sees which controls, and who may post


def test_an_agent_sees_the_composer_and_the_actions_but_not_reassign(case, agent):
    html = page(agent, case)

    assert 'data-shortcut="c"' in html and ">Claim</button>" in html
    assert 'data-shortcut="r"' in html and ">Send</button>" in html
    assert ">Send and set pending</button>" in html and ">Send and resolve</button>" in html
    assert 'id="note-form" class="note-panel" data-shortcut="n"' in html
    assert 'id="hand-off" class="side-section" data-shortcut="h"' in html
    assert 'data-shortcut="e"' in html and ">Resolve</button>" in html
    assert "Mark as spam" in html
    assert 'id="reassign"' not in html


def test_a_supervisor_also_sees_reassign(case, supervisor):
    assert 'id="reassign"' in page(supervisor, case)


def holder_panel(html: str) -> str:
    start = html.index(">", html.index('data-testid="holder-panel"')) + 1
    return text_of(html[start : html.index("</div>", start)]).strip()


def test_on_a_colleagues_case_an_agent_sees_who_holds_it_instead_of_the_composer(
    case, agent, other_agent
):
    actions.claim_case(case_id=case.pk, agent=other_agent)

    html = page(agent, case)

    panel = holder_panel(html)
    assert panel.startswith("Priya Shah has this case. Ask Priya Shah, or a supervisor, to hand")
    assert "Ask Priya Shah Adds an internal note that notifies them." in panel
    assert 'id="reply-form"' not in html and 'data-shortcut="r"' not in html
    assert 'id="hand-off"' not in html and 'id="reassign"' not in html
    assert 'id="note-form"' in html  # notes, priority and tags stay open to everyone
    assert 'name="status" disabled' in html
    assert "Priya Shah or a supervisor sets the status." in html


def test_an_agent_asks_the_holder_for_the_case_with_a_note_that_notifies_them(
    case, agent, other_agent
):
    actions.claim_case(case_id=case.pk, agent=other_agent)
    html = page(agent, case)
    ask = re.search(r'name="text" value="([^"]+)"', holder_form(html)).group(1)

    response = client_for(agent).post(url("case-note", case), {"text": ask}, headers=HTMX)

    assert 'role="status">Note added.</p>' in response.content.decode()
    [notification] = Notification.objects.filter(recipient=other_agent)
    assert notification.kind == "mentioned"
    assert notification.text == (
        f"Jo Lee mentioned you on case #{case.pk}: @priya Could you hand this case over to me?"
    )


def holder_form(html: str) -> str:
    start = html.index('data-testid="holder-panel"')
    return html[start : html.index("</form>", start)]


def test_on_a_colleagues_case_a_supervisor_sees_reassign_instead_of_the_composer(
    case, agent, supervisor
):
    actions.claim_case(case_id=case.pk, agent=agent)

    html = page(supervisor, case)

    panel = holder_panel(html)
    assert panel.startswith("Jo Lee has this case. Only the holder replies and hands it off.")
    assert "Ask Jo Lee" not in panel
    assert '<details id="reassign" class="side-section" open>' in html
    assert 'id="reassign-user"' in html  # the colleagues are there at once
    assert ">Release from Jo Lee</button>" in html
    assert 'id="reply-form"' not in html and 'id="hand-off"' not in html


def test_a_shortcut_with_nothing_to_press_says_why(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=other_agent)

    html = page(agent, case)

    refusals = dict(re.findall(r'data-shortcut-refusal="(\w)">([^<]+)<', html))
    claim = f"Priya Shah has case #{case.pk}, so you cannot claim it."
    assert refusals["c"] == f"{claim} Ask them, or a supervisor, to hand it over."
    assert refusals["r"].startswith(f"Priya Shah has case #{case.pk}, so you cannot reply to it.")
    assert set(refusals) == {"c", "r", "h", "e"}
    assert 'data-shortcut="c"' not in html


def test_the_shortcut_to_resolve_a_resolved_case_says_it_is_resolved(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)
    actions.set_status(case_id=case.pk, by=agent, status="resolved")

    html = page(agent, case)

    assert f'data-shortcut-refusal="e">Case #{case.pk} is resolved already.<' in html
    assert 'data-shortcut="e"' not in html


def test_handing_off_puts_the_holder_panel_where_the_composer_was(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    response = client_for(agent).post(
        url("case-hand-off", case),
        {"to_user": other_agent.pk, "note": "Over to you."},
        headers=HTMX,
    )

    html = response.content.decode()
    slot = html[html.index('<div id="reply-slot" hx-swap-oob="true">') :]
    assert "Priya Shah has this case." in text_of(slot) and 'id="reply-form"' not in slot
    assert 'role="status">Handed off.</p>' in html  # the hand-off's own panel says so


def test_taking_a_case_over_brings_the_composer_and_hand_off_back(case, agent, supervisor):
    actions.claim_case(case_id=case.pk, agent=agent)

    response = client_for(supervisor).post(url("case-release", case), headers=HTMX)

    html = response.content.decode()
    assert '<div id="reply-slot" hx-swap-oob="true">' in html and 'id="reply-form"' in html
    assert '<div id="hand-off-slot" hx-swap-oob="true">' in html
    assert '<details id="hand-off" class="side-section" data-shortcut="h">' in html  # closed
    slots = html[html.index('id="reply-slot"') : html.index('id="hand-off-slot"')]
    assert "Released to the queue." not in slots  # the header's notice stays the header's


def test_a_colleague_letting_go_brings_the_composer_back_on_the_next_refresh(
    case, agent, other_agent
):
    actions.claim_case(case_id=case.pk, agent=other_agent)
    jo = client_for(agent)
    assert 'name="holder_shown"' in page(agent, case)

    actions.release_case(case_id=case.pk, agent=other_agent)
    refresh = jo.get(url("case-timeline", case), {"holder_shown": "1"}, headers=HTMX)

    html = refresh.content.decode()
    assert '<div id="reply-slot" hx-swap-oob="true">' in html and 'id="reply-form"' in html
    assert 'id="latest-inbound" class="latest-inbound" hx-swap-oob' not in html


def test_a_manager_reads_the_case_without_any_action(case, manager):
    html = page(manager, case)

    assert "HomeHub flashing orange" in html
    assert "Neil Carver" in html
    for control in ("Claim", "Send", "Add note", "Hand off", "Resolve", "Mark as spam"):
        assert f">{control}</button>" not in html
    assert f'action="{url("case-claim", case)}"' not in html


ACTION_ROUTES = [
    "case-claim",
    "case-release",
    "case-reply",
    "case-reply-length",
    "case-note",
    "case-hand-off",
    "case-reassign",
    "case-status",
    "case-details",
    "case-spam",
]


@pytest.mark.parametrize("name", ACTION_ROUTES)
def test_a_manager_posting_an_action_gets_403_and_nothing_changes(case, manager, name):
    before = CaseEvent.objects.count()

    response = client_for(manager).post(
        url(name, case), {"text": "x", "note": "x", "status": "resolved", "spam": "1"}
    )

    assert response.status_code == 403
    assert CaseEvent.objects.count() == before


def test_an_agent_posting_reassign_gets_403(case, agent, other_agent):
    response = client_for(agent).post(url("case-reassign", case), {"to_user": other_agent.pk})

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assignee is None


def test_a_supervisor_reassigns_over_http(case, agent, other_agent, supervisor):
    actions.claim_case(case_id=case.pk, agent=agent)

    response = client_for(supervisor).post(
        url("case-reassign", case), {"to_user": other_agent.pk, "note": "Jo is off."}, headers=HTMX
    )

    assert 'role="status">Reassigned.</p>' in response.content.decode()
    case.refresh_from_db()
    assert case.assignee == other_agent


# Claiming


def test_an_action_on_a_case_that_does_not_exist_is_404(agent):
    response = client_for(agent).post(reverse("workspace:case-claim", kwargs={"case_id": 999}))

    assert response.status_code == 404


def test_claiming_with_htmx_updates_the_header_and_refreshes_the_timeline(case, agent):
    response = client_for(agent).post(url("case-claim", case), headers=HTMX)

    html = response.content.decode()
    assert 'id="case-header" class="case-header" hx-swap-oob="true"' in html
    assert 'data-testid="case-assignee">Jo Lee (you)</dd>' in html
    assert ">Release</button>" in html
    assert "case-changed" in response["HX-Trigger"]


def test_the_second_claimer_is_told_who_has_the_case(case, agent, other_agent):
    client_for(other_agent).post(url("case-claim", case), headers=HTMX)

    response = client_for(agent).post(url("case-claim", case), headers=HTMX)

    html = response.content.decode()
    assert f'<p class="error">Priya Shah has already claimed case #{case.pk}.</p>' in html
    assert 'data-testid="case-assignee">Priya Shah</dd>' in html
    assert ">Claim</button>" not in html
    assert "HX-Trigger" not in response


def test_without_htmx_a_refused_claim_comes_back_as_a_message_on_the_page(
    case, agent, other_agent
):
    actions.claim_case(case_id=case.pk, agent=other_agent)

    response = client_for(agent).post(url("case-claim", case), follow=True)

    assert response.redirect_chain == [(url("case-detail", case), 302)]
    assert f"Priya Shah has already claimed case #{case.pk}." in response.content.decode()


def test_the_holder_releases_the_case(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    client_for(agent).post(url("case-release", case), headers=HTMX)

    case.refresh_from_db()
    assert case.assignee is None


# Replying


def test_the_reply_channel_defaults_to_where_the_customer_wrote_last(ingest, case, neil, agent):
    dm = ingest(channel="x.dm", author=neil, text="DM", sent_at=T0 + timedelta(1)).message

    html = page(agent, case)

    chooser = html[html.index('<select id="reply-channel"') :]
    chooser = chooser[: chooser.index("</select>")]
    assert re.findall(r"<option value=\"(\d+)\"( selected)?>([^<]+)", chooser) == [
        (str(dm.pk), " selected", "X direct message to @neilcarver"),
        (str(case.messages.get(channel="x.mention").pk), "", "X public reply to @neilcarver"),
    ]


def test_the_latest_customer_message_is_not_repeated_just_below_itself(case, agent):
    html = page(agent, case)

    assert "HomeHub flashing orange" in html[html.index('id="timeline"') :]
    assert '<div id="latest-inbound" class="latest-inbound"></div>' in html  # hidden by CSS


def test_the_latest_customer_message_stays_above_the_composer(ingest, case, neil, agent):
    ingest(author=neil, text="Still flashing!", sent_at=T0 + timedelta(hours=1))
    actions.add_note(case_id=case.pk, author=agent, text="Asked the hardware team.")

    html = page(agent, case)

    latest = html.index('data-testid="latest-inbound"')
    assert html.index("Still flashing!", latest) < html.index('id="reply-form"')


def test_a_reply_is_queued_on_the_chosen_channel_and_the_composer_is_emptied(
    ingest, case, neil, agent
):
    mention = case.messages.get()
    ingest(channel="x.dm", author=neil, text="DM", sent_at=T0 + timedelta(1))

    response = client_for(agent).post(
        url("case-reply", case),
        {"text": "Thanks, Neil!", "answering_id": mention.pk},
        headers=HTMX,
    )

    reply = Message.objects.get(direction="outbound")
    assert (reply.channel, reply.parent, reply.text) == ("x.mention", mention, "Thanks, Neil! ^JL")
    html = response.content.decode()
    assert '<textarea id="reply-text"' in html and "Thanks, Neil!</textarea>" not in html
    assert 'id="presence-activity" name="activity" value="viewing" hx-swap-oob="true"' in html
    assert "case-changed" in response["HX-Trigger"]


def test_a_reply_after_a_reassignment_is_refused_and_the_text_kept(
    case, agent, other_agent, supervisor
):
    actions.claim_case(case_id=case.pk, agent=agent)
    actions.reassign_case(case_id=case.pk, by=supervisor, to_user_id=other_agent.pk)

    response = client_for(agent).post(
        url("case-reply", case), {"text": "My careful answer"}, headers=HTMX
    )

    html = response.content.decode()
    assert f"Priya Shah has case #{case.pk}, so you cannot reply to it." in html
    assert "My careful answer</textarea>" in html
    assert not Message.objects.filter(direction="outbound").exists()


@pytest.mark.parametrize(
    ("then", "status", "label"),
    [("resolved", "resolved", "Resolved"), ("pending", "pending", "Pending on customer")],
)
def test_send_and_set_the_status_in_one_go(case, agent, then, status, label):
    response = client_for(agent).post(
        url("case-reply", case), {"text": "Fixed now, Neil.", "then": then}, headers=HTMX
    )

    case.refresh_from_db()
    assert (case.status, case.assignee) == (status, agent)  # claimed by the reply, then set
    reply = Message.objects.get(direction="outbound")
    assert (reply.text, reply.delivery_status) == ("Fixed now, Neil. ^JL", "queued")
    html = response.content.decode()
    assert f'data-testid="case-status">{label}</span>' in html
    assert f"Reply queued; the case is now {label.lower()}." in html
    assert f"Jo Lee set the status: Open → {label}" in text_of(page(agent, case))


def test_a_refused_reply_leaves_the_status_as_it_was(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    response = client_for(agent).post(
        url("case-reply", case), {"text": "a" * 300, "then": "resolved"}, headers=HTMX
    )

    assert "shorten it by 24." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open"
    assert not Message.objects.filter(direction="outbound").exists()


def test_without_htmx_send_and_resolve_says_what_happened(case, agent):
    response = client_for(agent).post(
        url("case-reply", case), {"text": "Done.", "then": "resolved"}, follow=True
    )

    assert "Reply queued; the case is now resolved." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "resolved"


def test_a_reply_x_would_refuse_is_explained(case, agent):
    response = client_for(agent).post(url("case-reply", case), {"text": "a" * 300}, headers=HTMX)

    assert "This reply is 304 of 280 characters on X; shorten it by 24." in (
        response.content.decode()
    )


@pytest.fixture
def canned(db):
    return CannedResponse.objects.create(
        title="Restart", text="Hi {first_name}, please restart the hub.\r\n{agent_name}"
    )


def test_choosing_a_canned_response_fills_the_composer(case, agent, canned):
    response = client_for(agent).get(url("case-canned", case), {"canned_id": canned.pk})

    html = response.content.decode()
    assert ">Hi Neil, please restart the hub.\nJo Lee</textarea>" in html
    assert 'id="composer-status" hx-swap-oob="innerHTML"' in html


def test_a_canned_response_sent_unchanged_asks_first_then_sends_on_confirmation(
    case, agent, canned
):
    client = client_for(agent)
    text = "Hi Neil, please restart the hub.\r\nJo Lee"  # as the browser sends it

    asked = client.post(
        url("case-reply", case), {"text": text, "canned_id": canned.pk}, headers=HTMX
    )

    html = asked.content.decode()
    assert "without a single edit. Send it unchanged?" in html
    assert 'name="send_unchanged" value="1"' in html and ">Send unchanged</button>" in html
    assert f'<option value="{canned.pk}" selected>Restart</option>' in html
    assert not Message.objects.filter(direction="outbound").exists()

    client.post(
        url("case-reply", case),
        {"text": text, "canned_id": canned.pk, "send_unchanged": "1"},
        headers=HTMX,
    )
    assert Message.objects.filter(direction="outbound").count() == 1


def test_a_canned_response_confirmed_unchanged_keeps_send_and_resolve(case, agent, canned):
    client = client_for(agent)
    text = "Hi Neil, please restart the hub.\nJo Lee"

    asked = client.post(
        url("case-reply", case),
        {"text": text, "canned_id": canned.pk, "then": "resolved"},
        headers=HTMX,
    )
    assert 'value="resolved" class="primary">Send unchanged and resolve</button>' in (
        asked.content.decode()
    )
    case.refresh_from_db()
    assert case.status == "new"

    client.post(
        url("case-reply", case),
        {"text": text, "canned_id": canned.pk, "send_unchanged": "resolved"},
        headers=HTMX,
    )
    case.refresh_from_db()
    assert case.status == "resolved"
    assert Message.objects.filter(direction="outbound").count() == 1


def test_an_edited_canned_response_is_sent_at_once(case, agent, canned):
    client_for(agent).post(
        url("case-reply", case),
        {"text": "Hi Neil, please restart the hub now.\nJo Lee", "canned_id": canned.pk},
        headers=HTMX,
    )

    assert Message.objects.filter(direction="outbound").count() == 1


def test_the_x_counter_counts_the_signature_and_urls_as_x_does(case, agent):
    mention = case.messages.get()

    response = client_for(agent).post(
        url("case-reply-length", case),
        {
            "text": "See https://acme.com/help/hub-reset-guide ok",
            "answering_id": mention.pk,
        },
    )

    html = response.content.decode()
    # "See " 4 + URL 23 + " ok" 3 + " ^JL" 4
    assert 'data-testid="reply-length">34 / 280</span>' in html
    assert "246 left, counting your signature “^JL”" in html


def test_the_x_counter_says_by_how_much_a_reply_is_over(case, agent):
    response = client_for(agent).post(url("case-reply-length", case), {"text": "é" * 280})

    html = response.content.decode()
    assert 'class="counter counter-over" data-testid="reply-length">284 / 280' in html
    assert "4 over X's limit" in html


def test_a_messenger_reply_shows_the_window(ingest, agent):
    message = ingest(
        channel="facebook.message",
        author=AuthorFactory(),
        sent_at=timezone.now() - timedelta(hours=30),
    ).message

    response = client_for(agent).post(
        url("case-reply-length", message.case), {"text": "Hi", "answering_id": message.pk}
    )

    html = response.content.decode()
    assert 'data-testid="messenger-window"' in html
    assert "Messenger&#x27;s 24-hour window closed 6 hours ago" in html
    assert "a human agent may still answer" in html


# Notes, hand-offs, status, priority, tags and spam


def test_a_note_with_a_mention_shows_in_the_timeline_and_notifies(case, agent, other_agent):
    client = client_for(agent)

    response = client.post(url("case-note", case), {"text": "@priya can you check?"}, headers=HTMX)

    assert 'role="status">Note added.</p>' in response.content.decode()
    assert Notification.objects.get().recipient == other_agent
    assert '<mark class="mention" title="Priya Shah">@priya</mark> can you check?' in page(
        agent, case
    )


def test_a_note_marks_the_colleagues_it_names_and_only_them(case, agent, other_agent):
    actions.add_note(
        case_id=case.pk,
        author=other_agent,
        text="@jo, over to you. @nobody knows; <b>@jo</b> @<script>alert(1)</script>",
    )

    html = page(agent, case)

    note = html[html.index("entry-note") :]
    assert (
        '<mark class="mention" title="Jo Lee">@jo</mark>, over to you. @nobody knows; '
        '&lt;b&gt;<mark class="mention" title="Jo Lee">@jo</mark>&lt;/b&gt; '
        "@&lt;script&gt;alert(1)&lt;/script&gt;"
    ) in note
    assert "<script>alert(1)" not in html


def test_x_handles_in_a_customers_message_and_a_reply_are_marked(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)
    actions.reply_to_case(
        case_id=case.pk, agent=agent, text="@neilcarver sorry! Ask @acme_help too."
    )

    html = page(agent, case)

    assert '<mark class="mention">@acme_care</mark> HomeHub flashing orange' in html
    assert (
        '<mark class="mention">@neilcarver</mark> sorry! Ask <mark class="mention">@acme_help'
        "</mark> too."
    ) in html


def test_a_hand_off_without_a_note_is_refused_in_words(case, agent, other_agent):
    response = client_for(agent).post(
        url("case-hand-off", case), {"to_user": other_agent.pk, "note": ""}, headers=HTMX
    )

    assert "A hand-off needs a note: say what is done and what is left." in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert case.assignee is None


def test_a_hand_off_note_is_shown_on_top_of_the_page_to_its_recipient(case, agent, other_agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    response = client_for(agent).post(
        url("case-hand-off", case),
        {"to_user": other_agent.pk, "note": "Refund approved; send the label."},
        headers=HTMX,
    )

    assert 'role="status">Handed off.</p>' in response.content.decode()
    html = page(other_agent, case)
    notice = html[html.index('data-testid="hand-off-notice"') : html.index("</aside>")]
    assert "Jo Lee handed this case to you" in notice
    assert "Refund approved; send the label." in notice
    assert 'data-testid="hand-off-notice"' not in page(agent, case)


def test_a_hand_off_to_a_team(case, agent):
    team = Team.objects.create(name="Returns")
    agent.agent_profile.teams.add(team)

    client_for(agent).post(
        url("case-hand-off", case), {"to_team": team.pk, "note": "Needs a return."}, headers=HTMX
    )

    case.refresh_from_db()
    assert case.team == team
    assert "Jo Lee handed the case off to team Returns" in page(agent, case)


def test_the_hand_off_lists_are_fetched_when_the_panel_opens(case, agent, other_agent):
    team = Team.objects.create(name="Returns")
    fields = url("case-hand-off-fields", case)

    html = page(agent, case)
    panel = html[html.index('id="hand-off"') :]
    assert (
        f'hx-get="{fields}" hx-trigger="toggle once from:closest details" hx-target="this"'
        in panel
    )
    assert "Priya Shah" not in panel

    response = client_for(agent).get(fields, headers=HTMX)
    listed = response.content.decode()
    assert f'<option value="{other_agent.pk}">Priya Shah</option>' in listed
    assert f'<option value="{team.pk}">Returns</option>' in listed
    assert "Jo Lee" not in listed  # not to oneself


def test_the_reassign_lists_are_for_supervisors_only(case, agent, other_agent, supervisor):
    fields = url("case-reassign-fields", case)

    assert client_for(agent).get(fields).status_code == 403
    listed = client_for(supervisor).get(fields).content.decode()
    assert '<label for="reassign-user">Reassign to</label>' in listed
    assert f'<option value="{other_agent.pk}">Priya Shah</option>' in listed


def test_the_canned_picker_is_fetched_when_opened(case, agent, canned):
    picker = url("case-canned-picker", case)

    assert f'hx-get="{picker}"' in page(agent, case)
    listed = client_for(agent).get(picker).content.decode()
    assert f'<option value="{canned.pk}">Restart</option>' in listed


@pytest.mark.parametrize(
    "name", ["case-hand-off-fields", "case-reassign-fields", "case-canned-picker"]
)
def test_a_manager_cannot_fetch_the_action_panels(case, manager, name):
    assert client_for(manager).get(url(name, case)).status_code == 403


def test_resolving_from_the_header(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    response = client_for(agent).post(
        url("case-status", case), {"status": "resolved", "from": "header"}, headers=HTMX
    )

    assert 'data-testid="case-status">Resolved</span>' in response.content.decode()
    assert ">Reopen</button>" in response.content.decode()


def test_one_save_sets_status_priority_and_tags_each_in_the_history(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)

    response = client_for(agent).post(
        url("case-details", case),
        {"status": "pending", "priority": "urgent", "tags": "HomeHub, wifi ,"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert 'data-testid="case-status">Pending on customer</span>' in html
    assert 'data-testid="case-priority">Urgent</span>' in html
    assert '<span class="tag">homehub</span> <span class="tag">wifi</span>' in html
    assert 'role="status">Case details saved.</p>' in html
    history = text_of(page(agent, case))
    assert "Jo Lee set the status: Open → Pending on customer" in history
    assert "Jo Lee changed the priority: Normal → Urgent" in history
    kinds = list(case.events.filter(actor=agent).values_list("kind", flat=True).order_by("pk"))
    assert kinds[-3:] == ["status_changed", "priority_changed", "tags_changed"]


def test_saving_the_details_unchanged_records_nothing(case, agent):
    actions.claim_case(case_id=case.pk, agent=agent)
    before = CaseEvent.objects.count()

    client_for(agent).post(
        url("case-details", case),
        {"status": "open", "priority": "normal", "tags": ""},
        headers=HTMX,
    )

    assert CaseEvent.objects.count() == before


def test_an_agent_saves_priority_and_tags_of_a_colleagues_case_but_not_its_status(
    case, agent, other_agent
):
    actions.claim_case(case_id=case.pk, agent=other_agent)
    client = client_for(agent)

    # The disabled status field is not sent: priority and tags are saved.
    client.post(url("case-details", case), {"priority": "high", "tags": "vip"}, headers=HTMX)
    # A status sent anyway is refused in a sentence, and nothing of the form is saved.
    refused = client.post(
        url("case-details", case),
        {"status": "resolved", "priority": "low", "tags": "other"},
        headers=HTMX,
    )

    assert (
        f"Priya Shah has case #{case.pk}, so you cannot change its status. Ask them, or a "
        "supervisor, to hand it over."
    ) in refused.content.decode()
    case.refresh_from_db()
    assert (case.status, case.priority) == ("open", "high")
    assert list(case.tags.values_list("name", flat=True)) == ["vip"]


def test_spam_over_http(case, agent):
    response = client_for(agent).post(url("case-spam", case), {"spam": "1"}, headers=HTMX)

    html = response.content.decode()
    assert '<span class="spam-flag">Spam</span>' in html and ">Not spam</button>" in html


def test_an_unknown_status_is_refused_in_words(case, agent):
    response = client_for(agent).post(url("case-status", case), {"status": "gone"}, headers=HTMX)

    assert (
        "A case cannot be set to \u201cgone\u201d by hand; set it open, pending on the "
        "customer or resolved."
    ) in response.content.decode()


def test_a_status_left_empty_is_refused_in_words(case, agent):
    response = client_for(agent).post(url("case-status", case), {"status": ""}, headers=HTMX)

    assert (
        "Choose a status: open, pending on the customer or resolved." in response.content.decode()
    )


# Attachments


@pytest.fixture
def attachment(ingest):
    mail = ingest(
        channel="email",
        author=AuthorFactory(external_id="ines@example.org"),
        attachments=(
            InboundAttachment(
                filename="receipt.html",
                content_type="text/html",
                size=31,
                content=b"<script>alert('inline')</script>",
            ),
        ),
    ).message
    return Attachment.objects.get(message=mail)


def test_attachments_are_listed_and_downloaded_never_shown_inline(attachment, agent, manager):
    html = page(agent, attachment.message.case)
    download = attachment_url(attachment.pk)
    assert f'<a class="attachment-name" href="{download}" download>receipt.html</a>' in html

    for user in (agent, manager):
        response = client_for(user).get(download)
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="receipt.html"'
        assert response["Content-Type"] == "application/octet-stream"
        assert b"".join(response.streaming_content) == b"<script>alert('inline')</script>"


def test_an_anonymous_visitor_cannot_download(attachment):
    download = attachment_url(attachment.pk)

    response = Client().get(download)

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_attachment_too_large_to_store_is_listed_but_not_downloadable(attachment, agent):
    Attachment.objects.filter(pk=attachment.pk).update(
        content=b"", skipped_reason="Larger than the 10-byte limit."
    )
    download = attachment_url(attachment.pk)

    assert "not stored: Larger than the 10-byte limit." in page(agent, attachment.message.case)
    assert client_for(agent).get(download).status_code == 404


# Live updates


def version_of(html: str) -> str:
    return re.search(r'data-version="(\w+)"', html).group(1)


def test_the_timeline_answers_204_until_something_changes(ingest, case, neil, agent):
    client = client_for(agent)
    version = version_of(page(agent, case))
    timeline = url("case-timeline", case)

    assert client.get(timeline, {"version": version}, headers=HTMX).status_code == 204

    ingest(author=neil, text="Any news?", sent_at=T0 + timedelta(hours=2))
    response = client.get(timeline, {"version": version}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Any news?" in html
    assert 'id="case-header" class="case-header" hx-swap-oob="true"' in html
    assert 'id="latest-inbound" class="latest-inbound" hx-swap-oob="true"' in html
    assert client.get(timeline, {"version": version_of(html)}).status_code == 204


def test_a_poll_keeps_the_agents_chosen_reply_channel(ingest, case, neil, agent):
    mention = case.messages.get()
    version = version_of(page(agent, case))
    dm = ingest(channel="x.dm", author=neil, text="DM", sent_at=T0 + timedelta(1)).message

    response = client_for(agent).get(
        url("case-timeline", case), {"version": version, "answering_id": mention.pk}
    )

    html = response.content.decode()
    assert '<select id="reply-channel" name="answering_id" hx-swap-oob="true">' in html
    assert f'<option value="{mention.pk}" selected>X public reply' in html
    assert f'<option value="{dm.pk}">X direct message' in html
    assert 'id="case-details" class="side-section"' in html


def test_a_managers_poll_carries_no_controls(ingest, case, neil, manager):
    version = version_of(page(manager, case))
    ingest(author=neil, text="Hello?", sent_at=T0 + timedelta(1))

    html = client_for(manager).get(url("case-timeline", case), {"version": version}).content
    assert b"Hello?" in html
    assert b"reply-channel" not in html and b"case-details" not in html


def test_a_case_folded_by_a_merge_points_to_the_live_case(ingest, case, agent):
    other = ingest(channel="email", author=AuthorFactory(external_id="n@example.org")).message
    merge_customers(source=case.customer, target=other.case.customer)

    html = page(agent, case)

    assert (
        f'was merged into <a href="{url("case-detail", other.case)}">case #{other.case_id}' in html
    )
    assert ">Claim</button>" not in html and 'id="reply-form"' not in html


@pytest.mark.parametrize(
    "change",
    [
        lambda case, agent: actions.claim_case(case_id=case.pk, agent=agent),
        lambda case, agent: actions.add_note(case_id=case.pk, author=agent, text="Hm"),
        lambda case, agent: actions.set_priority(case_id=case.pk, by=agent, priority="high"),
        lambda case, agent: Message.objects.filter(direction="outbound").update(
            delivery_status=Message.Delivery.FAILED, delivery_error="Down"
        ),
    ],
    ids=["claim", "note", "priority", "delivery"],
)
def test_the_timeline_changes_version_for_what_others_do(case, agent, other_agent, change):
    actions.reply_to_case(case_id=case.pk, agent=other_agent, text="Hello")
    actions.release_case(case_id=case.pk, agent=other_agent)
    version = version_of(page(agent, case))

    change(case, agent)

    response = client_for(agent).get(url("case-timeline", case), {"version": version})
    assert response.status_code == 200


def test_presence_shows_who_else_is_viewing_or_replying(case, agent, other_agent, supervisor):
    presence.report(
        case_id=case.pk, user_id=other_agent.pk, name="Priya Shah", activity="replying"
    )
    presence.report(case_id=case.pk, user_id=supervisor.pk, name="Sam Ortiz", activity="viewing")

    response = client_for(agent).post(url("case-presence", case), {"activity": "viewing"})

    html = response.content.decode()
    assert (
        '<p class="presence-replying" data-testid="presence"><strong>Priya Shah is replying'
        in html
    )
    assert "Sam Ortiz is viewing" in html
    assert "Jo Lee" not in html
    assert ("Jo Lee", "viewing") in presence.others(case_id=case.pk, user_id=other_agent.pk)


# Query count


def grown_case(ingest, agent, other_agent, *, rounds):
    """A case with ``rounds`` of messages on every channel (folded in by a merge) and history
    of every kind."""
    author = AuthorFactory()
    case = ingest(author=author, text="First", sent_at=T0).message.case
    mail = AuthorFactory(external_id=f"{author.external_id}@example.org")
    mail_case = ingest(channel="email", author=mail, text="Hello", sent_at=T0).message.case
    merge_customers(source=mail_case.customer, target=case.customer)
    team = Team.objects.create(name=f"Team {author.external_id}")
    quote = "On Mon, 2 Nov 2026 at 09:00, Acme <care@acme-home.example> wrote:\n> Hello"
    for i in range(rounds):
        at = T0 + timedelta(minutes=10 * i + 1)
        ingest(author=author, channel="x.dm", text=f"DM {i}", sent_at=at)
        message = ingest(
            author=mail,
            channel="email",
            text=f"Mail {i}\n\n{quote}",
            html=f"<p>Mail {i}</p>",
            sent_at=at,
            attachments=(InboundAttachment("a.txt", "text/plain", 1, b"a"),),
        ).message
        actions.claim_case(case_id=case.pk, agent=agent)
        actions.reply_to_case(
            case_id=case.pk, agent=agent, text=f"Reply {i}", answering_id=message.pk
        )
        actions.add_note(case_id=case.pk, author=agent, text=f"Note {i} @priya")
        actions.hand_off_case(
            case_id=case.pk, by=agent, note="Over", to_user_id=other_agent.pk, to_team_id=team.pk
        )
        actions.set_tags(case_id=case.pk, by=other_agent, names=[f"t{i}"])
        actions.release_case(case_id=case.pk, agent=other_agent)
    return case


# The page frame (session, the user with their profile, their permissions, the bell) takes 4
# of these, the user's teams 1 (read once for the page: may they see the case, and the side
# bar's team queues), its side bar's queue counts 2 (the kept counts, the cases due soon), the
# merge suggestions panel 1 (and 1 to keep to the customers the user sees, when it has any);
# the case page's own reads take the other 7: the case with its tags, messages, attachments,
# history (with merged-in cases), the colleagues notes @mention (when any note names
# someone), identities, other cases.
CASE_PAGE_QUERIES = 16


def test_the_case_page_takes_the_same_few_queries_however_long_the_case(
    ingest, agent, other_agent, supervisor, canned
):
    short = grown_case(ingest, agent, other_agent, rounds=1)
    long = grown_case(ingest, agent, other_agent, rounds=10)
    assert long.messages.count() >= 30 and long.events.count() >= 30
    supervisor.agent_profile.teams.add(*Team.objects.all())  # the teams the cases went to
    client = client_for(supervisor)
    # The first request of a session also records that the agent is online.
    client.get(url("case-detail", short))

    counts = []
    for case, rounds in ((short, 1), (long, 10)):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("case-detail", case))
        assert response.content.decode().count("entry entry-message entry-note") == rounds
        counts.append(len(queries))

    assert counts[0] == counts[1] <= CASE_PAGE_QUERIES, counts


def test_routing_and_a_closing_thanks_show_in_the_timeline(client, ingest, agent):
    leeds = Team.objects.create(name="Leeds")
    RoutingRule.objects.create(name="Leeds words", keywords="leeds", set_team=leeds)
    RoutingRule.objects.create(name="Thanks", closing_thanks=True, mark_no_reply=True, position=1)
    author = AuthorFactory()
    case = ingest(author=author, text="@acme_care the Leeds store lost my order").message.case
    ingest(author=author, text="Thanks so much!")
    agent.agent_profile.teams.add(leeds)
    client.force_login(agent)

    html = client.get(f"/cases/{case.pk}/").content.decode()

    assert "Routing rules (Leeds words) set team Leeds" in html
    assert html.count('data-testid="no-reply"') == 1


def test_direction_overrides_stay_in_their_box_and_out_of_downloads(ingest, agent):
    """A name or file name holding U+202E would make "\u202egnp.exe" read "exe.png"."""
    mail = ingest(
        channel="email",
        author=AuthorFactory(external_id="ines@example.org", display_name="\u202eX11gnp.exe"),
        subject="\u202eevil subject",
        attachments=(
            InboundAttachment(
                filename="\u202egnp.exe", content_type="image/png", size=3, content=b"abc"
            ),
        ),
    ).message
    attachment = Attachment.objects.get(message=mail)
    download = attachment_url(attachment.pk)

    response = client_for(agent).get(download)
    inbox = client_for(agent).get(reverse("workspace:inbox")).content.decode()
    case_page = page(agent, mail.case)

    assert response["Content-Disposition"] == 'attachment; filename="gnp.exe"'
    assert "<bdi>\u202eX11gnp.exe</bdi>" in inbox
    assert "<bdi>\u202eevil subject</bdi></h1>" in case_page
    assert 'class="attachment-name"' in case_page  # isolated by workspace.css
    stylesheet = (Path(settings.BASE_DIR) / "static/css/workspace.css").read_text()
    assert re.search(r"\.attachment-name,[^}]*unicode-bidi: isolate", stylesheet, re.S)


def test_an_attachment_link_cannot_be_guessed_from_its_number(attachment, agent):
    guessed = reverse(
        "workspace:attachment-download",
        kwargs={"attachment_id": attachment.pk, "download_key": "0" * 32},
    )

    assert client_for(agent).get(guessed).status_code == 404
    assert client_for(agent).get(f"/attachments/{attachment.pk}/").status_code == 404


def test_a_comment_shows_the_post_it_was_written_under_or_the_comment_on_the_case_it_answers(
    ingest, agent
):
    bea = AuthorFactory(external_id="100066745989389", display_name="Bernadette Quinn")
    on_post = {"channel": "facebook.comment", "author": bea, "context": "Our <i>new</i> hub!"}
    first = ingest(
        external_id="7_1", text="Is it out?", in_reply_to=("9_7",), sent_at=T0, **on_post
    ).message
    second = ingest(
        external_id="7_2",
        text="Hello?",
        in_reply_to=("7_1", "9_7"),
        sent_at=T0 + timedelta(minutes=5),
        **on_post,
    ).message
    assert second.parent == first

    html = page(agent, first.case)

    contexts = re.findall(
        r'<blockquote class="context" data-testid="context">(.*?)</blockquote>', html
    )
    assert [text_of(c).strip() for c in contexts] == [
        "On the page&#x27;s post: Our &lt;i&gt;new&lt;/i&gt; hub!",
        "In reply to Bernadette Quinn: Is it out?",
    ]
    assert "<details" not in "".join(contexts)  # short enough to show whole
    assert html.index(contexts[1]) < html.index('<div class="entry-body">Hello?')
