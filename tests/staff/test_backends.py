"""Signing in: the user read with their profile, and every permission in one query, the same
as Django's model backend gives."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from staff import roles
from staff.backends import StaffBackend
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("role", [roles.AGENT, roles.SUPERVISOR, roles.MANAGER, roles.ADMIN, None])
def test_permissions_are_model_backends_read_in_one_query(role):
    user = make_user("ines", role)
    user.user_permissions.add(Permission.objects.get(codename="merge_customer"))
    expected = ModelBackend().get_all_permissions(fresh(user))

    reader = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        found = StaffBackend().get_all_permissions(reader)
        assert StaffBackend().has_perm(reader, "cases.merge_customer")

    assert found == expected
    assert len(captured) == 1


def test_superusers_have_every_permission_and_the_inactive_none():
    boss = make_user("boss", None)
    boss.is_superuser = True
    boss.save()
    gone = make_user("gone", roles.AGENT)
    gone.is_active = False
    gone.save()

    assert StaffBackend().get_all_permissions(fresh(boss)) == ModelBackend().get_all_permissions(
        fresh(boss)
    )
    assert len(StaffBackend().get_all_permissions(fresh(boss))) == Permission.objects.count()
    assert StaffBackend().get_all_permissions(fresh(gone)) == set()


def test_the_signed_in_user_comes_with_their_profile(agent):
    user = StaffBackend().get_user(agent.pk)

    with CaptureQueriesContext(connection) as captured:
        assert user is not None
        assert user.agent_profile.display_name == "Jo Lee"
    assert len(captured) == 0
    assert StaffBackend().get_user(agent.pk + 1000) is None


def test_sessions_signed_in_with_the_model_backend_stay_signed_in(agent):
    client = Client()
    client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get("/").status_code == 200
