import json
import urllib.request

import pytest

from channels.models import ChannelAccount
from demo.connect import sandbox_email_account


@pytest.fixture
def mail_account(sandbox, db):
    """The brand's mailbox in the sandbox, connected the way connect_sandbox connects it."""
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/health", timeout=5) as answer:
        spec = sandbox_email_account(json.load(answer))
    return ChannelAccount.objects.create(platform="email", **spec)
