import json
import os
import shutil
import urllib.request
import uuid
from pathlib import Path

import pytest

from channels.models import ChannelAccount
from demo.connect import sandbox_email_account
from tests.channels.email.mailboxes import make_folder

IMAP_ENV = (
    "CAREINBOX_TEST_IMAP_HOST",
    "CAREINBOX_TEST_IMAP_PORT",
    "CAREINBOX_TEST_IMAP_USER",
    "CAREINBOX_TEST_IMAP_PASSWORD",
    "CAREINBOX_TEST_IMAP_MAILDIR",
)


@pytest.fixture
def mail_account(sandbox, db):
    """The brand's mailbox in the sandbox, connected the way connect_sandbox connects it."""
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/health", timeout=5) as answer:
        spec = sandbox_email_account(json.load(answer))
    return ChannelAccount.objects.create(platform="email", **spec)


@pytest.fixture
def dovecot():
    """The Dovecot IMAP server .ci/run starts, as the environment names it."""
    missing = [name for name in IMAP_ENV if not os.environ.get(name)]
    if missing:
        reason = f"needs the Dovecot IMAP server .ci/run starts; {', '.join(missing)} not set"
        # CI sets this: there a missing service fails the run instead of skipping.
        if os.environ.get("CAREINBOX_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return {name.rpartition("_")[2].lower(): os.environ[name] for name in IMAP_ENV}


@pytest.fixture
def folder(dovecot):
    """A new Maildir++ folder in the test user's mailbox; Dovecot indexes it as another user,
    so it is open to all."""
    name = f"Test{uuid.uuid4().hex[:12]}"
    path = Path(dovecot["maildir"]) / f".{name}"
    yield make_folder(path), name
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def imap_account(dovecot, folder):
    return ChannelAccount.objects.create(
        platform="email",
        name="care@acme-home.example",
        settings={
            "mailbox": "imap",
            "imap_host": dovecot["host"],
            "imap_port": int(dovecot["port"]),
            "imap_ssl": False,
            "imap_folder": folder[1],
            "address": "care@acme-home.example",
            "page_size": 3,
            "timeout": 5,
        },
        credentials={"imap_username": dovecot["user"], "imap_password": dovecot["password"]},
    )
