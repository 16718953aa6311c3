"""In-app notices for one user about a case."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models import Case


class Notification(models.Model):
    """An in-app notice for one user: a hand-off to them, an @mention, a new message on their
    case."""

    class Kind(models.TextChoices):
        HANDED_OFF = "handed_off", "Handed off to you"
        MENTIONED = "mentioned", "Mentioned you"
        NEW_MESSAGE = "new_message", "New message on your case"
        SLA_BREACHED = "sla_breached", "SLA breached"
        ASSIGNED = "assigned", "Assigned to you"
        PRAISED = "praised", "Praised by a customer"
        INCIDENT = "incident", "Incident proposed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "tickets_notification"
        indexes = [
            # The bell counts a user's unread notices on every page.
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: case {self.case_id}"
