"""What every workspace page shows around its content: the user's roles and unread count."""

from django.http import HttpRequest

from tickets.models import Notification


def workspace(request: HttpRequest) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "can_work": user.has_perm("tickets.work_case"),
        "can_reassign": user.has_perm("tickets.reassign_case"),
        "can_see_dashboards": user.has_perm("tickets.view_dashboards"),
        "can_manage_canned": user.has_perm("tickets.change_cannedresponse"),
        "unread_notifications": Notification.objects.filter(
            recipient=user, read_at__isnull=True
        ).count,
    }
