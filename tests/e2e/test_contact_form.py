"""The contact form as a customer meets it: embedded in the brand's own help page, on another
site, by the one script tag the README gives."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from cases.models import Message
from channels.models import ChannelAccount
from demo import sample
from intake.models import QuarantinedPayload
from tests.e2e.conftest import db_turn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def form_account(transactional_db, settings) -> ChannelAccount:
    settings.CAREINBOX_CONTACT_FORM_MIN_SECONDS = 1
    with db_turn():
        account = sample.accounts()["email"]
        account.settings = {**account.settings, "contact_form": True, "brand": "Acme Home"}
        account.save()
    return account


@pytest.fixture
def help_page(live_server, form_account) -> Iterator[str]:
    """The brand's help page, on a site of its own (127.0.0.1, where CareInbox is localhost),
    with the embed script in it."""
    script = f"{live_server.url}/contact/{form_account.pk}/embed.js"
    html = (
        "<!doctype html><html><head><meta name='viewport' content='width=device-width'>"
        "<title>Acme Home help</title></head><body><h1>Acme Home help centre</h1>"
        f"<p>Still stuck? Write to us.</p><script src='{script}'></script></body></html>"
    ).encode()

    class HelpPage(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), HelpPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def open_form(browser, help_page, *, viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(help_page)
    frame = page.frame_locator("iframe[title='Contact form']")
    expect(frame.get_by_role("heading", name="Contact Acme Home")).to_be_visible()
    return page, frame, errors


def fill_in(frame) -> None:
    frame.get_by_label("Name").fill("Nadia Petrova")
    frame.get_by_label("Email address").fill("nadia@example.org")
    frame.get_by_label("Message").fill("My dishwasher stopped mid-cycle and shows E24.")
    frame.get_by_label("Order reference (optional)").fill("AC-10442")


def test_a_customer_writes_from_the_brand_s_help_page(browser, help_page, screenshots):
    page, frame, errors = open_form(browser, help_page)
    fill_in(frame)
    page.wait_for_timeout(1100)  # as long as a person takes at least, in this test's setting
    send = frame.get_by_role("button", name="Send")
    # The frame is as tall as the form: Send shows without scrolling inside the frame.
    frame_box = page.locator("iframe[title='Contact form']").bounding_box()
    send_box = send.bounding_box()
    assert send_box["y"] + send_box["height"] <= frame_box["y"] + frame_box["height"]
    page.screenshot(path=screenshots / "contact-form.png", full_page=True)

    send.click()

    expect(frame.get_by_role("status")).to_contain_text("We have your message")
    with db_turn():
        message = Message.objects.get()
        assert message.text.startswith("My dishwasher stopped mid-cycle")
        assert message.author_identity.external_id == "nadia@example.org"
        assert not QuarantinedPayload.objects.exists()
    assert errors == []
    page.context.close()


def test_a_bot_that_fills_the_hidden_field_is_thanked_and_held(browser, help_page):
    page, frame, _ = open_form(browser, help_page)
    fill_in(frame)
    frame.locator("input[name=website]").evaluate("field => field.value = 'http://spam.example'")
    page.wait_for_timeout(1100)

    frame.get_by_role("button", name="Send").click()

    expect(frame.get_by_role("status")).to_contain_text("We have your message")
    with db_turn():
        assert not Message.objects.exists()
        [held] = QuarantinedPayload.objects.all()
        assert "leave empty was filled in" in held.error
    page.context.close()


def test_a_bot_that_posts_at_once_is_held(browser, help_page):
    page, frame, _ = open_form(browser, help_page)
    fill_in(frame)

    frame.get_by_role("button", name="Send").click()  # well within the second a person needs

    expect(frame.get_by_role("status")).to_contain_text("We have your message")
    with db_turn():
        assert not Message.objects.exists()
        assert "faster than a person types" in QuarantinedPayload.objects.get().error
    page.context.close()


def test_the_form_fits_a_phone_without_sideways_scrolling(browser, help_page, screenshots):
    page, frame, _ = open_form(browser, help_page, viewport=PHONE)
    fill_in(frame)

    widths = frame.locator("body").evaluate(
        "body => [document.documentElement.scrollWidth, window.innerWidth]"
    )

    assert widths[0] <= widths[1]
    page.screenshot(path=screenshots / "contact-form-phone.png", full_page=True)
    page.context.close()
