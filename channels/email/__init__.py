"""Email: a brand's mailbox read over IMAP or from a Maildir, replies sent by SMTP."""

from channels.email import client, normaliser, probe, sender
from channels.plug import PlatformChannel, Sender

CHANNEL = PlatformChannel(
    source="email",
    normalise=normaliser.normalise,
    poll=client.poll,
    sender=Sender(send=sender.send, find_sent=sender.find_sent),
    probe=probe.probe,
)
