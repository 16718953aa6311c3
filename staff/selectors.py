"""Reads about the people who work cases."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.db.models import Q, QuerySet

from staff.roles import WORK_CASE


def holders_of(permission: str) -> QuerySet[User]:
    """Active users who hold ``permission`` ("app_label.codename"): through a group, given
    to them alone, or as superusers."""
    app_label, codename = permission.split(".")
    user_model = get_user_model()
    perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    # Subqueries, not joins: OR-ing the group and user permission joins makes PostgreSQL
    # multiply every user by every permission before DISTINCT.
    by_group = user_model.groups.through.objects.filter(group__permissions__in=perm)
    by_user = user_model.user_permissions.through.objects.filter(permission__in=perm)
    return user_model.objects.filter(is_active=True).filter(
        Q(pk__in=by_group.values("user_id"))
        | Q(pk__in=by_user.values("user_id"))
        | Q(is_superuser=True)
    )


def case_workers() -> QuerySet[User]:
    """Who may work cases: who a case can be assigned or handed to."""
    return holders_of(WORK_CASE)
