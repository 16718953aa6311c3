"""X (Twitter): the brand's mentions and direct messages, through the X API v2 and tweepy."""

from channels_in.platforms import PlatformChannel, Sender
from channels_in.x import client, normaliser, sender

CHANNEL = PlatformChannel(
    source="x",
    normalise=normaliser.normalise,
    poll=client.poll,
    sender=Sender(send=sender.send, find_sent=sender.find_sent),
)
