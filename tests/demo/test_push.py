"""The sandbox's webhook pusher speaks the platforms' delivery shapes and signatures: what
it pushes to a live CareInbox is stored, once, as the customers' messages."""

import pytest
from django.urls import reverse

from cases.models import Message
from channels.models import ChannelAccount
from demo.sandbox.graph_api import PAGE_ID
from demo.sandbox.push import Hook, messages_of, push_steadily
from demo.sandbox.x_api import BRAND

pytestmark = pytest.mark.django_db(transaction=True)


def test_pushed_mentions_and_comments_are_stored_as_the_customers_messages(live_server):
    x = ChannelAccount.objects.create(
        platform="x",
        name="@acme_care",
        settings={"user_id": BRAND["id"], "handle": BRAND["username"]},
        credentials={"consumer_secret": "x-secret"},
    )
    facebook = ChannelAccount.objects.create(
        platform="facebook",
        name="Acme Home",
        settings={"page_id": PAGE_ID},
        credentials={"app_secret": "fb-secret", "verify_token": "t"},
    )
    hooks = {
        "x": Hook("x", live_server.url + reverse("intake:webhook-x", args=[x.pk]), "x-secret"),
        "facebook": Hook(
            "facebook",
            live_server.url + reverse("intake:webhook-facebook", args=[facebook.pk]),
            "fb-secret",
        ),
    }
    texts = ["Router down again", "Where is my order?", "Thanks, all sorted"]
    messages = messages_of(texts, count=12, customers=4)
    deliveries = []

    push_steadily(messages, hooks, per_second=200, sent=lambda group, at: deliveries.append(group))

    stored = Message.objects.select_related("author_identity").order_by("channel", "pk")
    assert sorted({m.channel for m in stored}) == ["facebook.comment", "x.mention"]
    assert len(stored) == 12
    assert {m.author_identity.display_name for m in stored} == {f"Customer {n}" for n in range(4)}
    assert {m.text for m in stored if m.channel == "facebook.comment"} == set(texts)
    assert {m.text for m in stored if m.channel == "x.mention"} == {
        f"@{BRAND['username']} {text}" for text in texts
    }
    assert sum(len(group) for group in deliveries) == 12
    assert len(deliveries) < 12  # due messages are batched into a delivery a platform
