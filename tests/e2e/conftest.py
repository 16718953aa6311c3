"""Browser journeys: Debian's Chromium, driven headless by Playwright, against a live server
in this process (on the test database) and a platform sandbox connected through the real
clients.

Playwright's own browser builds are never used: CI installs Chromium with apt, and
``playwright install`` is never run. Without Chromium these tests are skipped, unless
``CAREINBOX_REQUIRE_SERVICES=1`` (CI), where they fail.
"""

import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from demo.sandbox import mail
from demo.sandbox.server import Sandbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# The README shows the screenshots the e2e tests take; they are written there only when
# CAREINBOX_README_SCREENSHOTS=1, so a test run leaves the checkout as it was.
README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}
# Long enough for a live server answer and an htmx polling round (the queue counts poll
# every 10 s), short enough that a missing control fails fast.
TIMEOUT_MS = 15_000
PASSWORD = "pw"  # tests/conftest.py:make_user


# On the embedded SQLite default the test database lives in memory, and the live server's
# threads use the test thread's one connection to it (as Django's LiveServerThread does).
# Queries from two threads at once on that connection fail at random ("database table is
# locked"), as Django's LiveServerTestCase documentation warns. So there the server serves
# one request at a time, and the test's own database work waits for its turn (``db_turn``).
# PostgreSQL gives each thread its own connection and needs none of this.
_ONE_AT_A_TIME = threading.RLock()


def _shares_one_connection() -> bool:
    return any(c.vendor == "sqlite" and c.is_in_memory_db() for c in connections.all())


@contextmanager
def db_turn() -> Iterator[None]:
    """Hold the database alone while inside: no request is served meanwhile (SQLite only)."""
    if _shares_one_connection():
        with _ONE_AT_A_TIME:
            yield
    else:
        yield


class _TakingTurns(StaticFilesHandler):
    def __call__(self, environ, start_response):
        with db_turn():
            return super().__call__(environ, start_response)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's live server, taking turns with the test on SQLite (see db_turn)."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = _TakingTurns
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
        # CI sets this: there a browser test that cannot run fails the run instead.
        if os.environ.get("CAREINBOX_REQUIRE_SERVICES") == "1":
            pytest.fail(f"CAREINBOX_REQUIRE_SERVICES=1, but the browser tests {reason}")
        pytest.skip(reason)
    expect.set_options(timeout=TIMEOUT_MS)

    # The sync API keeps an asyncio loop running in this thread, so Django takes the test
    # code for async code and refuses ORM calls; the tests only call it synchronously. Only
    # while the browser runs: later tests in the same process get Django's check back.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as running:
            yield running
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@dataclass
class Desk:
    """One person signed in, in a browser context of their own, and what their page did
    that it should not: dialogs it opened, errors it raised, policy violations it logged."""

    user: User
    page: Page
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.console_errors if "Content Security Policy" in e]


def _console(desk: Desk, msg: ConsoleMessage) -> None:
    if msg.type != "error":
        return
    url = msg.location.get("url", "")
    # Chromium asks every site for /favicon.ico on its own; no page of ours links to it.
    if url.endswith("/favicon.ico"):
        return
    desk.console_errors.append(f"{msg.text} (from {url or 'the page'} on {desk.page.url})")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Each sign-in checks a password in the live server, and each user fixture hashes one;
    # the default PBKDF2 takes seconds on a busy CI machine. What a browser sees is the same.
    # https://docs.djangoproject.com/en/stable/topics/testing/overview/#password-hashing
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sign_in(browser, live_server, request, tmp_path) -> Iterator[Callable[[User], Desk]]:
    """``sign_in(user)``: a fresh browser context signed in through the login form, on the
    inbox (``width`` and ``password`` when not the defaults). On a failure, each open page's
    screenshot is saved under tmp_path."""
    desks: list[Desk] = []

    def open_desk(user: User, *, width: int = VIEWPORT["width"], password: str = PASSWORD) -> Desk:
        viewport = {**VIEWPORT, "width": width}
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        desk = Desk(user=user, page=page)
        page.on("dialog", lambda dialog: (desk.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda msg: _console(desk, msg))
        page.on("pageerror", lambda exc: desk.page_errors.append(str(exc)))
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        desks.append(desk)
        return desk

    yield open_desk

    report = getattr(request.node, "e2e_call_report", None)
    if report is not None and report.failed:
        for desk in desks:
            shot = tmp_path / f"failure-{desk.user.get_username()}.png"
            desk.page.screenshot(path=shot, full_page=True)
            print(f"Screenshot of {desk.user.get_username()}'s page at failure: {shot}")
    for desk in desks:
        desk.page.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_call_report = report
    return report


@pytest.fixture
def screenshots(tmp_path_factory) -> Path:
    """The folder the screenshots are written to: the README's with
    CAREINBOX_README_SCREENSHOTS=1, otherwise a temporary one. Its path is printed."""
    if os.environ.get("CAREINBOX_README_SCREENSHOTS") == "1":
        folder = README_SCREENSHOTS
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = tmp_path_factory.mktemp("screenshots")
    print(f"Screenshots: {folder}")
    return folder


@pytest.fixture
def sandbox(transactional_db, sandbox) -> Sandbox:
    """The shared sandbox (tests/conftest.py), with CareInbox's X, Facebook and email accounts
    connected to it."""
    with db_turn():
        call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    return sandbox


def poll() -> str:
    """Poll every connected account once through the real clients, as beat would."""
    out = io.StringIO()
    with db_turn():
        call_command("poll", once=True, stdout=out)
    return out.getvalue()


def arrive(sandbox: Sandbox, **event: Any) -> dict[str, Any]:
    """Make one customer event (the sample format: id, channel, author, text, ...) happen on
    its platform now; an email is also delivered into the Maildir."""
    # Mail dates have whole seconds: rounded up, an event stays after what happened just before.
    at = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    event.setdefault("at", at.isoformat().replace("+00:00", "Z"))
    sandbox.state.load([json.dumps(event)])
    if event["channel"] == "email":
        mail.deliver_visible(sandbox)
    return event
