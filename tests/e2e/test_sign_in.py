"""Signing in through the real form, and the Content-Security-Policy holding in a real
browser."""

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.test_two_factor import code_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOSTILE = '"><script>alert("script")</script><img src=x onerror=alert("onerror")>'


def test_an_agent_signs_in_through_the_form_and_lands_on_the_inbox(sign_in, agent):
    desk = sign_in(agent)

    expect(desk.page).to_have_title(re.compile(r"^Inbox"))
    expect(desk.page.get_by_role("navigation", name="Account")).to_contain_text("Jo Lee")
    expect(desk.page.get_by_role("navigation", name="Queues")).to_be_visible()
    assert desk.page_errors == [] and desk.console_errors == []


def test_a_wrong_password_is_refused_with_a_message(browser, live_server, agent):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

    page.get_by_label("Username").fill("jo")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Your username and password didn't match. Please try again."
    )
    expect(page.get_by_role("navigation", name="Queues")).to_have_count(0)
    context.close()


def test_hostile_text_in_a_page_is_shown_as_text_and_runs_nothing(sign_in, agent):
    desk = sign_in(agent)
    page = desk.page

    # The search box echoes the query into the page.
    page.goto(f"/?queue=everything&q={quote(HOSTILE)}")
    expect(page.get_by_role("searchbox", name="Search all cases")).to_have_value(HOSTILE)
    assert page.locator("img[src=x]").count() == 0

    # Markup that got past escaping anyway would still run nothing: the policy refuses inline
    # scripts and event handlers.
    with pytest.raises(PlaywrightError, match="violates the following Content Security Policy"):
        page.add_script_tag(content='alert("inline script")')
    page.evaluate(
        """html => document.querySelector("main").insertAdjacentHTML("beforeend", html)""",
        '<img id="planted" src="/nothing.png" onerror="alert(\'onerror\')">',
    )
    expect(page.locator("#planted")).to_be_attached()
    page.wait_for_function(
        "() => performance.getEntriesByName(location.origin + '/nothing.png').length > 0"
    )
    page.wait_for_timeout(200)

    assert desk.dialogs == []
    assert any("inline event handler" in v for v in desk.csp_violations), desk.console_errors
    assert desk.page_errors == []


def test_a_supervisor_sets_up_two_factor_sign_in_in_the_browser(
    browser, live_server, supervisor, settings, screenshots
):
    settings.CAREINBOX_REQUIRE_TWO_FACTOR = True
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and not msg.location.get("url", "").endswith("/favicon.ico")  # Chromium's own ask
            and errors.append(msg.text)
        ),
    )
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/accounts/two-factor/set-up/\?next=/$"))
    qr = page.get_by_role("img", name="QR code to add CareInbox to an authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.naturalWidth") > 0
    page.screenshot(path=screenshots / "two-factor-setup.png", full_page=True)
    key = page.locator("code.otp-key").inner_text()
    page.get_by_label("Code").fill(code_for(key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page).to_have_title(re.compile(r"^Inbox"))
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is on")
    assert errors == []
    context.close()
