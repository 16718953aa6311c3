"""What every workspace page shows around its content: the user's rights, name and unread
count. Each is looked up at most once per page, and only if the page shows it."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tickets.actions import display_name
from tickets.models import Notification


def workspace(request: HttpRequest) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "can_work": user.has_perm("tickets.work_case"),
        "can_reassign": user.has_perm("tickets.reassign_case"),
        "can_see_dashboards": user.has_perm("tickets.view_dashboards")
        or user.has_perm("tickets.reassign_case"),
        "can_manage_canned": user.has_perm("tickets.change_cannedresponse"),
        "can_manage_rules": user.has_perm("tickets.change_routingrule"),
        "my_name": SimpleLazyObject(lambda: display_name(user)),  # type: ignore[arg-type]
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
        ),
    }
