"""Webhook deliveries from X and Facebook, through real HTTP requests to the views.

Signatures are computed here from the platforms' documented schemes, not with the product's
helpers, so a wrong scheme in the product fails these tests.
"""

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.test import Client, TestCase
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.models import Message
from channels.errors import MalformedPayload
from channels.models import ChannelAccount
from demo.connect import sandbox_x_account
from demo.sandbox.graph_api import PAGE_ID
from demo.sandbox.x_api import BRAND
from intake.models import QuarantinedPayload, WebhookDelivery
from intake.polling import poll_account
from intake.tasks import drain_soon, drain_webhook_deliveries_task
from intake.webhooks import facebook as facebook_webhook
from intake.webhooks import x as x_webhook
from intake.webhooks.deliveries import accept_delivery, claim_deliveries, ingest_claimed

pytestmark = pytest.mark.django_db

X_SECRET = "x-consumer-secret"
FB_SECRET = "facebook-app-secret"
FB_VERIFY_TOKEN = "facebook-verify-token"
BRAND_ID = BRAND["id"]
CUSTOMER = {
    "id": 431221750,
    "id_str": "431221750",
    "name": "Neil Carver",
    "screen_name": "neilcarver",
    "followers_count": 97,
    "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/neil_normal.jpg",
}
BRAND_USER = {
    "id_str": BRAND_ID,
    "name": BRAND["name"],
    "screen_name": BRAND["username"],
    "followers_count": BRAND["followers"],
}


def x_signature(body: bytes, secret: str = X_SECRET) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def post_signed_x(client: Client, account: ChannelAccount, body: bytes):
    """Post ``body`` to the account's X webhook, signed as X signs it."""
    return client.post(
        reverse("intake:webhook-x", args=[account.pk]),
        data=body,
        content_type="application/json",
        headers={"x-twitter-webhooks-signature": x_signature(body)},
    )


def facebook_signature(body: bytes, secret: str = FB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def v1_tweet(tweet_id: str, text: str, user: dict, at: datetime, **fields) -> dict:
    """A tweet as the Account Activity API delivers it (API v1.1's tweet object)."""
    return {
        "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "timestamp_ms": str(int(at.timestamp() * 1000)),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "truncated": False,
        "user": user,
        **fields,
    }


def v1_dm(event_id: str, text: str, sender: str, recipient: str, at: datetime) -> dict:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": str(int(at.timestamp() * 1000)),
        "message_create": {
            "target": {"recipient_id": recipient},
            "sender_id": sender,
            "message_data": {"text": text, "entities": {}},
        },
    }


AT = datetime(2026, 11, 2, 8, 9, 41, 512000, tzinfo=UTC)
MENTION_ID = "1853000000000000001"
X_DELIVERY = {
    "for_user_id": BRAND_ID,
    "user_has_blocked": False,
    "tweet_create_events": [
        v1_tweet(
            MENTION_ID,
            "@acme_care HomeHub flashing orange &amp; no internet since 6am",
            CUSTOMER,
            AT,
            in_reply_to_status_id_str="1852999999999999999",
            in_reply_to_user_id_str=BRAND_ID,
        ),
        # The brand's own answer and a customer's retweet come too; neither is a message.
        v1_tweet("1853000000000000002", "@neilcarver Sorry to hear it", BRAND_USER, AT),
        v1_tweet(
            "1853000000000000003",
            "RT @acme_care: Fibre 900 is here",
            CUSTOMER,
            AT,
            retweeted_status={"id_str": "1852000000000000000"},
        ),
    ],
}
X_DM_DELIVERY = {
    "for_user_id": BRAND_ID,
    "direct_message_events": [
        v1_dm("1853000000000000010", "My account number is 1234", "431221750", BRAND_ID, AT),
        v1_dm("1853000000000000011", "Thanks, checking now", BRAND_ID, "431221750", AT),
    ],
    "users": {"431221750": CUSTOMER, BRAND_ID: BRAND_USER},
}

VISITOR = {"id": "100066745989389", "name": "Bernadette Quinn"}
COMMENT_ID = "104857600123456_812039475610293_5550001"
MID = "m_AbCdEf0123456789"


def comment_change(comment_id: str, author: dict, message: str, **value) -> dict:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": comment_id,
            "post_id": f"{PAGE_ID}_812039475610293",
            "parent_id": f"{PAGE_ID}_812039475610293",
            "from": author,
            "message": message,
            "created_time": 1793606981,
            **value,
        },
    }


FB_DELIVERY = {
    "object": "page",
    "entry": [
        {
            "id": PAGE_ID,
            "time": 1793606982,
            "changes": [
                comment_change(COMMENT_ID, VISITOR, "Is the 900 deal open to existing customers?"),
                # The page's own answer, and a reaction: neither is a customer's message.
                comment_change(f"{COMMENT_ID}1", {"id": PAGE_ID, "name": "Acme Home"}, "Yes!"),
                {"field": "feed", "value": {"item": "reaction", "verb": "add", "from": VISITOR}},
            ],
        },
        {
            "id": PAGE_ID,
            "time": 1793606990,
            "messaging": [
                {
                    "sender": {"id": "7012345678901234"},
                    "recipient": {"id": PAGE_ID},
                    "timestamp": 1793606989123,
                    "message": {"mid": MID, "text": "Hi, my router keeps dropping"},
                },
                {
                    "sender": {"id": PAGE_ID},
                    "recipient": {"id": "7012345678901234"},
                    "timestamp": 1793606995000,
                    "message": {"mid": "m_echo0001", "text": "Hello!", "is_echo": True},
                },
                {
                    "sender": {"id": "7012345678901234"},
                    "recipient": {"id": PAGE_ID},
                    "timestamp": 1793606996000,
                    "read": {"watermark": 1793606995000},
                },
            ],
        },
    ],
}


class PlatformClient(Client):
    """A client that, as a platform does, sends no CSRF token. Each request's on-commit work
    runs, as it would after a real commit: the drain task ingesting what was delivered (tasks
    run where they are queued in the tests, as on a worker)."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def platform_client():
    return PlatformClient(enforce_csrf_checks=True)


@pytest.fixture
def x_account(db):
    return ChannelAccount.objects.create(
        platform="x",
        name="@acme_care",
        settings={"user_id": BRAND_ID, "handle": "acme_care"},
        credentials={"bearer_token": "token", "consumer_secret": X_SECRET},
    )


@pytest.fixture
def facebook_account(db):
    return ChannelAccount.objects.create(
        platform="facebook",
        name="Acme Home",
        settings={"page_id": PAGE_ID},
        credentials={
            "page_access_token": "token",
            "app_secret": FB_SECRET,
            "verify_token": FB_VERIFY_TOKEN,
        },
    )


@dataclass
class Hook:
    """One platform's webhook as the tests drive it."""

    account: ChannelAccount
    header: str
    sign: Callable[..., str]
    body: bytes  # a delivery holding one customer message
    external_id: str

    @property
    def url(self) -> str:
        return reverse(f"intake:webhook-{self.account.platform}", args=[self.account.pk])

    def post(self, client: Client, body: bytes, signature: str | None = None, url: str = ""):
        headers = {self.header: signature} if signature is not None else {}
        return client.post(
            url or self.url, data=body, content_type="application/json", headers=headers
        )


@pytest.fixture(params=["x", "facebook"])
def hook(request):
    if request.param == "x":
        body = {**X_DELIVERY, "tweet_create_events": X_DELIVERY["tweet_create_events"][:1]}
        return Hook(
            account=request.getfixturevalue("x_account"),
            header="x-twitter-webhooks-signature",
            sign=x_signature,
            body=json.dumps(body).encode(),
            external_id=MENTION_ID,
        )
    body = {"object": "page", "entry": [FB_DELIVERY["entry"][1]]}
    return Hook(
        account=request.getfixturevalue("facebook_account"),
        header="X-Hub-Signature-256",
        sign=facebook_signature,
        body=json.dumps(body).encode(),
        external_id=MID,
    )


def test_x_crc_is_answered_with_the_hmac_of_the_token(platform_client, x_account):
    url = reverse("intake:webhook-x", args=[x_account.pk])

    response = platform_client.get(url, {"crc_token": "9b4507b3-9040-4669-9ca3"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"response_token": x_signature(b"9b4507b3-9040-4669-9ca3")}


def test_x_crc_without_a_token_or_a_consumer_secret_is_refused(platform_client, x_account):
    url = reverse("intake:webhook-x", args=[x_account.pk])
    assert platform_client.get(url).status_code == 403

    x_account.credentials = {"bearer_token": "token"}
    x_account.save()
    assert platform_client.get(url, {"crc_token": "abc"}).status_code == 403


def test_facebook_verification_echoes_the_challenge_for_the_right_token(
    platform_client, facebook_account
):
    url = reverse("intake:webhook-facebook", args=[facebook_account.pk])
    query = {"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY_TOKEN, "hub.challenge": "1158"}

    response = platform_client.get(url, query)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guessed", "hub.challenge": "1158"},
        {"hub.mode": "subscribe", "hub.challenge": "1158"},
        {"hub.mode": "unsubscribe", "hub.verify_token": FB_VERIFY_TOKEN, "hub.challenge": "1"},
    ],
)
def test_facebook_verification_with_a_wrong_token_or_mode_is_refused(
    platform_client, facebook_account, query, caplog
):
    url = reverse("intake:webhook-facebook", args=[facebook_account.pk])

    response = platform_client.get(url, query)

    assert response.status_code == 403
    assert b"1158" not in response.content
    assert f"channel account {facebook_account.pk}" in caplog.text


def test_a_signed_x_delivery_stores_the_customers_mention_and_dm_only(platform_client, x_account):
    url = reverse("intake:webhook-x", args=[x_account.pk])
    for delivery in (X_DELIVERY, X_DM_DELIVERY):
        body = json.dumps(delivery).encode()
        response = platform_client.post(
            url,
            data=body,
            content_type="application/json",
            headers={"x-twitter-webhooks-signature": x_signature(body)},
        )
        assert response.status_code == 200

    stored = {m.external_id: m for m in Message.objects.select_related("author_identity")}
    assert set(stored) == {MENTION_ID, "1853000000000000010"}
    mention = stored[MENTION_ID]
    assert (mention.channel, mention.channel_account) == ("x.mention", x_account)
    assert mention.text == "@acme_care HomeHub flashing orange & no internet since 6am"
    assert mention.sent_at == AT  # to the millisecond, from timestamp_ms
    assert mention.in_reply_to_external_id == "1852999999999999999"
    assert mention.author_identity.handle == "neilcarver"
    assert mention.author_identity.follower_count == 97
    dm = stored["1853000000000000010"]
    assert (dm.channel, dm.text) == ("x.dm", "My account number is 1234")
    assert dm.author_identity == mention.author_identity
    assert not QuarantinedPayload.objects.exists()


def test_a_signed_facebook_delivery_stores_the_customers_comment_and_message_only(
    platform_client, facebook_account
):
    body = json.dumps(FB_DELIVERY).encode()

    response = platform_client.post(
        reverse("intake:webhook-facebook", args=[facebook_account.pk]),
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": facebook_signature(body)},
    )

    assert response.status_code == 200
    stored = {m.external_id: m for m in Message.objects.select_related("author_identity")}
    assert set(stored) == {COMMENT_ID, MID}
    comment = stored[COMMENT_ID]
    assert (comment.channel, comment.text) == (
        "facebook.comment",
        "Is the 900 deal open to existing customers?",
    )
    assert comment.author_identity.external_id == VISITOR["id"]
    message = stored[MID]
    assert (message.channel, message.text) == ("facebook.message", "Hi, my router keeps dropping")
    assert message.sent_at == datetime.fromtimestamp(1793606989.123, UTC)
    assert not QuarantinedPayload.objects.exists()


def test_a_signed_delivery_is_stored(platform_client, hook):
    response = hook.post(platform_client, hook.body, hook.sign(hook.body))

    assert response.status_code == 200
    assert list(Message.objects.values_list("external_id", flat=True)) == [hook.external_id]


@pytest.mark.parametrize("forgery", ["other secret", "tampered body", "bare digest"])
def test_a_delivery_with_an_invalid_signature_is_refused_logged_and_not_stored(
    platform_client, hook, forgery, caplog
):
    signature = {
        "other secret": hook.sign(hook.body, "not-the-secret"),
        "tampered body": hook.sign(hook.body + b" "),
        "bare digest": hook.sign(hook.body).removeprefix("sha256="),
    }[forgery]

    with caplog.at_level(logging.WARNING):
        response = hook.post(platform_client, hook.body, signature)

    assert response.status_code == 403
    assert not Message.objects.exists()
    assert not QuarantinedPayload.objects.exists()
    assert f"channel account {hook.account.pk}" in caplog.text
    assert "does not match" in caplog.text


def test_a_delivery_without_a_signature_is_refused(platform_client, hook, caplog):
    response = hook.post(platform_client, hook.body)

    assert response.status_code == 403
    assert not Message.objects.exists()
    assert f"has no {hook.header}" in caplog.text


def test_a_replayed_delivery_stores_nothing_new(platform_client, hook):
    signature = hook.sign(hook.body)
    assert hook.post(platform_client, hook.body, signature).status_code == 200
    stored = list(Message.objects.values_list("pk", "external_id"))

    for _ in range(3):  # platforms retry a delivery they think failed
        assert hook.post(platform_client, hook.body, signature).status_code == 200

    assert list(Message.objects.values_list("pk", "external_id")) == stored
    assert not QuarantinedPayload.objects.exists()


def test_a_signed_body_that_is_not_json_is_quarantined_and_accepted(platform_client, hook):
    body = b'{"entry": [ broken'

    response = hook.post(platform_client, body, hook.sign(body))
    hook.post(platform_client, body, hook.sign(body))

    assert response.status_code == 200  # else the platform retries it for days
    assert not Message.objects.exists()
    kept = QuarantinedPayload.objects.get()
    assert (kept.source, bytes(kept.raw_payload)) == (hook.account.platform, body)
    assert (kept.channel_account, kept.attempts) == (hook.account, 2)
    assert "not JSON" in kept.error


def test_a_delivery_to_a_disabled_unknown_or_secretless_account_is_refused(
    platform_client, hook, x_account, facebook_account
):
    signature = hook.sign(hook.body)
    other = facebook_account if hook.account == x_account else x_account
    unknown = ChannelAccount.objects.order_by("-pk").first().pk + 1
    for account_id in (unknown, other.pk):
        url = reverse(f"intake:webhook-{hook.account.platform}", args=[account_id])
        assert hook.post(platform_client, hook.body, signature, url=url).status_code == 403

    hook.account.enabled = False
    hook.account.save()
    assert hook.post(platform_client, hook.body, signature).status_code == 403

    hook.account.enabled = True
    hook.account.credentials = {"page_access_token": "token", "bearer_token": "token"}
    hook.account.save()
    assert hook.post(platform_client, hook.body, signature).status_code == 403
    assert not Message.objects.exists()
    assert not QuarantinedPayload.objects.exists()


def test_webhooks_answer_only_get_and_post(platform_client, hook):
    assert platform_client.put(hook.url, hook.body).status_code == 405
    assert platform_client.delete(hook.url).status_code == 405


def test_an_x_delivery_for_another_user_is_quarantined_not_stored(platform_client, x_account):
    body = json.dumps({**X_DELIVERY, "for_user_id": "2244994945"}).encode()

    response = post_signed_x(platform_client, x_account, body)

    assert response.status_code == 200
    assert not Message.objects.exists()
    kept = QuarantinedPayload.objects.get()
    assert bytes(kept.raw_payload) == body
    assert "2244994945" in kept.error


def test_facebook_events_of_another_page_are_quarantined_and_the_rest_stored(
    platform_client, facebook_account
):
    other_page = {**FB_DELIVERY["entry"][1], "id": "999000111222333"}
    delivery = {"object": "page", "entry": [FB_DELIVERY["entry"][0], other_page]}
    body = json.dumps(delivery).encode()

    response = platform_client.post(
        reverse("intake:webhook-facebook", args=[facebook_account.pk]),
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": facebook_signature(body)},
    )

    assert response.status_code == 200
    assert list(Message.objects.values_list("external_id", flat=True)) == [COMMENT_ID]
    kept = QuarantinedPayload.objects.get()
    assert kept.channel_account is None
    assert "page 999000111222333" in kept.error
    assert json.loads(bytes(kept.raw_payload))["entry"][0]["messaging"][0]["message"]["mid"] == MID


def test_an_unreadable_event_in_a_delivery_is_quarantined_and_the_rest_stored(
    platform_client, x_account
):
    broken = v1_tweet("1853000000000000004", "@acme_care hello?", CUSTOMER, AT)
    del broken["timestamp_ms"]
    broken["created_at"] = "yesterday"
    delivery = {
        **X_DELIVERY,
        "tweet_create_events": [X_DELIVERY["tweet_create_events"][0], broken],
    }
    body = json.dumps(delivery).encode()

    response = post_signed_x(platform_client, x_account, body)

    assert response.status_code == 200
    assert list(Message.objects.values_list("external_id", flat=True)) == [MENTION_ID]
    kept = QuarantinedPayload.objects.get()
    assert "Tweet 1853000000000000004" in kept.error
    assert json.loads(bytes(kept.raw_payload))["data"]["created_at"] == "yesterday"


def test_a_long_tweet_is_read_whole_and_timed_from_created_at_without_timestamp_ms():
    tweet = v1_tweet(MENTION_ID, "@acme_care part of it…", CUSTOMER, AT, truncated=True)
    tweet["extended_tweet"] = {"full_text": "@acme_care the whole of it"}
    del tweet["timestamp_ms"]
    account = ChannelAccount(platform="x", settings={"user_id": BRAND_ID})

    (payload,) = x_webhook.delivery({"tweet_create_events": [tweet]}, account).payloads

    data = json.loads(payload)["data"]
    assert data["text"] == "@acme_care the whole of it"
    assert datetime.fromisoformat(data["created_at"]) == AT.replace(microsecond=0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "id",
                    "changes",
                    "messaging",
                    "field",
                    "value",
                    "from",
                    "message",
                    "sender",
                    "for_user_id",
                    "tweet_create_events",
                    "direct_message_events",
                    "users",
                    "user",
                    "id_str",
                    "message_create",
                    "retweeted_status",
                ]
            )
            | st.text(max_size=4),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(body=JSON)
def test_any_json_body_is_split_or_refused_with_a_payload_error(body):
    for convert, account in (
        (x_webhook.delivery, ChannelAccount(platform="x", settings={"user_id": BRAND_ID})),
        (
            facebook_webhook.delivery,
            ChannelAccount(platform="facebook", settings={"page_id": "1"}),
        ),
    ):
        try:
            delivery = convert(body, account)
        except MalformedPayload:
            continue
        for payload in delivery.payloads + [raw for raw, _ in delivery.misrouted]:
            assert isinstance(json.loads(payload), dict)


def test_a_mention_delivered_by_webhook_and_then_polled_is_stored_once(
    platform_client, sandbox, demo_traffic_lines
):
    x_lines = [line for line in demo_traffic_lines if json.loads(line)["channel"] == "x.mention"]
    sandbox.state.load(x_lines[:20])
    fields = sandbox_x_account({"url": sandbox.url, "maildir": None, "smtp_port": None})
    fields["credentials"]["consumer_secret"] = X_SECRET
    account = ChannelAccount.objects.create(platform="x", **fields)
    # The tweet as X serves it, so the delivery carries the ids the poller will see.
    answer = requests.get(
        f"{sandbox.url}/2/users/{BRAND_ID}/mentions",
        params={
            "max_results": 100,
            "tweet.fields": "created_at,author_id,referenced_tweets,in_reply_to_user_id",
            "expansions": "author_id",
            "user.fields": "public_metrics,username,name",
        },
        headers={"Authorization": "Bearer sandbox"},
        timeout=5,
    ).json()
    tweet = next(t for t in answer["data"] if t.get("referenced_tweets"))
    author = next(u for u in answer["includes"]["users"] if u["id"] == tweet["author_id"])
    user = {
        "id_str": author["id"],
        "screen_name": author["username"],
        "name": author["name"],
        "followers_count": author["public_metrics"]["followers_count"],
    }
    parent = tweet["referenced_tweets"][0]["id"]
    at = datetime.fromisoformat(tweet["created_at"])
    reply = {
        "in_reply_to_status_id_str": parent,
        "in_reply_to_user_id_str": tweet["in_reply_to_user_id"],
    }
    delivery = {
        "for_user_id": BRAND_ID,
        "tweet_create_events": [v1_tweet(tweet["id"], tweet["text"], user, at, **reply)],
    }
    body = json.dumps(delivery).encode()

    pushed = platform_client.post(
        reverse("intake:webhook-x", args=[account.pk]),
        data=body,
        content_type="application/json",
        headers={"x-twitter-webhooks-signature": x_signature(body)},
    )
    polled = poll_account(account=account, force=True)

    assert pushed.status_code == 200
    assert (polled.error, polled.quarantined) == ("", 0)
    assert (polled.stored, polled.duplicates) == (len(answer["data"]) - 1, 1)
    assert Message.objects.filter(external_id=tweet["id"]).count() == 1
    assert Message.objects.count() == len(answer["data"])
    pushed_message = Message.objects.get(external_id=tweet["id"])
    assert pushed_message.sent_at == at
    assert pushed_message.in_reply_to_external_id == parent


# A delivery is kept and answered at once; a worker ingests it.


def mention_delivery(n: int, *, padding: int = 0) -> bytes:
    """A signed-ready X delivery of one customer mention, number ``n``."""
    tweet = v1_tweet(f"18540000000000{n:05d}", f"@acme_care question {n}", CUSTOMER, AT)
    body = {"for_user_id": BRAND_ID, "tweet_create_events": [tweet], "padding": "x" * padding}
    return json.dumps(body).encode()


def test_a_delivery_is_answered_before_it_is_ingested_then_a_worker_ingests_it(x_account):
    body = mention_delivery(1)
    client = Client(enforce_csrf_checks=True)  # its on-commit work never runs: no worker yet

    response = post_signed_x(client, x_account, body)

    assert response.status_code == 200
    assert not Message.objects.exists()
    assert bytes(WebhookDelivery.objects.get().body) == body

    drain_webhook_deliveries_task()

    assert list(Message.objects.values_list("text", flat=True)) == ["@acme_care question 1"]
    assert not WebhookDelivery.objects.exists()


def test_a_claim_takes_the_oldest_deliveries_up_to_its_size_and_says_more_wait(x_account):
    kept = [accept_delivery(account=x_account, body=mention_delivery(n)) for n in range(5)]

    claim = claim_deliveries(max_bytes=2 * kept[0].size)
    again = claim_deliveries(max_bytes=2 * kept[0].size)

    assert [d.pk for d in claim.deliveries] == [kept[0].pk, kept[1].pk]
    assert [d.pk for d in again.deliveries] == [kept[2].pk, kept[3].pk]
    assert claim.more_waiting and again.more_waiting
    last = claim_deliveries(max_bytes=1)  # at least one, however large
    assert ([d.pk for d in last.deliveries], last.more_waiting) == ([kept[4].pk], False)
    assert claim_deliveries().deliveries == []


def test_deliveries_whose_worker_died_are_claimed_again_when_the_claim_ends(
    x_account, settings, clock
):
    settings.CAREINBOX_WEBHOOK_LEASE_SECONDS = 300
    accept_delivery(account=x_account, body=mention_delivery(1))
    dead_workers_claim = claim_deliveries()

    assert claim_deliveries().deliveries == []
    clock.at += timedelta(seconds=301)
    retaken = claim_deliveries()
    ingest_claimed(retaken.deliveries)

    assert [d.pk for d in retaken.deliveries] == [d.pk for d in dead_workers_claim.deliveries]
    assert Message.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_one_arrival_drains_everything_waiting_a_claim_at_a_time(x_account, settings):
    settings.CAREINBOX_WEBHOOK_BATCH_BYTES = 1  # one delivery a claim
    for n in range(4):
        accept_delivery(account=x_account, body=mention_delivery(n))

    drain_soon()  # as after a delivery's commit; each drain queues the next while more wait

    assert Message.objects.count() == 4
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_larger_than_a_form_post_may_be_is_stored(platform_client, x_account, settings):
    body = mention_delivery(1, padding=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    response = post_signed_x(platform_client, x_account, body)

    assert response.status_code == 200
    assert Message.objects.get().text == "@acme_care question 1"


def test_a_delivery_over_the_webhook_limit_is_refused_and_logged(
    platform_client, x_account, settings, caplog
):
    settings.CAREINBOX_WEBHOOK_MAX_BYTES = 1000
    body = mention_delivery(1, padding=1000)

    response = post_signed_x(platform_client, x_account, body)

    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists() and not Message.objects.exists()
    assert "over 1000" in caplog.text


def test_a_delivery_with_a_lone_surrogate_stores_it_replaced_and_the_good_ones_with_it(
    platform_client, x_account
):
    tweets = [
        v1_tweet("1856000000000000001", "@acme_care broken \ud800 text", CUSTOMER, AT),
        v1_tweet("1856000000000000002", "@acme_care fine text", CUSTOMER, AT),
    ]
    body = json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": tweets}).encode()

    response = post_signed_x(platform_client, x_account, body)

    assert response.status_code == 200
    assert sorted(Message.objects.values_list("text", flat=True)) == [
        "@acme_care broken \ufffd text",
        "@acme_care fine text",
    ]
    assert not QuarantinedPayload.objects.exists()


def test_a_ten_megabyte_signed_delivery_is_kept_and_stored(platform_client, x_account):
    tweets = [
        v1_tweet(f"18570000000{n:08d}", f"@acme_care {n} " + "x" * 4000, CUSTOMER, AT)
        for n in range(2500)
    ]
    body = json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": tweets}).encode()
    assert len(body) > 10 * 1024 * 1024

    response = post_signed_x(platform_client, x_account, body)

    assert response.status_code == 200
    assert Message.objects.count() == 2500
