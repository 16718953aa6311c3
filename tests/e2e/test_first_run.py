"""A new install in the browser: the first visit leads to the setup, the admin signs up with
the logged key, and connects the brand's X account after testing it against the sandbox."""

import pytest
from playwright.sync_api import expect

from channels.models import ChannelAccount
from demo.sandbox.server import Sandbox
from staff import onboarding
from tests.conftest import free_port
from tests.e2e.conftest import TIMEOUT_MS, VIEWPORT, db_turn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox_server(tmp_path):
    """The platforms, with nothing connected to them yet."""
    running = Sandbox(maildir=tmp_path / "maildir", smtp_port=free_port()).start()
    yield running
    running.stop()


def test_the_installer_sets_up_a_new_install_in_the_browser(
    browser, live_server, sandbox_server, screenshots
):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/")

    expect(page.get_by_role("heading", name="Set up CareInbox")).to_be_visible()
    page.get_by_label("Setup key").fill(onboarding.setup_key())
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Username").fill("amara")
    page.get_by_label("Your name, as colleagues see it").fill("Amara Obi")
    page.get_by_label("Email").fill("amara@acme.example")
    page.locator("#id_password").fill("kettle-lamp-sofa-42")
    page.get_by_label("Password again").fill("kettle-lamp-sofa-42")
    page.get_by_role("button", name="Create the admin and continue").click()
    page.get_by_label("Team name").fill("Care team")
    page.get_by_role("button", name="Create the team and continue").click()
    page.get_by_role("link", name="Skip this step").click()

    x = page.locator("form", has=page.get_by_role("heading", name="X", exact=True))
    x.get_by_label("The brand's handle, without @").fill("acme_care")
    x.get_by_label("Bearer token (reading)").fill("sandbox-bearer-token")
    x.get_by_label("API address (leave empty for X itself)").fill(sandbox_server.url)
    x.get_by_role("button", name="Test connection").click()
    result = page.get_by_test_id("test-x")
    expect(result).to_contain_text("It works: Signed in to X as @acme_care")
    page.screenshot(path=screenshots / "setup-channels.png", full_page=True)
    # What was typed is still there, secrets included: Connect tests again, then saves.
    x = page.locator("form", has=page.get_by_role("heading", name="X", exact=True))
    x.get_by_role("button", name="Connect", exact=True).click()

    expect(page.get_by_text("Connected @acme_care.")).to_be_visible()
    with db_turn():
        assert ChannelAccount.objects.get().name == "@acme_care"
    context.close()
