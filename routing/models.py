"""Routing rules and the brand's stores they can recognise in a message."""

import re

from django.core.exceptions import ValidationError
from django.db import models

from channels.models import ChannelAccount, Platform
from sla.models import Priority
from staff.models import Team


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"This is not a valid regular expression: {exc}.") from None


class Store(models.Model):
    """A shop customers may name ("the Leeds White Rose store"); a routing rule can send the
    messages that name it to its team."""

    name = models.CharField(max_length=100, help_text="As customers say it, e.g. White Rose.")
    city = models.CharField(max_length=100)
    aliases = models.CharField(
        max_length=300, blank=True, help_text="Other names, comma-separated, e.g. Crown Point."
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="stores"
    )
    # Praise for someone at the store who is not a user of the inbox is emailed here.
    contact_email = models.EmailField(
        blank=True, help_text="Customers' praise for the store's staff is emailed here."
    )

    class Meta:
        db_table = "tickets_store"
        ordering = ["city", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "name"], name="store_unique_city_name"),
        ]

    def __str__(self) -> str:
        return f"{self.city} {self.name}"


class Language(models.TextChoices):
    """What ``routing.rules.detect_language`` can tell apart."""

    ENGLISH = "en", "English"
    FRENCH = "fr", "French"
    GERMAN = "de", "German"
    SPANISH = "es", "Spanish"
    ITALIAN = "it", "Italian"
    DUTCH = "nl", "Dutch"
    PORTUGUESE = "pt", "Portuguese"
    ARABIC = "ar", "Arabic"
    RUSSIAN = "ru", "Russian"
    JAPANESE = "ja", "Japanese"
    KOREAN = "ko", "Korean"
    CHINESE = "zh", "Chinese"


class Sentiment(models.TextChoices):
    """What ``routing.sentiment.sentiment`` finds (the values of ``cases.Message.sentiment``)."""

    NEGATIVE = "neg", "Negative"
    NEUTRAL = "neu", "Neutral"
    POSITIVE = "pos", "Positive"


class RoutingRule(models.Model):
    """Conditions on an incoming customer message and what to do when they all hold.

    Enabled rules run in ``position`` order on every customer message at ingest; every rule
    that matches applies (a later team or priority wins over an earlier one, tags add up)
    until one that says ``stop_processing``. An empty condition matches every message.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    stop_processing = models.BooleanField(
        default=False, help_text="When this rule matches, later rules are not looked at."
    )

    # Conditions.
    channel_account = models.ForeignKey(
        ChannelAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rules",
    )
    platform = models.CharField(max_length=16, choices=Platform, blank=True)
    keywords = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated words or phrases: any one of them, as whole words.",
    )
    pattern = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_regex],
        help_text="A Python regular expression searched in the text, ignoring case.",
    )
    language = models.CharField(max_length=8, choices=Language, blank=True)
    sentiment = models.CharField(
        max_length=3,
        choices=Sentiment,
        blank=True,
        help_text="The message's sentiment as found at ingest; blank for any.",
    )
    closing_thanks = models.BooleanField(
        default=False,
        help_text="The message only thanks us or says all is well, and asks nothing.",
    )
    names_store = models.BooleanField(
        default=False, help_text="The message names a store of the store list."
    )

    # Actions.
    set_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team_from_store = models.BooleanField(
        default=False, help_text="Send the case to the team of the store the message names."
    )
    set_priority = models.CharField(max_length=16, choices=Priority, blank=True)
    add_tags = models.CharField(max_length=300, blank=True, help_text="Comma-separated.")
    mark_no_reply = models.BooleanField(
        default=False,
        help_text="The message needs no reply: it stays shown, marked, and starts no clock.",
    )

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "tickets_routingrule"
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name
