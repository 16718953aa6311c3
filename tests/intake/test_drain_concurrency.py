"""Two workers draining webhook deliveries at once, on PostgreSQL: each delivery is claimed
by one of them, and every message is stored once."""

import json
from pathlib import Path

import pytest

from cases.models import Case, Message
from channels.models import ChannelAccount
from intake.models import WebhookDelivery
from intake.webhooks.deliveries import accept_delivery
from tests.intake.test_webhooks import AT, BRAND_ID, v1_tweet
from tests.processes import child_database_url, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DELIVERIES = 60


def test_two_workers_drain_each_delivery_once(monkeypatch):
    # Small claims, so that the two workers take turns over the whole backlog.
    monkeypatch.setenv("CAREINBOX_WEBHOOK_BATCH_BYTES", "1")
    account = ChannelAccount.objects.create(
        platform="x",
        name="@acme_care",
        settings={"user_id": BRAND_ID, "handle": "acme_care"},
        credentials={"bearer_token": "token", "consumer_secret": "secret"},
    )
    for n in range(DELIVERIES):
        author = {"id_str": str(500 + n % 7), "screen_name": f"customer{n % 7}", "name": "C"}
        tweet = v1_tweet(f"18550000000000{n:05d}", f"@acme_care help {n}", author, AT)
        body = {"for_user_id": BRAND_ID, "tweet_create_events": [tweet]}
        accept_delivery(account=account, body=json.dumps(body).encode())

    counts = run_together(
        [("drain", Path("-")), ("drain", Path("-"))], database_url=child_database_url()
    )

    assert sum(c["deliveries"] for c in counts) == DELIVERIES
    assert sum(c["stored"] for c in counts) == DELIVERIES
    assert Message.objects.values("external_id").distinct().count() == DELIVERIES
    assert Case.objects.count() == 7  # one per customer
    assert not WebhookDelivery.objects.exists()
