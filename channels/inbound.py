"""The one platform-neutral shape every normaliser produces and the ingest service consumes."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from channels.errors import MalformedPayload
from channels.kinds import KINDS
from channels.models import Platform

# Platform times outside this range are bugs or forgeries; storing them breaks later reads.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
AUTOMATED_KINDS = {"", "auto-reply", "bounce"}
MAX_FOLLOWERS = 2**31 - 1  # what the database column holds; no account has more
MAX_ATTACHMENT_BYTES = 2**62


# A post a comment answers is shown as a reminder, not kept whole.
CONTEXT_LIMIT = 5000


def _text(what: str, value: object, *, limit: int | None = None) -> str:
    """Customer text as it can be stored: never failing for a NUL or a lone surrogate."""
    if not isinstance(value, str):
        raise MalformedPayload(f"{what} is {type(value).__name__}, not text.")
    # PostgreSQL text cannot hold NUL; UTF-8 cannot hold a lone surrogate.
    value = value.replace("\x00", "\ufffd")
    value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value[:limit] if limit else value


def _identifier(what: str, value: object, *, limit: int) -> str:
    """An id must be stored exactly as the platform gave it, or not at all."""
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(f"{what} is missing or not text.")
    if "\x00" in value or len(value) > limit or value != _text(what, value):
        raise MalformedPayload(f"{what} {value[:40]!r} is not a usable id.")
    return value.strip()


@dataclass(frozen=True)
class InboundAuthor:
    """The sender as the platform names them. ``external_id`` is an email address for email."""

    external_id: str
    handle: str = ""
    display_name: str = ""
    follower_count: int | None = None
    avatar_url: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "external_id", _identifier("The sender's id", self.external_id, limit=320))
        set_(self, "handle", _text("The sender's handle", self.handle, limit=100))
        set_(self, "display_name", _text("The sender's name", self.display_name, limit=200))
        set_(self, "avatar_url", _text("The sender's avatar", self.avatar_url, limit=1000))
        followers = self.follower_count
        if followers is not None and (
            not isinstance(followers, int)
            or isinstance(followers, bool)
            or not 0 <= followers <= MAX_FOLLOWERS
        ):
            raise MalformedPayload(f"Follower count {followers!r} is not a count of people.")


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    size: int
    content: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "filename", _text("An attachment's name", self.filename, limit=255)
        )
        object.__setattr__(
            self, "content_type", _text("An attachment's type", self.content_type, limit=255)
        )
        if not isinstance(self.size, int) or not 0 <= self.size <= MAX_ATTACHMENT_BYTES:
            raise MalformedPayload(f"Attachment {self.filename!r} has size {self.size!r}.")


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
    # A case number the customer quoted, e.g. "[#1234]" in a mail subject.
    case_reference: int | None = None
    # "auto-reply" or "bounce" when a machine sent it; such mail never reopens a case.
    automated: str = ""
    attachments: tuple[InboundAttachment, ...] = field(default=())
    # What the message answers, as the platform gave it along: a Facebook comment's post
    # text. Shown above the message; "" when the platform gave none.
    context: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.channel not in KINDS:
            raise MalformedPayload(f"Unknown channel {self.channel!r}.")
        set_(self, "external_id", _identifier("The message id", self.external_id, limit=500))
        if self.sent_at.tzinfo is None:
            raise MalformedPayload(f"Message {self.external_id} has a time without a zone.")
        if self.automated not in AUTOMATED_KINDS:
            raise MalformedPayload(f"Unknown kind of automated message {self.automated!r}.")
        if not EARLIEST <= self.sent_at < LATEST:
            raise MalformedPayload(f"Message {self.external_id} has an impossible time.")
        set_(self, "text", _text(f"Message {self.external_id}'s text", self.text))
        set_(self, "html", _text(f"Message {self.external_id}'s HTML", self.html))
        set_(
            self,
            "context",
            _text(f"Message {self.external_id}'s context", self.context, limit=CONTEXT_LIMIT),
        )
        set_(
            self,
            "subject",
            _text(f"Message {self.external_id}'s subject", self.subject, limit=500),
        )
        set_(
            self,
            "in_reply_to",
            tuple(_identifier("A replied-to id", i, limit=500) for i in self.in_reply_to if i),
        )

    @property
    def platform(self) -> Platform:
        return KINDS[self.channel].platform
