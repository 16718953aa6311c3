"""The kinds of message CareInbox reads and answers on ("channels"), each with its platform, the
names people see for it and how replies on it are written. The one place these are said."""

from dataclasses import dataclass

from channels.models import Platform


@dataclass(frozen=True)
class ChannelKind:
    key: str  # stored on every message, e.g. "x.mention"
    platform: Platform
    label: str  # in filters, reports and CSV
    message_label: str  # what a customer message on it is, on the case page
    reply_label: str  # what a reply on it is, in the composer
    public: bool  # whoever follows the brand can read it
    # Short public replies carry the agent's short signature ("^JL"); the rest a sign-off.
    short_signature: bool


KINDS: dict[str, ChannelKind] = {
    kind.key: kind
    for kind in (
        ChannelKind(
            "x.mention", Platform.X, "X mention", "public reply", "X public reply", True, True
        ),
        ChannelKind(
            "x.dm",
            Platform.X,
            "X direct message",
            "direct message",
            "X direct message",
            False,
            True,
        ),
        ChannelKind(
            "facebook.post",
            Platform.FACEBOOK,
            "Facebook post",
            "post on the page",
            "Facebook comment on their post",
            True,
            False,
        ),
        ChannelKind(
            "facebook.comment",
            Platform.FACEBOOK,
            "Facebook comment",
            "comment",
            "Facebook comment reply",
            True,
            False,
        ),
        ChannelKind(
            "facebook.message",
            Platform.FACEBOOK,
            "Facebook Messenger",
            "Messenger",
            "Messenger",
            False,
            False,
        ),
        ChannelKind("email", Platform.EMAIL, "Email", "email", "Email", False, False),
    )
}


def label_of(channel: str | None) -> str:
    """A message's channel in words ("X mention", "Email"), wherever a person reads it; the
    key itself only for a channel CareInbox does not know."""
    kind = KINDS.get(channel or "")
    return kind.label if kind else channel or "Unknown channel"


def kinds_on(platform: str) -> list[str]:
    """The channel keys of one platform."""
    return [key for key, kind in KINDS.items() if kind.platform == platform]
