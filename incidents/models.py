"""Incidents: many customers writing about the same problem at once."""

from django.conf import settings
from django.db import models

from cases.models import Case, Message
from channels.models import ChannelAccount


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


class IncidentUpdate(models.Model):
    """What a supervisor told customers about an incident: a public post on the brand's
    accounts and a reply to every linked case. A closing update resolves the incident."""

    class Kind(models.TextChoices):
        UPDATE = "update", "Update"
        CLOSING = "closing", "Closing update"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.UPDATE)
    public_text = models.TextField(blank=True)
    reply_template = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_updates"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The incident's latest update, read on every incident page.
            models.Index(fields=["incident", "-created_at"], name="incidentupdate_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on incident {self.incident_id}"


class IncidentPost(models.Model):
    """An update's public post on one of the brand's accounts. The row is the post's
    idempotency key: once it holds the platform's id, nothing posts it again."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Posting"
        POSTED = "posted", "Posted"
        FAILED = "failed", "Failed"

    update = models.ForeignKey(IncidentUpdate, on_delete=models.CASCADE, related_name="posts")
    account = models.ForeignKey(ChannelAccount, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    external_id = models.CharField(max_length=128, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["update", "account"], name="incidentpost_one_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"Update {self.update_id} on account {self.account_id}: {self.status}"


class IncidentReply(models.Model):
    """The reply an update sent to one linked case: at most one per (update, case), so a
    second click or a retried request never answers a customer twice."""

    update = models.ForeignKey(IncidentUpdate, on_delete=models.CASCADE, related_name="replies")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="incident_replies")
    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="incident_reply"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["update", "case"], name="incidentreply_one_per_case"),
        ]

    def __str__(self) -> str:
        return f"Update {self.update_id} to case {self.case_id}"
