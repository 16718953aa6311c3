"""Roles are groups holding permissions; views check the permissions, never the group names.

- agent: works cases (claim, reply, note, hand off) in the queues of their teams.
- supervisor: an agent who also reassigns anyone's cases, sees every team's queue, merges
  customers and manages canned responses and incidents.
- manager: reads cases and sees the dashboards; changes nothing.
- admin: everything above, plus channels, users, teams and settings in the admin site.

``ensure_roles`` runs after every ``migrate`` so each installation has the four groups with
exactly these permissions.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

AGENT = "agent"
SUPERVISOR = "supervisor"
MANAGER = "manager"
ADMIN = "admin"

# The permissions the workspace and the API check (``cases.Case.Meta.permissions`` defines
# the three ``*_case`` and dashboards ones).
VIEW_CASE = "cases.view_case"
WORK_CASE = "cases.work_case"
REASSIGN_CASE = "cases.reassign_case"
VIEW_DASHBOARDS = "cases.view_dashboards"
MANAGE_CANNED = "cases.change_cannedresponse"
MANAGE_QUARANTINE = "intake.change_quarantinedpayload"
# Confirming, dismissing and shaping incidents, and the banner about them: supervisors, admins.
MANAGE_INCIDENTS = "incidents.change_incident"

VIEW_CASES = [VIEW_CASE, "customers.view_customer", "cases.view_message"]
WORK_CASES = [*VIEW_CASES, WORK_CASE]
SUPERVISE = [
    *WORK_CASES,
    REASSIGN_CASE,
    "cases.merge_customer",
    "cases.add_cannedresponse",
    MANAGE_CANNED,
    "cases.delete_cannedresponse",
    MANAGE_INCIDENTS,
]
ADMINISTER_APPS = {
    "incidents",
    "channels",
    "intake",
    "staff",
    "customers",
    "cases",
    "notifications",
    "webhooks",
    "sla",
    "routing",
    "auth",
}

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENT: WORK_CASES,
    SUPERVISOR: SUPERVISE,
    MANAGER: [*VIEW_CASES, VIEW_DASHBOARDS],
}


def ensure_roles(*, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Create the role groups and give them exactly their permissions. Safe to repeat."""
    # Apps later in INSTALLED_APPS have not had their permissions created yet.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(perms))
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMINISTER_APPS))


def _permissions(names: list[str]) -> list[Permission]:
    query = Q()
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query))
    if len(found) != len(names):
        missing = set(names) - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        raise LookupError(f"Permissions missing for the roles: {sorted(missing)}")
    return found


def role_names(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """The user's roles, for display."""
    if not user.is_authenticated:
        return []
    if getattr(user, "is_superuser", False):
        return [ADMIN]
    return sorted(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
