"""Over-long or strange values in any field of any form get an answer, never a server error:
a paste of a whole mail thread into a tag, a script filling every field. On PostgreSQL a
value longer than its column is refused by the database, so that is where this matters."""

import re

import pytest
from django.db import transaction

from staff import roles
from tests.conftest import client_for
from tests.workspace.test_access_matrix import RULES, WORKSPACE_ROUTES, url_for, world  # noqa: F401

LONG = [
    "x" * 100_000,
    "é" * 5_000,  # two bytes each in UTF-8
    "\U0001f600" * 5_000,  # four bytes each, two UTF-16 units
    "\u202e" + "-" * 300 + "\ufffd",
]
WRITE_ROUTES = [name for name in WORKSPACE_ROUTES if "POST" in RULES[name]]
# Routes whose POST only ends the session or sends mail; nothing to store.
LEAVE_OUT = {"logout", "login", "password_reset", "password_reset_confirm"}


# The field names, read on the first test's pages: the pages' forms are the same for every
# test, and reading them is over a hundred requests.
FIELD_NAMES: list[str] = []


@pytest.fixture
def field_names(world):  # noqa: F811
    if not FIELD_NAMES:
        FIELD_NAMES.extend(read_field_names(world))
    return FIELD_NAMES


def read_field_names(world) -> list[str]:  # noqa: F811
    """Every field name of every form the workspace shows an admin and a supervisor."""
    names: set[str] = set()
    for role in (roles.ADMIN, roles.SUPERVISOR):
        client = client_for(world["users"][role])
        for name in WORKSPACE_ROUTES:
            if "GET" in RULES[name] and role in RULES[name]["GET"]:
                response = client.get(url_for(name, world, role))
                if response.streaming:  # an attachment's download
                    continue
                page = response.content.decode()
                names |= set(re.findall(r'<(?:input|textarea|select)[^>]*\bname="([\w-]+)"', page))
    names.discard("csrfmiddlewaretoken")
    assert {"text", "tags", "name", "title"} <= names  # the reply, tag, rule and canned forms
    return sorted(names)


@pytest.mark.parametrize("name", sorted(set(WRITE_ROUTES) - LEAVE_OUT))
def test_over_long_values_in_every_form_field_are_never_a_server_error(
    name,
    world,  # noqa: F811
    field_names,
):
    role = roles.ADMIN if roles.ADMIN in RULES[name]["POST"] else roles.SUPERVISOR
    client = client_for(world["users"][role])
    url = url_for(name, world, role)
    # Each value in every field at once, then in one field at a time.
    forms = [{field: value for field in field_names} for value in LONG]
    forms += [{field: LONG[0]} for field in field_names]
    failures = []
    for form in forms:
        with transaction.atomic():
            response = client.post(url, form)
            transaction.set_rollback(True)
        if response.status_code >= 500:
            failures.append(f"{url} with {sorted(form)[:3]}…={str(form)[-20:]}: 500")
    assert failures == []
