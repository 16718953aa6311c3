import json
import urllib.request

import pytest

from channels_in.email import client
from channels_in.models import ChannelAccount


@pytest.fixture
def mail_account(sandbox, db):
    """The brand's mailbox in the sandbox, connected the way connect_sandbox connects it."""
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/health", timeout=5) as answer:
        spec = client.sandbox_account(json.load(answer))
    return ChannelAccount.objects.create(platform="email", **spec)
