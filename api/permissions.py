"""Who may call what: the workspace's role permissions (``staff.roles``), checked before a
view runs. The services check them again (``casework.actions``), and which cases and
customers a user may see is ``cases.visibility`` for the API as for the workspace."""

from django.contrib.auth.models import User
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from staff import roles

# What a record's id in a URL may be: digits that fit a database id. Any other address under
# /api/ is answered 404 in the API's error body (``api.errors.no_such_route``).
RECORD_ID = r"[0-9]{1,18}"


def holds(perm: str, doing: str) -> type[BasePermission]:
    """A permission class granting users who hold ``perm``; ``doing`` completes "Your role
    does not allow you to …"."""

    class Holds(BasePermission):
        message = f"Your role does not allow you to {doing}."

        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.has_perm(perm))

    Holds.__name__ = f"Holds_{perm.replace('.', '_')}"
    return Holds


ViewCases = holds(roles.VIEW_CASE, "read cases")
WorkCases = holds(roles.WORK_CASE, "work cases")
ReassignCases = holds(roles.REASSIGN_CASE, "reassign cases")
ManageCanned = holds(roles.MANAGE_CANNED, "change canned responses")
ManageQuarantine = holds(roles.MANAGE_QUARANTINE, "handle the quarantine")


def acting_user(request: Request) -> User:
    """The user a request acts as: every API view but the schema's requires one."""
    user = request.user
    assert isinstance(user, User), "an API view ran without a signed-in user"
    return user
