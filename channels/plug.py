"""What each platform package plugs into the shared machinery: how to read its payloads, how to
poll an account, and how to send a reply."""

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.inbound import InboundMessage
from channels.models import ChannelAccount


def dump_payload(body: Any) -> bytes:
    """A payload as the bytes a normaliser reads: JSON with sorted keys, so that the same
    item read twice gives the same bytes (quarantine counts repeats). Text stays as UTF-8;
    text holding a lone UTF-16 surrogate, which JSON allows and UTF-8 cannot hold, is
    written with escapes instead, so the normaliser still gets it whole."""
    try:
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    except UnicodeEncodeError:
        return json.dumps(body, sort_keys=True).encode()


@dataclass(frozen=True)
class FetchedPage:
    """One page of a poll: raw, self-contained payloads (each one a normaliser reads alone),
    and the account's poll cursors as they stand once this page is stored."""

    payloads: list[bytes]
    cursors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundFile:
    """A file the agent attached to a reply (email only)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutboundReply:
    """A reply ready to leave: the text already carries the agent's signature or sign-off."""

    message_id: int  # our stored outbound message: the key that makes sending idempotent
    channel: str  # the channel to answer on, e.g. "x.mention" answers with a reply tweet
    text: str
    in_reply_to: str  # the platform id of the customer's message being answered
    recipient: str  # the customer's id on the platform (X user id, PSID, email address)
    subject: str = ""
    references: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()  # email only, like the attachments
    attachments: tuple[OutboundFile, ...] = ()


@dataclass(frozen=True)
class Sender:
    # Posts the reply; returns the platform's id for it. Raises TransientSendError or
    # PermanentSendError.
    send: Callable[[ChannelAccount, OutboundReply], str]
    # Looks on the platform for a reply already posted for this message (a worker that died
    # after the platform accepted it); returns its platform id, or None if there is none.
    find_sent: Callable[[ChannelAccount, OutboundReply], str | None]
    # What the composer asks before a reply is stored: raises PermanentSendError, in words for
    # the agent, when the platform would refuse it. Given the channel, the signed text and
    # when the customer last wrote on that channel.
    check: Callable[[str, str, datetime], None] | None = None


@dataclass(frozen=True)
class Source:
    """A kind of raw payload and how to read it."""

    normalise: Callable[[bytes], InboundMessage]
    # The accounts its messages arrive on when a payload alone does not say (a quarantined
    # payload of the sample loader); platform sources always know their account.
    accounts: Callable[[], Mapping[str, ChannelAccount]] | None = None


@dataclass(frozen=True)
class PlatformChannel:
    """One platform's plug: its payload source, its poller and its sender."""

    source: str
    normalise: Callable[[bytes], InboundMessage]
    # Yields pages from the account's cursors on; raises FetchError / RateLimited.
    poll: Callable[[ChannelAccount], Iterator[FetchedPage]]
    sender: Sender
    # "Test connection": what the account's settings and credentials reach, in a sentence a
    # person reads, through the real client; raises FetchError saying what failed.
    probe: Callable[[ChannelAccount], str]
    # Hides a customer's public message on the platform (kept there, seen only by its author
    # and their friends), given its platform id; None where the platform cannot. Raises
    # TransientSendError or PermanentSendError.
    hide: Callable[[ChannelAccount, str], None] | None = None
    # Posts the brand's own public message from the account (a tweet, a post on the page),
    # answering no one; returns its platform id. None where the platform has no public feed.
    # Raises TransientSendError or PermanentSendError.
    post_public: Callable[[ChannelAccount, str], str] | None = None
    # Looks among the account's latest public posts for one with this text (an earlier
    # attempt the platform accepted although its answer was lost); its id, or None. Raises
    # TransientSendError when the platform cannot be read.
    find_public: Callable[[ChannelAccount, str], str | None] | None = None
