"""The agent workspace's whole story in a real browser, with the sandbox as X and the mail
server: a tweet arrives live, two agents race to claim it, the winner replies on X, the same
customer emails, a supervisor merges the two customers, the case is handed off and reassigned,
and hostile message content runs nothing."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from cases.models import CaseEvent, Message
from demo.sample import DEMO_TRAFFIC
from demo.sandbox import mail
from tests.e2e.conftest import Desk, arrive, db_turn, poll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DANA_ON_X = {
    "id": "2750019911",
    "handle": "dana_whitfield",
    "name": "Dana Whitfield",
    "followers": 312,
}
DANA_BY_MAIL = {"email": "dana.whitfield@example.org", "name": "Dana Whitfield"}
TWEET = (
    "@acme_care my new kettle from the Leeds store trips the fuse every time. Order AH-55120-UK"
)
REPLY = "Sorry about that, Dana! Please unplug it; I'm booking a swap for you now."
CLAIM = re.compile(r"/cases/\d+/claim/$")
HAND_OFF_NOTE = "Swap booked for Thursday. Left: confirm the courier slot with Dana."
HOSTILE = (
    "@acme_care <script>alert(1)</script> <img src=x onerror=alert(1)> "
    'see javascript:alert(1) and <a href="javascript:alert(1)">my receipt</a>'
)


def case_row(page: Page, name: str):
    return page.locator("[data-case-row]").filter(has=page.get_by_role("link", name=name))


def queue_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Queues").get_by_role(
        "link", name=re.compile(rf"^{name} \d+$")
    )


def mark_page(desk: Desk) -> None:
    """Mark the page's window: the mark survives htmx swaps and disappears on a reload."""
    desk.page.evaluate("() => { window.notReloaded = true; }")


def assert_not_reloaded(desk: Desk) -> None:
    assert desk.page.evaluate("() => window.notReloaded === true"), "the page was reloaded"


def test_the_workspace_story(sign_in, sandbox, agent, other_agent, supervisor, screenshots):
    # A working inbox: the last hours of the sample week, polled through the real clients.
    sandbox.state.load(DEMO_TRAFFIC.read_bytes().splitlines()[-12:], rebase_to=timezone.now())
    mail.deliver_visible(sandbox)
    poll()

    jo, priya = sign_in(agent), sign_in(other_agent)
    expect(jo.page.get_by_role("heading", level=1)).to_have_text("Unassigned")
    mark_page(jo)

    # A tweet arrives and shows in Unassigned without a reload.
    arrive(sandbox, id="story-tweet", channel="x.mention", author=DANA_ON_X, text=TWEET)
    poll()
    row = case_row(jo.page, "Dana Whitfield")
    expect(row).to_be_visible()
    expect(row).to_contain_text("trips the fuse")
    expect(row).to_contain_text("Unassigned")
    assert_not_reloaded(jo)
    jo.page.screenshot(path=screenshots / "inbox.png", caret="initial")

    # Both agents open the case before either claims it.
    row.get_by_role("link", name="Dana Whitfield").click()
    expect(jo.page).to_have_url(re.compile(r"/cases/\d+/$"))
    case_url = jo.page.url
    case_id = int(case_url.rstrip("/").rsplit("/", 1)[1])
    priya.page.goto(case_url)
    for desk in (jo, priya):
        expect(desk.page.get_by_role("button", name="Claim")).to_be_visible()

    # They click Claim at the same moment; Priya's request reaches the server just after Jo's.
    held: list[Route] = []
    priya.page.route(CLAIM, lambda route: held.append(route))
    with jo.page.expect_response(CLAIM) as jo_claim, priya.page.expect_request(CLAIM):
        jo.page.get_by_role("button", name="Claim").click()
        priya.page.get_by_role("button", name="Claim").click()
    assert jo_claim.value.ok
    for _ in range(100):
        if held:
            break
        priya.page.wait_for_timeout(20)
    [priyas_claim] = held
    priyas_claim.continue_()
    priya.page.unroute(CLAIM)

    expect(jo.page.get_by_test_id("case-assignee")).to_have_text("Jo Lee (you)")
    expect(priya.page.get_by_role("alert").filter(has_text="Jo Lee has")).to_have_text(
        f"Jo Lee has already claimed case #{case_id}."
    )
    expect(priya.page.get_by_test_id("case-assignee")).to_have_text("Jo Lee")
    expect(priya.page.get_by_role("button", name="Claim")).to_have_count(0)
    with db_turn():
        assert CaseEvent.objects.filter(case_id=case_id, kind=CaseEvent.Kind.CLAIMED).count() == 1

    # Jo replies on X; the reply reaches the sandbox in the tweet's thread, signed.
    expect(jo.page.get_by_label("Reply on").locator("option:checked")).to_have_text(
        "X public reply to @dana_whitfield"
    )
    composer = jo.page.get_by_label("Reply to the customer")
    composer.fill(REPLY[:-1])
    composer.press_sequentially(REPLY[-1])  # typing: the live counter follows keystrokes
    expect(jo.page.get_by_test_id("reply-length")).to_have_text(f"{len(REPLY) + 4} / 280")
    jo.page.get_by_role("button", name="Send", exact=True).click()
    expect(jo.page.get_by_role("article", name="Reply from Jo Lee")).to_contain_text(REPLY)
    expect(jo.page.get_by_test_id("delivery")).to_have_text("Sent")
    # The composer is ready for the next reply, still on X.
    expect(jo.page.get_by_label("Reply to the customer")).to_have_value("")
    expect(jo.page.get_by_label("Reply on").locator("option:checked")).to_have_text(
        "X public reply to @dana_whitfield"
    )
    with db_turn():
        tweet = Message.objects.get(case_id=case_id, direction="inbound", channel="x.mention")
    [sent] = sandbox.state.sent("x")
    assert sent.payload["text"] == f"{REPLY} ^JL"
    assert sent.payload["referenced_tweets"] == [{"type": "replied_to", "id": tweet.external_id}]
    mark_page(jo)

    # The same customer emails; a supervisor merges the two customers from the case page.
    arrive(
        sandbox,
        id="story-mail",
        channel="email",
        author=DANA_BY_MAIL,
        subject="Kettle swap",
        text=(
            "Hello, I tweeted you as @dana_whitfield about my kettle. Is Thursday morning "
            "possible for the swap?\n\nDana"
        ),
        html=(
            "<p>Hello, is Thursday morning possible for the swap?</p>"
            "<script>alert('mail')</script><img src=x onerror=alert('mail')>"
        ),
    )
    poll()
    sam = sign_in(supervisor)
    sam.page.goto(case_url)
    suggestions = sam.page.get_by_role("region", name="May be the same customer")
    expect(suggestions.get_by_test_id("suggestion")).to_contain_text("Dana Whitfield")
    suggestions.get_by_role("link", name="Compare with Dana Whitfield").click()
    expect(sam.page.get_by_role("heading", name="Same customer?")).to_be_visible()
    expect(
        sam.page.get_by_test_id("history-message").filter(has_text="Kettle swap")
    ).to_be_visible()
    sam.page.get_by_role("button", name="Merge customers").click()
    expect(sam.page).to_have_url(case_url)
    expect(sam.page.get_by_role("status").filter(has_text="Merged")).to_have_text(
        "Merged: Dana Whitfield is now one customer."
    )
    timeline = sam.page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("article", name="Message from Dana Whitfield")).to_have_count(2)
    expect(timeline).to_contain_text("Kettle swap")
    # Jo, still on the case, sees the email arrive in the timeline by itself.
    expect(jo.page.get_by_role("region", name="Timeline")).to_contain_text("Kettle swap")
    assert_not_reloaded(jo)

    # Jo hands off to Priya with a note.
    hand_off = jo.page.locator("details#hand-off")
    hand_off.locator("summary").click()
    hand_off.get_by_label("To a colleague").select_option(label="Priya Shah")
    note = hand_off.get_by_label("Note for them (required)")
    hand_off.get_by_role("button", name="Hand off").click()
    assert note.evaluate("field => field.validity.valueMissing")  # not sent without a note
    expect(jo.page.get_by_test_id("case-assignee")).to_have_text("Jo Lee (you)")
    note.fill(HAND_OFF_NOTE)
    hand_off.get_by_role("button", name="Hand off").click()
    expect(hand_off.get_by_role("status")).to_have_text("Handed off.")
    expect(jo.page.get_by_test_id("case-assignee")).to_have_text("Priya Shah")

    # Priya finds it in Mine with the note on top, and the whole history on the case.
    priya.page.goto("/")
    queue_link(priya.page, "Mine").click()
    expect(priya.page.get_by_role("heading", level=1)).to_have_text("Mine")
    mine = case_row(priya.page, "Dana Whitfield")
    expect(mine).to_contain_text(f"Handed off to you by Jo Lee: {HAND_OFF_NOTE}")
    mine.get_by_role("link", name="Dana Whitfield").click()
    expect(priya.page).to_have_url(case_url)
    notice = priya.page.get_by_test_id("hand-off-notice")
    expect(notice).to_contain_text("Jo Lee handed this case to you")
    expect(notice).to_contain_text(HAND_OFF_NOTE)
    history = priya.page.get_by_role("region", name="Timeline")
    messages = history.get_by_role("article")
    expect(messages).to_have_count(3)
    expect(messages.nth(0)).to_contain_text("trips the fuse")
    expect(messages.nth(1)).to_have_accessible_name("Reply from Jo Lee")
    expect(messages.nth(1)).to_contain_text(f"{REPLY} ^JL")
    expect(messages.nth(2)).to_contain_text("Kettle swap")
    expect(history).to_contain_text("Jo Lee claimed the case")
    expect(history).to_contain_text("Sam Ortiz merged customers")
    expect(history).to_contain_text("Jo Lee handed the case off")
    expect(history).to_contain_text(HAND_OFF_NOTE)
    priya.page.screenshot(path=screenshots / "case.png", full_page=True, caret="initial")
    mark_page(priya)

    # The supervisor reassigns it back to Jo; Priya's open page follows.
    sam.page.reload()
    reassign = sam.page.locator("details#reassign")
    expect(reassign).to_have_attribute("open", "")  # open on a case someone else holds
    reassign.get_by_label("Reassign to").select_option(label="Jo Lee")
    reassign.get_by_role("button", name="Reassign").click()
    expect(reassign.get_by_role("status")).to_have_text("Reassigned.")
    expect(sam.page.get_by_test_id("case-assignee")).to_have_text("Jo Lee")
    expect(priya.page.get_by_test_id("case-assignee")).to_have_text("Jo Lee")
    assert_not_reloaded(priya)
    jo.page.goto("/?queue=mine")
    expect(case_row(jo.page, "Dana Whitfield")).to_contain_text("Reassigned to you by Sam Ortiz")

    # Hostile content arrives on the case Jo has open: shown as text, running nothing.
    case_row(jo.page, "Dana Whitfield").get_by_role("link", name="Dana Whitfield").click()
    mark_page(jo)
    arrive(sandbox, id="story-hostile", channel="x.mention", author=DANA_ON_X, text=HOSTILE)
    poll()
    hostile = (
        jo.page.get_by_role("region", name="Timeline")
        .get_by_role("article", name="Message from Dana Whitfield")
        .filter(has_text="<script>")
    )
    expect(hostile).to_contain_text("<script>alert(1)</script> <img src=x onerror=alert(1)>")
    expect(hostile).to_contain_text('<a href="javascript:alert(1)">my receipt</a>')
    assert (
        jo.page.locator(
            "main script, main img[src=x], [onerror], a[href^='javascript:' i]"
        ).count()
        == 0
    )
    hostile.get_by_text("javascript:alert(1)", exact=False).first.click()
    jo.page.get_by_text("Show formatted email").click()
    jo.page.wait_for_timeout(300)
    expect(jo.page).to_have_url(case_url)
    assert_not_reloaded(jo)

    for desk in (jo, priya, sam):
        assert desk.dialogs == [], desk.dialogs
        assert desk.page_errors == [], desk.page_errors
        assert desk.console_errors == [], desk.console_errors
