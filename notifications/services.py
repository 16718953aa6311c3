"""In-app notifications: the bell on every page counts a user's unread ones."""

from django.contrib.auth.models import User
from django.utils import timezone

from cases.models import Case
from notifications.models import Notification


def notify(
    *, recipient_id: int, kind: str, case: Case, text: str, actor: User | None = None
) -> None:
    """Tell ``recipient_id`` about ``case``, unless they did it themselves."""
    if actor is not None and actor.pk == recipient_id:
        return
    Notification.objects.create(
        recipient_id=recipient_id, kind=kind, case=case, actor=actor, text=text[:300]
    )


def mark_case_read(*, recipient_id: int, case_id: int) -> int:
    """Mark the user's unread notices about one case read; how many there were."""
    return Notification.objects.filter(
        recipient_id=recipient_id, case_id=case_id, read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_all_read(*, recipient_id: int) -> int:
    """Mark all the user's unread notices read; how many there were."""
    return Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )
