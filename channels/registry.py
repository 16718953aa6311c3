"""The platforms CareInbox speaks to, each by its plug (``channels.plug``). The polling,
webhook and outbound services reach a platform only through ``platform_channel``."""

from channels import email, facebook, x
from channels.plug import PlatformChannel

PLATFORMS: dict[str, PlatformChannel] = {
    "x": x.CHANNEL,
    "facebook": facebook.CHANNEL,
    "email": email.CHANNEL,
}


def platform_channel(platform: str) -> PlatformChannel:
    """The plug of ``platform``; ``LookupError`` for a platform CareInbox does not speak."""
    try:
        return PLATFORMS[platform]
    except KeyError:
        raise LookupError(f"No channel package for platform {platform!r}.") from None
