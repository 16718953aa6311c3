"""Facebook: visitor posts and comments on the brand's page, and Messenger."""

from channels_in.facebook import client, normaliser, sender
from channels_in.platforms import PlatformChannel, Sender

CHANNEL = PlatformChannel(
    source="facebook",
    normalise=normaliser.normalise,
    poll=client.poll,
    sender=Sender(send=sender.send, find_sent=sender.find_sent),
)
