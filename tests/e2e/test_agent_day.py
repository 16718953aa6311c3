"""An agent's day on the demo's data, in Chromium on a phone (390 px) and on a laptop
(1,440 px): sign in, find a resolved case by a word its customer wrote, claim a case and
answer it with "Send and resolve", hand another to a colleague and see it as theirs. No page
scrolls sideways. With CAREINBOX_README_SCREENSHOTS=1 the screenshots land in docs/screenshots
for the README."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from cases.models import Case, Message
from demo.sample import DEMO_TRAFFIC
from demo.sandbox import mail
from demo.setup import DEMO_PASSWORD, set_up_demo
from tests.e2e.conftest import arrive, db_turn, poll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1440)
DEMO_EVENTS = 80
WORD = re.compile(r"[A-Za-z]{9,}")


@pytest.fixture
def demo(sandbox):
    """The demo's last day polled through the sandbox, with its simulated agents' work
    done (the whole week takes a minute to set up, and shows nothing more here)."""
    traffic = DEMO_TRAFFIC.read_bytes().splitlines()[-DEMO_EVENTS:]
    with db_turn():
        simulation = set_up_demo(sandbox=sandbox, speed=0, traffic=traffic).simulation
    mail.deliver_visible(sandbox)
    poll()
    with db_turn():
        assert simulation is not None
        simulation.step(until=sandbox.state.events[-1].at)


def assert_no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls {overflow} px sideways"


def resolved_case_and_word(used: set[int]) -> tuple[int, str]:
    """A resolved case and an uncommon word its customer wrote."""
    with db_turn():
        for message in Message.objects.filter(
            direction="inbound", case__status=Case.Status.RESOLVED, spam_reason=""
        ).exclude(case__in=used):
            words = WORD.findall(message.text)
            if words:
                return message.case_id, max(words, key=len)
    raise AssertionError("The demo has no resolved case with a long word in it.")


def open_unassigned_case(page: Page, width: int) -> None:
    page.goto("/")
    if width < 900:  # the queues fold into a menu on a phone
        page.get_by_role("button", name="Queues").click()
    page.get_by_role("navigation", name="Queues").get_by_role(
        "link", name=re.compile(r"^Unassigned \d+$")
    ).click()
    page.locator("[data-case-row] a[data-open]").first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))


def two_customers_write(sandbox, width: int) -> None:
    """Live traffic: two new customers write on X, and wait in Unassigned."""
    for n, text in enumerate(
        ["my dishwasher stopped mid-cycle, error E24", "where is my order? it was due yesterday"]
    ):
        author = {
            "id": f"90{width}{n}",
            "handle": f"new_customer_{width}_{n}",
            "name": "Robin Hale",
        }
        arrive(
            sandbox,
            id=f"day-{width}-{n}",
            channel="x.mention",
            author=author,
            text=f"@acme_care {text}",
        )
    poll()


def test_an_agents_day_on_a_phone_and_a_laptop(demo, sandbox, sign_in, screenshots):
    with db_turn():
        priya = User.objects.get(username="priya")
    searched: set[int] = set()
    for width in WIDTHS:
        two_customers_write(sandbox, width)
        desk = sign_in(priya, width=width, password=DEMO_PASSWORD)
        page = desk.page
        expect(page.get_by_role("heading", level=1)).to_have_text("Unassigned")
        assert_no_sideways_scroll(page)
        page.screenshot(path=screenshots / f"agent-day-{width}-inbox.png")

        # The top bar searches every case, resolved ones too.
        case_id, word = resolved_case_and_word(searched)
        searched.add(case_id)
        page.get_by_role("searchbox", name=re.compile("Search all cases")).fill(word)
        page.keyboard.press("Enter")
        found = page.locator("[data-case-row]").filter(has_text=f"#{case_id}")
        expect(found).to_be_visible()
        expect(found).to_contain_text("Resolved")
        assert_no_sideways_scroll(page)
        page.screenshot(path=screenshots / f"agent-day-{width}-search.png")

        # Claim a case and answer it, resolving it in the same click.
        open_unassigned_case(page, width)
        page.get_by_role("button", name="Claim", exact=True).click()
        page.get_by_label("Reply to the customer").fill(
            "Thanks for waiting. That is sorted now; write again if anything else comes up."
        )
        page.get_by_role("button", name="Send and resolve").click()
        expect(page.locator("#case-status-select")).to_have_value("resolved")
        assert_no_sideways_scroll(page)
        page.screenshot(path=screenshots / f"agent-day-{width}-case.png")

        # Hand the next one to Jo, and see it as Jo's.
        open_unassigned_case(page, width)
        page.get_by_role("button", name="Claim", exact=True).click()
        page.locator("#hand-off summary").click()
        page.get_by_label("To a colleague").select_option(label="Jo Lee")
        page.get_by_label("Note for them (required)").fill(
            "Asked for the order number; over to you."
        )
        page.locator("#hand-off").get_by_role("button", name="Hand off").click()
        expect(page.get_by_test_id("holder-panel")).to_contain_text("Jo Lee has this case.")
        expect(page.get_by_role("button", name="Ask Jo Lee")).to_be_visible()
        assert_no_sideways_scroll(page)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=screenshots / f"agent-day-{width}-held.png")

        assert desk.csp_violations == [] and desk.page_errors == []
