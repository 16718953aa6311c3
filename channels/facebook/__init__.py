"""Facebook: visitor posts and comments on the brand's page, and Messenger."""

from datetime import datetime

from django.utils import timezone

from channels.errors import PermanentSendError
from channels.facebook import client, normaliser, sender
from channels.plug import PlatformChannel, Sender


def check(channel: str, text: str, last_customer_message_at: datetime) -> None:
    """Messenger answers only within its window; comments can be answered any time."""
    if channel != "facebook.message":
        return
    window = sender.messaging_window(last_customer_message_at, timezone.now())
    if window.state == sender.WindowState.CLOSED:
        raise PermanentSendError(window.explanation)


CHANNEL = PlatformChannel(
    source="facebook",
    normalise=normaliser.normalise,
    poll=client.poll,
    sender=Sender(send=sender.send, find_sent=sender.find_sent, check=check),
    probe=client.probe,
    hide=sender.hide_comment,
    post_public=sender.post_on_page,
    find_public=sender.find_on_page,
)
