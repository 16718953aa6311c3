"""For every route of the REST API and every method, what each role gets, by token.

Generated from the URL conf like the workspace's matrix: a new API route without a rule here
fails ``test_every_api_route_has_a_rule``. "Allowed" means the view ran (not 401, 403 or
405); "refused" means 403 for a user and 401 for a request without a token. A method a route
does not have never runs: 405, or the refusal that comes first.
"""

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.models import CannedResponse, Case
from intake.services import quarantine_payload
from staff import roles
from staff.models import Team
from tests.api.test_api import api
from tests.conftest import make_user

ROLES = ["anonymous", roles.AGENT, roles.SUPERVISOR, roles.MANAGER, roles.ADMIN]
# An agent of another team than the world's case: a route naming that case or its customer
# answers 404 (cases.visibility), as for a record that does not exist.
OTHER_TEAM = "agent of another team"
NAMES_A_CASE = ("api:case-", "api:customer-")
METHODS = ["GET", "POST", "PATCH", "DELETE"]

EVERYONE = set(ROLES)
VIEWERS = {roles.AGENT, roles.SUPERVISOR, roles.MANAGER, roles.ADMIN}
WORKERS = {roles.AGENT, roles.SUPERVISOR, roles.ADMIN}
SUPERVISORS = {roles.SUPERVISOR, roles.ADMIN}
ADMINS = {roles.ADMIN}

RULES: dict[str, dict[str, set[str]]] = {
    "api:api-root": {"GET": VIEWERS},
    "api:case-list": {"GET": VIEWERS},
    "api:case-detail": {"GET": VIEWERS, "PATCH": WORKERS},
    "api:case-claim": {"POST": WORKERS},
    "api:case-release": {"POST": WORKERS},
    "api:case-hand-off": {"POST": WORKERS},
    "api:case-reassign": {"POST": SUPERVISORS},
    "api:case-messages": {"GET": VIEWERS},
    "api:case-replies": {"POST": WORKERS},
    "api:case-notes": {"POST": WORKERS},
    "api:customer-list": {"GET": VIEWERS},
    "api:customer-detail": {"GET": VIEWERS},
    "api:customer-merge": {"POST": SUPERVISORS},
    "api:team-list": {"GET": VIEWERS},
    "api:team-detail": {"GET": VIEWERS},
    "api:agent-list": {"GET": VIEWERS},
    "api:agent-detail": {"GET": VIEWERS},
    "api:canned-response-list": {"GET": WORKERS, "POST": SUPERVISORS},
    "api:canned-response-detail": {
        "GET": WORKERS,
        "PATCH": SUPERVISORS,
        "DELETE": SUPERVISORS,
    },
    "api:quarantine-list": {"GET": ADMINS},
    "api:quarantine-detail": {"GET": ADMINS},
    "api:quarantine-retry": {"POST": ADMINS},
    "api:quarantine-discard": {"POST": ADMINS},
    # The schema and its docs are public: they describe, and give nothing away.
    "api:schema": {"GET": EVERYONE},
    "api:docs": {"GET": EVERYONE},
}


def api_routes() -> dict[str, str]:
    """Route name -> pattern of every named API route (the first of a name: the format
    suffix variants share it)."""
    found: dict[str, str] = {}

    def walk(resolver: URLResolver, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif isinstance(entry, URLPattern) and entry.name and namespace == "api:":
                found.setdefault(f"api:{entry.name}", str(entry.pattern))

    walk(get_resolver(), "")
    return found


API_ROUTES = sorted(api_routes())


def test_every_api_route_has_a_rule():
    assert set(API_ROUTES) - set(RULES) == set(), "add the new routes to RULES"
    assert set(RULES) - set(API_ROUTES) == set(), "RULES names routes that are gone"


@pytest.fixture
def world(ingest, accounts):
    users = {role: make_user(f"user-{role}", role) for role in ROLES if role != "anonymous"}
    users[OTHER_TEAM] = make_user("user-other-team", roles.AGENT)
    team, other_team = Team.objects.create(name="Social"), Team.objects.create(name="Email")
    for role in (roles.AGENT, roles.SUPERVISOR, roles.MANAGER):
        users[role].agent_profile.teams.add(team)
    users[OTHER_TEAM].agent_profile.teams.add(other_team)
    case = ingest(channel="x.dm", text="Order AH-20931-UK").message.case
    Case.objects.filter(pk=case.pk).update(team=team)
    item = quarantine_payload(source="x", raw=b"{", error="Unreadable", account=accounts["x"])
    ids = {
        "api:case-": case.pk,
        "api:customer-": case.customer_id,
        "api:team-": team.pk,
        "api:agent-": users[roles.AGENT].pk,
        "api:canned-response-": CannedResponse.objects.create(title="Hi", text="Hi!").pk,
        "api:quarantine-": item.pk,
    }
    return {"users": users, "ids": ids}


def url_for(name: str, world: dict) -> str:
    # <pk> of a path() route, (?P<pk>...) of a router's regular expression
    params = re.findall(r"<(?:\w+:)?(\w+)>", api_routes()[name])
    if not params:
        return reverse(name)
    assert params == ["pk"], f"{name}: give the matrix a value for {params}"
    pk = next(pk for prefix, pk in world["ids"].items() if name.startswith(prefix))
    return reverse(name, kwargs={"pk": pk})


@pytest.mark.parametrize("name", API_ROUTES)
def test_each_role_gets_what_the_rules_say(name, world):
    wrong = []
    for method in METHODS:
        for role in [*ROLES, OTHER_TEAM]:
            with transaction.atomic():
                outcome = _outcome(name, method, role, world)
                transaction.set_rollback(True)
            if outcome:
                wrong.append(outcome)
    assert wrong == []


def _outcome(name: str, method: str, role: str, world: dict) -> str:
    client = Client() if role == "anonymous" else api(world["users"][role])
    url = url_for(name, world)
    response = client.generic(method, url, "{}", content_type="application/json")
    got = f"{method} {url} as {role}: {response.status_code}"
    allowed = RULES[name]
    if role == OTHER_TEAM:
        names_one = name.startswith(NAMES_A_CASE) and not name.endswith("-list")
        if names_one and roles.AGENT in allowed.get(method, set()):
            return "" if response.status_code == 404 else f"{got}, expected 404"
        role = roles.AGENT
    refusal = 401 if role == "anonymous" else 403
    if method not in allowed:
        return "" if response.status_code in (405, refusal) else f"{got}, expected 405"
    if role in allowed[method]:
        return f"{got}, expected it allowed" if response.status_code in (401, 403, 405) else ""
    return "" if response.status_code == refusal else f"{got}, expected {refusal}"
