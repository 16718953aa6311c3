"""X (Twitter): the brand's mentions and direct messages, through the X API v2 and tweepy."""

from datetime import datetime

from channels.plug import PlatformChannel, Sender
from channels.x import client, length, normaliser, sender


def check(channel: str, text: str, last_customer_message_at: datetime) -> None:
    length.validate_reply_text(text, channel=channel)


CHANNEL = PlatformChannel(
    source="x",
    normalise=normaliser.normalise,
    poll=client.poll,
    sender=Sender(send=sender.send, find_sent=sender.find_sent, check=check),
    probe=client.probe,
    post_public=sender.post_public,
    find_public=sender.find_public,
)
