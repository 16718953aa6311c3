"""Connected platform accounts and the platforms CareInbox speaks to."""

from django.db import models

from channels.secrets import EncryptedJSONField


class Platform(models.TextChoices):
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"
    EMAIL = "email", "Email"


class ChannelAccount(models.Model):
    """One connected X account, Facebook page or mailbox."""

    platform = models.CharField(max_length=16, choices=Platform)
    name = models.CharField(max_length=200)
    settings = models.JSONField(default=dict, blank=True)
    # Kept apart from settings, encrypted at rest (channels/secrets.py), never shown in the UI.
    credentials = EncryptedJSONField(default=dict, blank=True)
    poll_cursors = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    poll_interval_seconds = models.PositiveIntegerField(default=60)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Failed polls in a row; each one doubles the wait before the next try.
    poll_failures = models.PositiveIntegerField(default=0)
    backoff_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "channels_in_channelaccount"
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "name"], name="channelaccount_unique_platform_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"
