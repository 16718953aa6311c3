"""What every workspace page shows around its content: the user's rights, name and unread
count. Each is looked up at most once per page, and only if the page shows it."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.models import Notification
from staff.names import display_name


def workspace(request: HttpRequest) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "can_work": user.has_perm("cases.work_case"),
        "can_reassign": user.has_perm("cases.reassign_case"),
        "can_see_dashboards": user.has_perm("cases.view_dashboards")
        or user.has_perm("cases.reassign_case"),
        "can_manage_canned": user.has_perm("cases.change_cannedresponse"),
        "can_manage_rules": user.has_perm("routing.change_routingrule"),
        "my_name": SimpleLazyObject(lambda: display_name(user)),  # type: ignore[arg-type]
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
        ),
    }
