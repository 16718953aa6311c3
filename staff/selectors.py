"""Reads about the people who work cases: who may, what each may do, and a user read with their
agent profile."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.db.models import Exists, OuterRef, Q, QuerySet

from careinbox.prepared import PreparedRead, columns, instance
from staff.models import AgentProfile
from staff.roles import REASSIGN_CASE, WORK_CASE


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


def staff_with_teams() -> QuerySet[AgentProfile, Any]:
    """One row per active agent profile and team of who may work cases or supervise them:
    user id, display name, email, whether they work cases, whether they supervise, and the
    team's id and name (None for someone in no team). One query."""
    workers = case_workers().filter(pk=OuterRef("user_id"))
    supervisors = holders_of(REASSIGN_CASE).filter(pk=OuterRef("user_id"))
    return (
        AgentProfile.objects.filter(user__is_active=True)
        .annotate(works=Exists(workers), supervises=Exists(supervisors))
        .filter(Q(works=True) | Q(supervises=True))
        .values_list(
            "user_id", "display_name", "user__email", "works", "supervises", "teams", "teams__name"
        )
        .order_by("pk", "teams__name")
    )


def _permissions(user_id: int) -> QuerySet[Permission, Any]:
    user_model = get_user_model()
    own = user_model.user_permissions.through.objects.filter(user_id=user_id)
    by_group = Group.permissions.through.objects.filter(group__user=user_id)
    return (
        Permission.objects.filter(
            Q(pk__in=own.values("permission_id")) | Q(pk__in=by_group.values("permission_id"))
        )
        .values("content_type__app_label", "codename")
        .order_by()
    )


# Every request checks the user's permissions: compiled once (careinbox.prepared).
PERMISSIONS = PreparedRead(_permissions, user_id=int)


def permissions_of(user_id: int) -> set[str]:
    """The permissions ("app_label.codename") given to the user or to one of their groups, in
    one query."""
    return {
        f"{row['content_type__app_label']}.{row['codename']}"
        for row in PERMISSIONS.rows(user_id=user_id)
    }


def user_columns(prefix: str = "") -> list[str]:
    """What ``user_from`` reads: a user's columns and their agent profile's."""
    return [*columns(User, prefix), *columns(AgentProfile, f"{prefix}agent_profile__")]


def user_from(row: dict[str, Any], prefix: str = "") -> User | None:
    """The user ``row`` holds (``user_columns`` after ``prefix``), with their agent profile,
    or its absence, known without another query; None if ``row`` holds no user."""
    user = instance(User, row, prefix)
    if user is not None:
        profile = instance(AgentProfile, row, f"{prefix}agent_profile__")
        User.agent_profile.related.set_cached_value(user, profile)  # type: ignore[attr-defined]
        if profile is not None:
            profile.user = user
    return user


SIGNED_IN = PreparedRead(
    lambda user_id: User.objects.filter(pk=user_id).values(*user_columns()), user_id=int
)


def signed_in_user(user_id: int) -> User | None:
    """The user with their agent profile, in one query; None if there is none."""
    rows = SIGNED_IN.rows(user_id=user_id)
    return user_from(rows[0]) if rows else None
