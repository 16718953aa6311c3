"""Customers, their platform identities, the evidence that ties identities together, and the
merges suggested on it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from channels.models import Platform


class Customer(models.Model):
    """One real person or organisation, however many platform identities they use."""

    display_name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    # When they first wrote to us: ingest sets it to the time of their first message.
    created_at = models.DateTimeField(default=timezone.now)
    # Set when this customer was merged into another: a tombstone kept for history.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )

    class Meta:
        db_table = "tickets_customer"
        # Privacy requests (``intake.privacy``): the admin role holds both.
        permissions = [
            ("export_customer", "Can export everything held about a customer"),
            ("erase_customer", "Can erase a customer"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Identity(models.Model):
    """How a customer appears on one platform."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="identities")
    platform = models.CharField(max_length=16, choices=Platform)
    # X user id, Facebook user id, or the lower-cased email address.
    external_id = models.CharField(max_length=320)
    handle = models.CharField(max_length=100, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    follower_count = models.PositiveIntegerField(null=True, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Platform time of the newest message seen from this identity; its profile is shown.
    last_seen_at = models.DateTimeField()

    class Meta:
        db_table = "tickets_identity"
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="identity_unique_platform_external_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.handle or self.external_id}"


class Evidence(models.Model):
    """Something a message says about its sender (``customers/evidence.py``): an address, a
    handle, a reference, a phone number, a postcode or the sender's name. The customer is the
    author identity's, so it follows merges."""

    # Indexed first in evidence_unique_per_message.
    message = models.ForeignKey(
        "cases.Message", on_delete=models.CASCADE, related_name="evidence", db_index=False
    )
    identity = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=16)
    value = models.CharField(max_length=320)

    class Meta:
        db_table = "tickets_evidence"
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["message", "kind", "value"], name="evidence_unique_per_message"
            ),
        ]
        indexes = [
            # Linking looks up every customer who gave the same address, reference or phone.
            models.Index(fields=["kind", "value"], name="evidence_kind_value"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class MergeSuggestion(models.Model):
    """Two customers who may be one person, with the evidence, for an agent to decide."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        MERGED = "merged", "Merged"

    customer_a = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    # [{"kind": "reference", "value": "AH-20931-UK"}, ...], strongest first.
    evidence = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "tickets_mergesuggestion"
        constraints = [
            # One row per pair, whatever the order found: a dismissal is never undone by a
            # later computation that finds the pair the other way round.
            models.CheckConstraint(
                condition=Q(customer_a__lt=models.F("customer_b")),
                name="mergesuggestion_ordered_pair",
            ),
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="mergesuggestion_unique_pair"
            ),
        ]
        indexes = [
            models.Index(fields=["customer_b", "status"], name="mergesuggestion_b_status"),
        ]

    def __str__(self) -> str:
        return f"Customers {self.customer_a_id} and {self.customer_b_id} ({self.status})"
