"""The bell: a user's own in-app notifications (hand-offs to them, @mentions, new messages on
their cases), one entry per case. The bell's panel is fetched when it is opened, so pages pay
only for the unread count."""

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from cases import visibility
from notifications import selectors, services
from workspace.views.access import signed_in_required

# Cases in the bell's panel; the notifications page has the rest.
PANEL_CASES = 8
CASES_PER_PAGE = 25


class WorkspaceRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


@require_GET
@signed_in_required
def notification_list(request: WorkspaceRequest) -> HttpResponse:
    notifications = selectors.notifications_of(recipient_id=request.user.pk)
    page = Paginator(selectors.case_groups(notifications), CASES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    groups = selectors.describe_groups(notifications=notifications, groups=list(page))
    return render(request, "workspace/notification_list.html", {"page": page, "groups": groups})


@require_GET
@signed_in_required
def notification_bell(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "workspace/notification_list.html#badge")


@require_GET
@signed_in_required
def notification_panel(request: WorkspaceRequest) -> HttpResponse:
    groups = selectors.unread_by_case(recipient_id=request.user.pk, limit=PANEL_CASES)
    return render(request, "workspace/notification_list.html#panel", {"groups": groups})


@require_POST
@signed_in_required
def notification_case_open(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """Mark the user's notifications about a case read and go to the case (one they may see:
    another team's case is answered as if it did not exist)."""
    get_object_or_404(visibility.visible_cases(request.user).only("pk"), pk=case_id)
    services.mark_case_read(recipient_id=request.user.pk, case_id=case_id)
    return redirect("workspace:case-detail", case_id=case_id)


@require_POST
@signed_in_required
def notification_read_all(request: WorkspaceRequest) -> HttpResponse:
    services.mark_all_read(recipient_id=request.user.pk)
    if request.htmx:
        # The emptied panel, and the badge swapped out of band.
        return render(
            request,
            "workspace/notification_list.html#panel",
            {"groups": [], "unread_notifications": 0, "badge_oob": True},
        )
    return redirect("workspace:notifications")


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/bell/", notification_bell, name="notification-bell"),
    path("notifications/panel/", notification_panel, name="notification-panel"),
    path(
        "notifications/cases/<int:case_id>/open/",
        notification_case_open,
        name="notification-case-open",
    ),
    path("notifications/read/", notification_read_all, name="notification-read-all"),
]
