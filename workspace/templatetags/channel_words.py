"""Channels and platforms in the words people read ("X mention", "Facebook Messenger",
"Email"), never their stored keys (``channels.kinds``)."""

from django import template

from channels.kinds import label_of
from channels.models import Platform

register = template.Library()


@register.filter
def channel_words(channel: str | None) -> str:
    """``{{ message.channel|channel_words }}``"""
    return label_of(channel)


@register.filter
def platform_words(platform: str | None) -> str:
    """``{{ identity.platform|platform_words }}``: "X", "Facebook", "Email"."""
    return Platform(platform).label if platform in Platform.values else platform or ""
