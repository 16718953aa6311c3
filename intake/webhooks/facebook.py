"""Facebook page webhooks: the verification handshake, a delivery's signature, and a delivery
split into the one-event payloads the normaliser reads.

Facebook verifies the callback URL with a GET carrying ``hub.mode=subscribe``, the
``hub.verify_token`` set in the app dashboard and a ``hub.challenge`` to echo; it signs each
delivery with ``X-Hub-Signature-256: sha256=`` + the hex HMAC-SHA256 of the raw body, keyed
with the app secret (https://developers.facebook.com/docs/graph-api/webhooks/getting-started).
A delivery batches entries, one per page, each with ``changes`` (feed) and ``messaging``.
"""

from collections.abc import Mapping
from typing import Any

from channels.errors import MalformedPayload
from channels.facebook.normaliser import POST_ITEMS
from channels.models import ChannelAccount
from channels.plug import dump_payload
from intake.webhooks import Delivery, WebhookRefused, account_secret, hmac_sha256, same_secret

SIGNATURE_HEADER = "X-Hub-Signature-256"
SECRET = "app_secret"
VERIFY_TOKEN = "verify_token"
# What the normaliser reads; other feed items (reactions, likes) are not messages.
MESSAGE_ITEMS = {"comment", *POST_ITEMS}


def challenge(account: ChannelAccount, params: Mapping[str, str]) -> str:
    """The ``hub.challenge`` to answer a subscription check whose ``hub.verify_token`` is the
    account's. Raises ``WebhookRefused`` naming what is missing or wrong."""
    if params.get("hub.mode") != "subscribe":
        raise WebhookRefused(f"hub.mode is {params.get('hub.mode')!r}, not 'subscribe'")
    token = account_secret(account, VERIFY_TOKEN)
    if not same_secret(token, params.get("hub.verify_token")):
        raise WebhookRefused("hub.verify_token is not the account's verify_token")
    answer = params.get("hub.challenge")
    if not answer:
        raise WebhookRefused("the subscription check has no hub.challenge")
    return answer


def verify(account: ChannelAccount, body: bytes, signature: str | None) -> None:
    """Check the ``X-Hub-Signature-256`` of a delivery's raw body. Raises ``WebhookRefused``
    naming what is missing or wrong."""
    secret = account_secret(account, SECRET)
    if not signature:
        raise WebhookRefused(f"the delivery has no {SIGNATURE_HEADER} header")
    expected = "sha256=" + hmac_sha256(secret, body).hex()
    if not same_secret(expected, signature.lower()):
        raise WebhookRefused(f"the {SIGNATURE_HEADER} header does not match the body")


def delivery(body: Any, account: ChannelAccount) -> Delivery:
    """A delivery's events, each as a page webhook body of its own, as the normaliser reads
    them. The page's own posts, comments and message echoes are left out, and so are events
    that are not messages (reactions, edits, receipts); events of another page are misrouted.
    Raises ``MalformedPayload`` when the body is not a page delivery."""
    if not isinstance(body, dict) or body.get("object") != "page":
        what = body.get("object") if isinstance(body, dict) else type(body).__name__
        raise MalformedPayload(f"it is not a page delivery (object {what!r})")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload("its entry is not a list")
    page_id = str((account.settings or {}).get("page_id") or "")
    if not page_id:
        raise MalformedPayload(f"Facebook account {account.pk} has no page_id setting")
    payloads: list[bytes] = []
    misrouted: list[tuple[bytes, str]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            payloads.append(_payload(entry))  # the normaliser names what is wrong
            continue
        changes, messaging = entry.get("changes") or [], entry.get("messaging") or []
        if not isinstance(changes, list) or not isinstance(messaging, list):
            payloads.append(_payload(entry))
            continue
        entry_page = str(entry.get("id"))
        events = [("changes", e) for e in changes] + [("messaging", e) for e in messaging]
        for key, event in events:
            if not _is_customer_message(key, event, entry_page):
                continue
            payload = _payload({**_without_events(entry), key: [event]})
            if entry_page == page_id:
                payloads.append(payload)
            else:
                why = (
                    f"A Facebook webhook event for page {entry_page} came to the URL of "
                    f"account {account.pk}, page {page_id}; connect that page and point its "
                    "app's webhook at its own URL."
                )
                misrouted.append((payload, why))
    return Delivery(payloads=payloads, misrouted=misrouted)


def _is_customer_message(key: str, event: Any, page_id: str) -> bool:
    """False only for what is known not to be a customer's message: an event the normaliser
    cannot read at all still goes on, so it is quarantined with its reason."""
    if not isinstance(event, dict):
        return True
    if key == "changes":
        if event.get("field") != "feed":
            return False  # other subscribed fields (ratings, mentions) are not read
        value = event.get("value")
        if not isinstance(value, dict):
            return True
        author = value.get("from")
        own = isinstance(author, dict) and str(author.get("id")) == page_id
        return value.get("item") in MESSAGE_ITEMS and value.get("verb", "add") == "add" and not own
    message = event.get("message")
    sender = event.get("sender")
    own = isinstance(sender, dict) and str(sender.get("id")) == page_id
    echo = isinstance(message, dict) and bool(message.get("is_echo"))
    return "message" in event and not own and not echo


def _without_events(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in {"changes", "messaging"}}


def _payload(entry: Any) -> bytes:
    body = {"object": "page", "entry": [entry]}
    return dump_payload(body)
