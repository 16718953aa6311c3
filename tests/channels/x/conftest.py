import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from channels.models import ChannelAccount
from channels.plug import FetchedPage
from channels.registry import platform_channel
from intake.services import BatchResult, ingest_payloads

PEERS = Path(settings.BASE_DIR).parent / "shared" / "data" / "peers" / "x"


def peer_json(name: str):
    """A response body recorded from the real X API (see the peers README)."""
    return json.loads((PEERS / name).read_bytes())


@pytest.fixture
def x_lines(demo_traffic_lines):
    """The sample traffic's X events, one JSON line each."""
    return [line for line in demo_traffic_lines if json.loads(line)["channel"].startswith("x.")]


@pytest.fixture
def some_x_lines(x_lines):
    """The first 30 X events (mentions, replies in threads and DMs): enough for most tests."""
    return x_lines[:30]


def poll_into_inbox(account: ChannelAccount) -> BatchResult:
    """Poll as the polling service does: each page and its cursors stored together."""
    total = BatchResult()
    for page in platform_channel("x").poll(account):
        result = store_page(account, page)
        total.stored += result.stored
        total.duplicates += result.duplicates
        total.quarantined += result.quarantined
    return total


def store_page(account: ChannelAccount, page: FetchedPage) -> BatchResult:
    with transaction.atomic():
        result = ingest_payloads(source="x", payloads=page.payloads, accounts={"x": account})
        account.poll_cursors = {**account.poll_cursors, **page.cursors}
        account.save(update_fields=["poll_cursors"])
    return result
