"""Incidents: many customers writing about the same problem at once."""

from django.db import models

from cases.models import Message


class Incident(models.Model):
    """A group of customer messages about one problem, found at ingest."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        # A supervisor decided a proposed incident was none; its messages stay linked so
        # detection does not propose them again.
        DISMISSED = "dismissed", "Dismissed"
        # Folded into ``merged_into``, which now holds its messages.
        MERGED = "merged", "Merged"

    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status, default=Status.PROPOSED)
    created_at = models.DateTimeField()
    first_message_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    places = models.JSONField(default=list, blank=True)
    # The group's distinctive words, which later messages are compared with.
    terms = models.JSONField(default=list, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "last_message_at"])]

    def __str__(self) -> str:
        return self.title


class IncidentMessage(models.Model):
    """A customer message counted in an incident (a message is in one incident at most)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="incident_link")
    added_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.message_id}"
