"""What every workspace page shows around its content: the user's rights, name and unread
count, and the links of the page's frame. Each is looked up at most once per page, and only if
the page shows it."""

from functools import cache
from typing import cast

from django.contrib.auth.models import User
from django.db.models import Count
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString

from careinbox.prepared import PreparedRead, columns, instance
from cases import inbox as case_inbox
from notifications.models import Notification
from staff import roles, two_factor
from staff.models import AgentProfile
from staff.names import display_name

# Every page asks both: compiled once (careinbox.prepared).
PROFILE = PreparedRead(
    lambda user_id: AgentProfile.objects.filter(user_id=user_id).values(*columns(AgentProfile)),
    user_id=int,
)
UNREAD = PreparedRead(
    lambda user_id: (
        Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
        .values("recipient_id")
        .annotate(unread=Count("pk"))
        .values("unread")
    ),
    user_id=int,
)


def my_profile(user: User) -> AgentProfile | None:
    """The user's agent profile, read with a prepared query and kept on ``user``, for what
    else the page asks of it (their name, a reply's signature, the paused banner)."""
    profile_of = User.agent_profile.related  # type: ignore[attr-defined]
    if not profile_of.is_cached(user):
        rows = PROFILE.rows(user_id=user.pk)
        profile_of.set_cached_value(user, instance(AgentProfile, rows[0]) if rows else None)
    return cast(AgentProfile | None, profile_of.get_cached_value(user))


def my_name(user: User) -> str:
    """The user's display name."""
    my_profile(user)
    return display_name(user)


def assignment_paused(user: User) -> bool:
    """Whether a supervisor paused automatic assignment to the user: a column of the profile
    the page reads for their name, so no query of its own."""
    profile = my_profile(user)
    return profile is not None and profile.assignment_paused


def unread_notifications(user: User) -> int:
    rows = UNREAD.rows(user_id=user.pk)
    return rows[0]["unread"] if rows else 0


# The links every page's frame shows, by name: reversed once, not on every page.
NAV = {
    "inbox": "workspace:inbox",
    "queue_counts": "workspace:queue-counts",
    "notifications": "workspace:notifications",
    "bell": "workspace:notification-bell",
    "notification_panel": "workspace:notification-panel",
    "dashboards": "reporting:dashboards",
    "agents": "workspace:agent-availability",
    "spam_list": "workspace:spam-list",
    "incidents": "workspace:incident-list",
    "canned": "workspace:canned-list",
    "rules": "workspace:rule-list",
    "admin": "admin:index",
    "password_change": "password_change",
    "two_factor_setup": "two_factor_setup",
    "logout": "logout",
}


@cache
def _nav(script_prefix: str) -> dict[str, SafeString]:
    # Paths of the URL patterns, with nothing to escape.
    return {name: SafeString(reverse(route)) for name, route in NAV.items()}


def workspace(request: HttpRequest) -> dict:
    user = request.user
    # A session that still owes its second factor gets the bare page, without the
    # workspace around it (whose side bar and bell would only be sent back here).
    if not user.is_authenticated or two_factor.owed(request.session):
        return {}
    can_work = user.has_perm("cases.work_case")
    return {
        "signed_in": True,
        "nav": _nav(get_script_prefix()),
        "can_work": can_work,
        "can_reassign": user.has_perm("cases.reassign_case"),
        "can_see_dashboards": user.has_perm("cases.view_dashboards")
        or user.has_perm("cases.reassign_case"),
        "can_manage_canned": user.has_perm("cases.change_cannedresponse"),
        "can_manage_incidents": user.has_perm(roles.MANAGE_INCIDENTS),
        "can_manage_rules": user.has_perm("routing.change_routingrule"),
        "my_name": SimpleLazyObject(lambda: my_name(user)),
        # The banner under the top bar; only those who work cases are ever assigned any.
        "assignment_paused": SimpleLazyObject(lambda: can_work and assignment_paused(user)),
        "unread_notifications": SimpleLazyObject(lambda: unread_notifications(user)),
        # The side bar's queues are drawn with the page; htmx refreshes them afterwards.
        "queue_counts": SimpleLazyObject(lambda: case_inbox.queue_counts(user=user)),
        "current_queue": SimpleLazyObject(lambda: current_queue(request, user)),
    }


def current_queue(request: HttpRequest, user: User, *, shown_at: str = "") -> str:
    """The queue the inbox shows, or "" on another page (nothing is marked current there).
    ``shown_at``: the path of the page the queues are drawn on, if not this request's."""
    if (shown_at or request.path) != reverse("workspace:inbox"):
        return ""
    return request.GET.get("queue") or case_inbox.home_queue_key(user=user)
