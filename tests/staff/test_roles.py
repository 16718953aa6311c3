"""The four roles exist after migrate with exactly their permissions, and the demo's users
hold them."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from demo.setup import DEMO_USERS, create_demo_users
from staff import roles

pytestmark = pytest.mark.django_db


def perms(group_name):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group_name).permissions.select_related("content_type")
    }


def test_each_role_holds_exactly_its_permissions():
    assert perms(roles.AGENT) == set(roles.WORK_CASES)
    assert perms(roles.SUPERVISOR) == set(roles.SUPERVISE)
    assert perms(roles.MANAGER) == {*roles.VIEW_CASES, "cases.view_dashboards"}
    admin = perms(roles.ADMIN)
    assert (
        set(roles.SUPERVISE) | {"cases.view_dashboards", "channels.change_channelaccount"} <= admin
    )


def test_managers_read_cases_but_cannot_work_them(manager):
    assert manager.has_perm("cases.view_case")
    assert not manager.has_perm("cases.work_case")
    assert not manager.has_perm("cases.reassign_case")


def test_ensuring_roles_again_restores_removed_permissions():
    agent_group = Group.objects.get(name=roles.AGENT)
    agent_group.permissions.clear()

    roles.ensure_roles()

    assert perms(roles.AGENT) == set(roles.WORK_CASES)
    assert Group.objects.filter(name__in=[roles.AGENT, roles.SUPERVISOR]).count() == 2


def test_the_demo_users_hold_their_roles():
    create_demo_users()
    create_demo_users()  # a second demo start changes nothing

    users = get_user_model().objects.all()
    assert {u.username: roles.role_names(u) for u in users} == {
        username: [role] for username, _, _, role in DEMO_USERS
    }
    jo = users.get(username="jo")
    assert jo.has_perm("cases.work_case") and not jo.has_perm("cases.reassign_case")
    assert users.get(username="admin").is_staff
