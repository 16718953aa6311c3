"""The one platform-neutral shape every normaliser produces and the ingest service consumes."""

from dataclasses import dataclass, field
from datetime import datetime

from channels_in.errors import MalformedPayload
from tickets.models import Platform

# Kinds of customer message, by platform; the kind decides how a reply goes back out.
CHANNELS = {
    "x.mention": Platform.X,
    "x.dm": Platform.X,
    "facebook.post": Platform.FACEBOOK,
    "facebook.comment": Platform.FACEBOOK,
    "facebook.message": Platform.FACEBOOK,
    "email": Platform.EMAIL,
}


def _clean(value: str, *, limit: int | None = None) -> str:
    # PostgreSQL text cannot hold NUL; a customer's text must never fail to store because of one.
    value = value.replace("\x00", "\ufffd")
    return value[:limit] if limit else value


@dataclass(frozen=True)
class InboundAuthor:
    """The sender as the platform names them. ``external_id`` is an email address for email."""

    external_id: str
    handle: str = ""
    display_name: str = ""
    follower_count: int | None = None
    avatar_url: str = ""

    def __post_init__(self) -> None:
        if not self.external_id.strip():
            raise MalformedPayload("The sender has no id.")
        object.__setattr__(self, "external_id", _clean(self.external_id.strip(), limit=320))
        object.__setattr__(self, "handle", _clean(self.handle, limit=100))
        object.__setattr__(self, "display_name", _clean(self.display_name, limit=200))
        if self.follower_count is not None and self.follower_count < 0:
            raise MalformedPayload(f"Follower count {self.follower_count} is negative.")


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    size: int
    content: bytes = b""


@dataclass(frozen=True)
class InboundMessage:
    """One customer message as received, whatever the platform.

    Validated on construction: a bad value raises ``MalformedPayload`` naming the field.
    """

    channel: str
    external_id: str
    author: InboundAuthor
    sent_at: datetime
    text: str
    raw: bytes
    subject: str = ""
    html: str = ""
    # External ids this message answers: the direct parent first (In-Reply-To, the replied
    # tweet or comment), then older ancestors (an email's References), nearest first.
    in_reply_to: tuple[str, ...] = ()
    attachments: tuple[InboundAttachment, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise MalformedPayload(f"Unknown channel {self.channel!r}.")
        if not self.external_id.strip():
            raise MalformedPayload("The message has no id.")
        if self.sent_at.tzinfo is None:
            raise MalformedPayload(f"Message {self.external_id} has a time without a zone.")
        object.__setattr__(self, "text", _clean(self.text))
        object.__setattr__(self, "html", _clean(self.html))
        object.__setattr__(self, "subject", _clean(self.subject, limit=500))
        object.__setattr__(self, "in_reply_to", tuple(i for i in self.in_reply_to if i))

    @property
    def platform(self) -> Platform:
        return CHANNELS[self.channel]
