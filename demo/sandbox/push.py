"""The platforms' webhook deliveries, as X and Facebook push them: customer messages in the
delivery shapes of X's Account Activity API and Facebook's page webhooks, signed with the
app's secret, posted to a CareInbox webhook URL at a steady rate.

X signs a delivery with ``x-twitter-webhooks-signature: sha256=`` + base64 of the HMAC-SHA256
of the body keyed with the consumer secret; Facebook with ``X-Hub-Signature-256: sha256=`` +
its hex digest keyed with the app secret. Both batch events under load: a delivery here
carries whatever became due since the one before.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from demo.sandbox.graph_api import PAGE_ID
from demo.sandbox.x_api import BRAND

X_SIGNATURE_HEADER = "x-twitter-webhooks-signature"
FACEBOOK_SIGNATURE_HEADER = "X-Hub-Signature-256"
# A post of the brand's page that customers comment under.
PAGE_POST_ID = f"{PAGE_ID}_900000000000001"


@dataclass(frozen=True)
class Pushed:
    """A customer message to push: who wrote it, on which platform, and what."""

    platform: str  # "x" (a mention) or "facebook" (a comment under the page's post)
    message_id: str
    author_id: str
    author_name: str
    text: str


def x_signature(body: bytes, consumer_secret: str) -> str:
    digest = hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def facebook_signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def x_delivery(messages: Sequence[Pushed], at: datetime) -> bytes:
    """An Account Activity API delivery of ``messages`` as mentions of the brand at ``at``."""
    tweets = [
        {
            "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "timestamp_ms": str(int(at.timestamp() * 1000)),
            "id_str": message.message_id,
            "text": f"@{BRAND['username']} {message.text}",
            "user": {
                "id_str": message.author_id,
                "screen_name": f"user{message.author_id}",
                "name": message.author_name,
                "followers_count": 40,
            },
        }
        for message in messages
    ]
    return json.dumps({"for_user_id": BRAND["id"], "tweet_create_events": tweets}).encode()


def facebook_delivery(messages: Sequence[Pushed], at: datetime) -> bytes:
    """A page webhook delivery of ``messages`` as comments under the page's post at ``at``."""
    changes = [
        {
            "field": "feed",
            "value": {
                "item": "comment",
                "verb": "add",
                "comment_id": f"{PAGE_POST_ID}_{message.message_id}",
                "post_id": PAGE_POST_ID,
                "parent_id": PAGE_POST_ID,
                "from": {"id": message.author_id, "name": message.author_name},
                "message": message.text,
                "created_time": int(at.timestamp()),
            },
        }
        for message in messages
    ]
    entry = {"id": PAGE_ID, "time": int(at.timestamp()), "changes": changes}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


@dataclass(frozen=True)
class Hook:
    """A CareInbox webhook URL of one channel account, and the secret its platform signs with."""

    platform: str
    url: str
    secret: str

    def post(self, session: requests.Session, messages: Sequence[Pushed], at: datetime) -> None:
        if self.platform == "x":
            body = x_delivery(messages, at)
            headers = {X_SIGNATURE_HEADER: x_signature(body, self.secret)}
        else:
            body = facebook_delivery(messages, at)
            headers = {FACEBOOK_SIGNATURE_HEADER: facebook_signature(body, self.secret)}
        headers["Content-Type"] = "application/json"
        response = session.post(self.url, data=body, headers=headers, timeout=30)
        response.raise_for_status()


def push_steadily(
    messages: Sequence[Pushed],
    hooks: dict[str, Hook],
    *,
    per_second: float,
    tick_seconds: float = 0.1,
    sent: Callable[[Sequence[Pushed], float], None] = lambda messages, at: None,
) -> None:
    """Push ``messages`` in order at ``per_second``: every ``tick_seconds`` each platform
    delivers the messages that became due, timed (``created_at``) when they are sent, and
    ``sent`` is told each delivery's messages and that time (``time.time()``). Falls behind
    only if the webhook answers slower than the rate needs, and catches up after."""
    session = requests.Session()
    start = next_tick = time.time()
    position = 0
    while position < len(messages):
        due = min(len(messages), int((time.time() - start) * per_second) + 1)
        batch, position = messages[position:due], due
        for platform, group in _by_platform(batch):
            at = time.time()
            hooks[platform].post(session, group, datetime.fromtimestamp(at, UTC))
            sent(group, at)
        next_tick += tick_seconds
        time.sleep(max(0.0, next_tick - time.time()))


def _by_platform(messages: Sequence[Pushed]) -> Iterator[tuple[str, list[Pushed]]]:
    groups: dict[str, list[Pushed]] = {}
    for message in messages:
        groups.setdefault(message.platform, []).append(message)
    yield from groups.items()


def messages_of(texts: Sequence[str], *, count: int, customers: int) -> list[Pushed]:
    """``count`` customer messages from ``customers`` authors, half on each platform, their
    texts taken from ``texts`` in turn. The same arguments give the same messages."""
    pushed = []
    for n in range(count):
        customer = n % customers
        platform = "x" if customer % 2 == 0 else "facebook"
        pushed.append(
            Pushed(
                platform=platform,
                message_id=str(8_000_000_000_000 + n),
                author_id=str(6_000_000_000 + customer),
                author_name=f"Customer {customer}",
                text=texts[n % len(texts)],
            )
        )
    return pushed
