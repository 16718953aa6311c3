"""In-app notifications: the bell on every page counts a user's unread ones."""

from django.contrib.auth.models import User

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
