"""What arrived from the platforms that could not be ingested, kept whole for a decision."""

from django.db import models

from channels.models import ChannelAccount


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
        db_table = "channels_in_quarantinedpayload"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sha256"], name="quarantinedpayload_unique_source_sha256"
            ),
        ]

    def __str__(self) -> str:
        return f"Quarantined {self.source} payload {self.sha256[:12]}"


class WebhookDelivery(models.Model):
    """A signed webhook delivery, kept as it came until a worker has ingested it.

    The webhook answers the platform as soon as this row is committed; a worker claims waiting
    deliveries in arrival order, ingests them as one batch, and deletes them. A claim lasts until
    ``claimed_until``: a delivery whose worker died is claimed again after that.
    """

    channel_account = models.ForeignKey(
        ChannelAccount, on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    body = models.BinaryField()
    # len(body), so that a worker can claim a batch of a bounded size without reading bodies.
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField(auto_now_add=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"Webhook delivery {self.pk} to {self.channel_account}"
