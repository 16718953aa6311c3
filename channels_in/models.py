"""Connected platform accounts, and what arrived from them that could not be ingested."""

from django.db import models

from tickets.models import Platform


class ChannelAccount(models.Model):
    """One connected X account, Facebook page or mailbox."""

    platform = models.CharField(max_length=16, choices=Platform)
    name = models.CharField(max_length=200)
    settings = models.JSONField(default=dict, blank=True)
    # Kept apart from settings so it can be encrypted at rest and never shown in the UI.
    credentials = models.JSONField(default=dict, blank=True)
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
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "name"], name="channelaccount_unique_platform_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"


class QuarantinedPayload(models.Model):
    """A payload that could not be normalised or ingested, kept whole until retried or discarded.

    The same payload failing again is counted on one row (``attempts``, ``last_seen_at``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        INGESTED = "ingested", "Ingested on retry"
        DISCARDED = "discarded", "Discarded"

    channel_account = models.ForeignKey(
        ChannelAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quarantined_payloads",
    )
    # Which normaliser reads this payload, e.g. "sample"; a retry runs it again.
    source = models.CharField(max_length=32)
    raw_payload = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    error = models.TextField()
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sha256"], name="quarantinedpayload_unique_source_sha256"
            ),
        ]

    def __str__(self) -> str:
        return f"Quarantined {self.source} payload {self.sha256[:12]}"
