"""The bell: a user's own in-app notifications (hand-offs to them, @mentions, new messages on
their cases)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from notifications.models import Notification
from workspace.views.access import signed_in_required

NOTIFICATIONS_SHOWN = 50


@require_GET
@signed_in_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = (
        Notification.objects.filter(recipient_id=request.user.pk)
        .select_related("case", "actor")
        .order_by("-created_at", "-pk")[:NOTIFICATIONS_SHOWN]
    )
    return render(request, "workspace/notification_list.html", {"notifications": notifications})


@require_GET
@signed_in_required
def notification_bell(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/notification_list.html#bell")


@require_POST
@signed_in_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go to its case."""
    notification = get_object_or_404(
        Notification, pk=notification_id, recipient_id=request.user.pk
    )
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return redirect("workspace:case-detail", case_id=notification.case_id)


@require_POST
@signed_in_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(recipient_id=request.user.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("workspace:notifications")


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/bell/", notification_bell, name="notification-bell"),
    path("notifications/<int:notification_id>/open/", notification_open, name="notification-open"),
    path("notifications/read/", notification_read_all, name="notification-read-all"),
]
