import os
import socket
import uuid
from datetime import UTC, datetime

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone

from careinbox.celery import app as celery_app
from cases.models import Message
from casework.ingest import IngestResult, ingest_message
from channels.inbound import InboundMessage
from channels.models import ChannelAccount
from demo import sample
from demo.connect import sandbox_facebook_account, sandbox_x_account
from demo.sample import DEMO_TRAFFIC
from demo.sandbox.server import Sandbox
from intake.polling import poll_account
from staff import roles
from staff.models import AgentProfile
from tests.factories import InboundFactory
from tests.incidents.world import connect_and_poll, linked_incident

# Fixtures shared by more than one folder of tests.
pytest_plugins = ["tests.privacy"]

# Tests run tasks where they are queued, as the embedded default does, even when REDIS_URL
# is set for the locks: there is no worker to hand them to.
celery_app.conf.task_always_eager = True

POSTGRES_REASON = (
    "needs PostgreSQL: set DATABASE_URL=postgres://... (the embedded SQLite default cannot show "
    "row locking, concurrent ingestion or full-text search)"
)


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    # CI sets this: there a test that needs a service fails the run instead of skipping.
    if os.environ.get("CAREINBOX_REQUIRE_SERVICES") == "1":
        raise pytest.UsageError(
            f"CAREINBOX_REQUIRE_SERVICES=1, but the database is not PostgreSQL; {POSTGRES_REASON}"
        )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=POSTGRES_REASON))


@pytest.fixture(autouse=True)
def fast_passwords_and_private_cache(settings):
    """Hash test passwords cheaply, and give each test its own cache (presence lives there),
    so nothing one test leaves behind is seen by the next."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def accounts(db):
    """The sample brand's channel accounts, keyed by platform."""
    return sample.accounts()


@pytest.fixture
def ingest(accounts, django_capture_on_commit_callbacks):
    """Ingest one message as production does: ``ingest_message`` on the sample account of its
    platform, then the on-commit work (linking) its commit would run. Takes an
    ``InboundMessage`` or ``InboundFactory`` fields; returns the ``IngestResult``."""

    def ingest(inbound: InboundMessage | None = None, /, **fields) -> IngestResult:
        if inbound is None:
            inbound = InboundFactory(**fields)
        elif fields:
            raise TypeError("Pass an InboundMessage or InboundFactory fields, not both.")
        with django_capture_on_commit_callbacks(execute=True):
            return ingest_message(account=accounts[inbound.platform], inbound=inbound)

    return ingest


# Where the ``clock`` fixture stops time: Monday 2 November 2026, 10:00 UTC (10:00 in London).
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at


@pytest.fixture
def clock(monkeypatch):
    """``timezone.now`` frozen at ``NOW``; move it by setting ``clock.at``."""
    frozen = Clock(NOW)
    monkeypatch.setattr(timezone, "now", lambda: frozen.at)
    return frozen


AGENT_SIGN_OFF = "Best wishes,\nJo Lee"


def make_user(username: str, role: str | None, *, display_name: str = "", signature: str = ""):
    """A user with a role (a group of ``staff.roles``) and an agent profile; password
    "pw"."""
    user = get_user_model().objects.create_user(username, password="pw")
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    AgentProfile.objects.create(
        user=user,
        display_name=display_name or username.title(),
        signature=signature,
        sign_off=f"Best wishes,\n{display_name or username.title()}",
    )
    return user


def client_for(user, *, online: bool = False) -> Client:
    """A new test client signed in as ``user``. ``online=True`` also polls the bell, as every
    open page does: the agent is then online, and the test's own requests only read."""
    client = Client()
    client.force_login(user)
    if online:
        client.get("/notifications/bell/")
    return client


@pytest.fixture
def agent(db):
    """Jo, an agent who signs social replies "^JL" and other replies with a sign-off."""
    user = make_user("jo", roles.AGENT, display_name="Jo Lee", signature="^JL")
    assert user.agent_profile.sign_off == AGENT_SIGN_OFF
    return user


@pytest.fixture
def other_agent(db):
    return make_user("priya", roles.AGENT, display_name="Priya Shah", signature="^PS")


@pytest.fixture
def supervisor(db):
    return make_user("sam", roles.SUPERVISOR, display_name="Sam Ortiz", signature="^SO")


@pytest.fixture
def manager(db):
    return make_user("mo", roles.MANAGER, display_name="Mo Reyes")


@pytest.fixture
def admin_user(db):
    return make_user("ada", roles.ADMIN, display_name="Ada Admin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sandbox(tmp_path):
    """A running platform sandbox on 127.0.0.1 with an empty state, its Maildir in tmp_path."""
    running = Sandbox(maildir=tmp_path / "sandbox-maildir", smtp_port=free_port()).start()
    yield running
    running.stop()


@pytest.fixture
def demo_traffic_lines():
    return DEMO_TRAFFIC.read_bytes().splitlines()


@pytest.fixture
def x_account(db, sandbox):
    """The sample brand's X account, connected to the running sandbox."""
    fields = sandbox_x_account({"url": sandbox.url, "maildir": None, "smtp_port": None})
    return ChannelAccount.objects.create(platform="x", **fields)


@pytest.fixture
def facebook_account(db, sandbox):
    """The sample brand's Facebook page, connected to the sandbox as connect_sandbox does."""
    info = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    return ChannelAccount.objects.create(platform="facebook", **sandbox_facebook_account(info))


@pytest.fixture
def poll_sandbox(sandbox, django_capture_on_commit_callbacks):
    """``poll_sandbox(account, *lines)``: the sandbox shows these sample-format events, the
    account is polled through its real client and the commits' work runs; returns the newest
    customer message stored."""

    def poll(account, *lines):
        sandbox.state.load(lines)
        with django_capture_on_commit_callbacks(execute=True):
            result = poll_account(account=account, force=True)
        assert not result.failed, result.error
        return Message.objects.filter(direction="inbound").order_by("-pk").first()

    return poll


@pytest.fixture
def platform_accounts(sandbox, demo_traffic_lines):
    """The last 60 events of the sample traffic polled from the sandbox into the brand's
    X, Facebook and email accounts (by platform)."""
    return connect_and_poll(sandbox, demo_traffic_lines[-60:])


@pytest.fixture
def incident(platform_accounts):
    """A proposed incident holding the latest X mention, X DM and email, each on its own
    case; ``incident.picked`` gives those messages by channel."""
    found, found.picked = linked_incident()
    return found
