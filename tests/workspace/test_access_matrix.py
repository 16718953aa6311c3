"""For every URL of the workspace and every method, what each role gets.

Generated from the URL conf: a route without a rule here fails ``test_every_route_has_a_rule``,
so a new view cannot ship without someone deciding who may use it. "Allowed" means the view ran
(not a sign-in redirect, not 403, not 405); "refused" means 403 for a signed-in user and a
redirect to the sign-in page for an anonymous one.
"""

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.models import Attachment, CannedResponse, Case, Message, SpamBlock
from customers.models import MergeSuggestion
from incidents.models import Incident, IncidentMessage
from notifications.models import Notification
from routing.models import RoutingRule
from staff import roles
from staff.models import Team
from tests.conftest import client_for, make_user
from workspace.case_page import download_key

ROLES = ["anonymous", roles.AGENT, roles.SUPERVISOR, roles.MANAGER, roles.ADMIN]
# An agent of another team than the world's case: allowed what agents are, but a URL naming
# that case, its attachment, its customer or its merge suggestion answers 404
# (cases.visibility), as for an object that does not exist.
OTHER_TEAM = "agent of another team"
OBJECT_PARAMS = {"case_id", "attachment_id", "customer_id", "suggestion_id", "message_id"}

# Who may use a route, by the permission its decorator requires.
EVERYONE = set(ROLES)
SIGNED_IN = {roles.AGENT, roles.SUPERVISOR, roles.MANAGER, roles.ADMIN}
VIEWERS = SIGNED_IN
WORKERS = {roles.AGENT, roles.SUPERVISOR, roles.ADMIN}
SUPERVISORS = {roles.SUPERVISOR, roles.ADMIN}
# Merging customers (unless CAREINBOX_AGENTS_MAY_MERGE lets agents too).
MERGERS = SUPERVISORS
# Dashboards: managers, and supervisors who watch their teams.
DASHBOARDS = {roles.SUPERVISOR, roles.MANAGER, roles.ADMIN}
# Routing rules: admins.
ADMINS = {roles.ADMIN}

# Route name -> {method: roles allowed}. A method not listed answers 405 to everyone.
RULES: dict[str, dict[str, set[str]]] = {
    "login": {"GET": EVERYONE, "POST": EVERYONE},
    "logout": {"POST": EVERYONE},
    "password_change": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "password_change_done": {"GET": SIGNED_IN},
    "two_factor_verify": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "two_factor_setup": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "password_reset": {"GET": EVERYONE, "POST": EVERYONE},
    "password_reset_done": {"GET": EVERYONE},
    "password_reset_confirm": {"GET": EVERYONE, "POST": EVERYONE},
    "password_reset_complete": {"GET": EVERYONE},
    # The public contact form: anyone, with its own bot defences.
    "contact-form": {"GET": EVERYONE, "POST": EVERYONE},
    "contact-embed": {"GET": EVERYONE},
    # The satisfaction survey page: anyone holding the link's token.
    "workspace:survey": {"GET": EVERYONE, "POST": EVERYONE},
    "workspace:inbox": {"GET": VIEWERS},
    "workspace:queue-counts": {"GET": VIEWERS},
    "workspace:case-detail": {"GET": VIEWERS},
    "workspace:notifications": {"GET": SIGNED_IN},
    "workspace:notification-bell": {"GET": SIGNED_IN},
    "workspace:notification-panel": {"GET": SIGNED_IN},
    "workspace:notification-case-open": {"POST": SIGNED_IN},
    "workspace:notification-read-all": {"POST": SIGNED_IN},
    "workspace:canned-list": {"GET": SUPERVISORS},
    "workspace:canned-new": {"GET": SUPERVISORS, "POST": SUPERVISORS},
    "workspace:canned-edit": {"GET": SUPERVISORS, "POST": SUPERVISORS},
    "workspace:canned-delete": {"POST": SUPERVISORS},
    "workspace:canned-preview": {"POST": SUPERVISORS},
    "workspace:case-timeline": {"GET": VIEWERS},
    "workspace:case-presence": {"POST": VIEWERS},
    "workspace:case-claim": {"POST": WORKERS},
    "workspace:case-release": {"POST": WORKERS},
    "workspace:case-reply": {"POST": WORKERS},
    "workspace:case-reply-length": {"POST": WORKERS},
    "workspace:case-reply-email-fields": {"GET": WORKERS},
    "workspace:case-canned": {"GET": WORKERS},
    "workspace:case-canned-picker": {"GET": WORKERS},
    "workspace:case-hand-off-fields": {"GET": WORKERS},
    "workspace:case-reassign-fields": {"GET": SUPERVISORS},
    "workspace:case-note": {"POST": WORKERS},
    "workspace:case-hand-off": {"POST": WORKERS},
    "workspace:case-reassign": {"POST": SUPERVISORS},
    "workspace:case-status": {"POST": WORKERS},
    "workspace:case-details": {"POST": WORKERS},
    "workspace:case-spam": {"POST": WORKERS},
    "workspace:case-retry-reply": {"POST": WORKERS},
    "workspace:attachment-download": {"GET": VIEWERS},
    "workspace:message-full-text": {"GET": VIEWERS},
    "workspace:case-suggestions": {"GET": VIEWERS},
    "workspace:suggestion-dismiss": {"POST": WORKERS},
    "workspace:suggestion-confirm": {"POST": MERGERS},
    "workspace:merge-search": {"GET": MERGERS},
    "workspace:merge-compare": {"GET": MERGERS},
    "workspace:merge-confirm": {"POST": MERGERS},
    "reporting:dashboards": {"GET": DASHBOARDS},
    "reporting:dashboard-times": {"GET": DASHBOARDS},
    "reporting:dashboard-agents": {"GET": DASHBOARDS},
    "reporting:dashboard-handoffs": {"GET": DASHBOARDS},
    "reporting:dashboard-cases": {"GET": DASHBOARDS},
    "reporting:dashboard-sentiment": {"GET": DASHBOARDS},
    "reporting:dashboard-satisfaction": {"GET": DASHBOARDS},
    "reporting:dashboard-sla": {"GET": DASHBOARDS},
    "reporting:kudos": {"GET": DASHBOARDS},
    "workspace:rule-list": {"GET": ADMINS},
    "workspace:rule-new": {"GET": ADMINS, "POST": ADMINS},
    "workspace:rule-edit": {"GET": ADMINS, "POST": ADMINS},
    "workspace:rule-move": {"POST": ADMINS},
    "workspace:rule-enable": {"POST": ADMINS},
    "workspace:agent-availability": {"GET": SUPERVISORS},
    "workspace:agent-pause": {"POST": SUPERVISORS},
    "workspace:spam-list": {"GET": SUPERVISORS, "POST": SUPERVISORS},
    "workspace:spam-list-remove": {"POST": SUPERVISORS},
    "workspace:incident-list": {"GET": SUPERVISORS},
    "workspace:incident-detail": {"GET": SUPERVISORS},
    "workspace:incident-confirm": {"POST": SUPERVISORS},
    "workspace:incident-dismiss": {"POST": SUPERVISORS},
    "workspace:incident-add-case": {"POST": SUPERVISORS},
    "workspace:incident-remove-case": {"POST": SUPERVISORS},
    "workspace:incident-merge": {"POST": SUPERVISORS},
    "workspace:incident-update": {"GET": SUPERVISORS, "POST": SUPERVISORS},
    "workspace:incident-late": {"POST": SUPERVISORS},
    "workspace:incident-close": {"GET": SUPERVISORS, "POST": SUPERVISORS},
    "workspace:customer-export": {"GET": ADMINS},
    "workspace:customer-erase": {"GET": ADMINS, "POST": ADMINS},
    # The first run: its first page needs the setup key (and leads on once a user exists).
    "workspace:setup": {"GET": EVERYONE, "POST": EVERYONE},
    "workspace:setup-team": {"GET": ADMINS, "POST": ADMINS},
    "workspace:setup-agents": {"GET": ADMINS, "POST": ADMINS},
    "workspace:setup-channels": {"GET": ADMINS, "POST": ADMINS},
    # Each user's own API token.
    "workspace:api-token": {"GET": SIGNED_IN, "POST": SIGNED_IN},
}
# Signing out lands on the sign-in page, whoever asks.
ENDS_AT_SIGN_IN = {"logout"}
# Routes with their own authentication: the admin site, the platforms' webhooks (signed), and
# the probes and metrics of operations (open, or a bearer token; tests/operations), and the
# REST API (tokens; its own matrix is tests/api/test_access.py).
EXEMPT_PREFIXES = ("admin:", "intake:", "operations:", "api:")
METHODS = ["GET", "POST"]


def routes(resolver: URLResolver | None = None, namespace: str = "") -> list[tuple[str, str]]:
    """(route name, route pattern) of every named URL."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((f"{namespace}{entry.name}", str(entry.pattern)))
    return found


WORKSPACE_ROUTES = sorted({name for name, _ in routes() if not name.startswith(EXEMPT_PREFIXES)})


def test_every_route_has_a_rule():
    assert set(WORKSPACE_ROUTES) - set(RULES) == set(), "add the new routes to RULES"
    assert set(RULES) - set(WORKSPACE_ROUTES) == set(), "RULES names routes that are gone"


@pytest.fixture
def world(ingest, accounts):
    """One of everything a URL can name, belonging to (or visible to) every role's user."""
    users = {role: make_user(f"user-{role}", role) for role in ROLES if role != "anonymous"}
    users[OTHER_TEAM] = make_user("user-other-team", roles.AGENT)
    team, other_team = Team.objects.create(name="Social"), Team.objects.create(name="Email")
    for role in (roles.AGENT, roles.SUPERVISOR, roles.MANAGER):  # admins see every team
        users[role].agent_profile.teams.add(team)
    users[OTHER_TEAM].agent_profile.teams.add(other_team)
    first = ingest(channel="x.dm", text="Order AH-20931-UK").message
    # Linking (after the commit) makes this a merge suggestion.
    other = ingest(channel="facebook.message", text="Order AH-20931-UK").message
    case = first.case
    Case.objects.filter(customer__in=[case.customer_id, other.case.customer_id]).update(team=team)
    attachment = Attachment.objects.create(
        message=first, filename="receipt.txt", content_type="text/plain", size=2, content=b"hi"
    )
    notifications = {
        role: Notification.objects.create(recipient=user, kind="mentioned", case=case, text="x")
        for role, user in users.items()
    }
    canned = CannedResponse.objects.create(title="Thanks", text="Thanks {first_name}!")
    note = Message.objects.filter(case=case).first()
    mailbox = accounts["email"]
    mailbox.settings = {**mailbox.settings, "contact_form": True}
    mailbox.save()
    incident = Incident.objects.create(
        title="Leeds broadband",
        created_at=first.sent_at,
        first_message_at=first.sent_at,
        last_message_at=first.sent_at,
    )
    IncidentMessage.objects.create(incident=incident, message=first, added_at=first.sent_at)
    # As if stored cut at the text limit, so its whole text can be downloaded.
    Message.objects.filter(pk=first.pk).update(full_text="Order AH-20931-UK")
    return {
        "users": users,
        "kwargs": {
            "case_id": case.pk,
            "attachment_id": attachment.pk,
            "download_key": download_key(attachment.pk),
            "canned_id": canned.pk,
            "message_id": note.pk if note else first.pk,
            "customer_id": other.case.customer_id,
            "suggestion_id": MergeSuggestion.objects.get().pk,
            "rule_id": RoutingRule.objects.create(name="Leeds store", keywords="leeds").pk,
            "user_id": users[roles.AGENT].pk,
            "account_id": mailbox.pk,
            "incident_id": incident.pk,
            "entry_id": SpamBlock.objects.create(kind="domain", value="spam.example").pk,
            # A reset link that no longer works: the page says so, to anyone.
            "uidb64": "MQ",
            "token": "0-expired",
        },
        "notifications": notifications,
    }


def url_for(name: str, world: dict, role: str) -> str:
    pattern = dict(routes())[name]
    kwargs = {}
    for param in _params(pattern):
        if param == "notification_id":
            owner = role if role != "anonymous" else roles.AGENT
            kwargs[param] = world["notifications"][owner].pk
        elif param in world["kwargs"]:
            kwargs[param] = world["kwargs"][param]
        else:
            pytest.fail(f"{name}: give the access matrix a value for <{param}>")
    return reverse(name, kwargs=kwargs)


def _params(pattern: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", pattern)


@pytest.mark.parametrize("name", WORKSPACE_ROUTES)
def test_each_role_gets_what_the_rules_say(name, world):
    wrong = []
    for method in METHODS:
        for role in [*ROLES, OTHER_TEAM]:
            # Each request sees the same world: what one role's POST changed is rolled back.
            with transaction.atomic():
                outcome = _outcome(name, method, role, world)
                transaction.set_rollback(True)
            if outcome:
                wrong.append(outcome)
    assert wrong == []


def _outcome(name: str, method: str, role: str, world: dict) -> str:
    """What was wrong with the answer to ``method`` on route ``name`` as ``role``, if
    anything."""
    client = Client() if role == "anonymous" else client_for(world["users"][role])
    url = url_for(name, world, role)
    response = client.generic(method, url)
    got = f"{method} {url} as {role}: {response.status_code}"

    allowed_methods = RULES[name]
    if role == OTHER_TEAM:
        names_the_case = OBJECT_PARAMS & set(_params(dict(routes())[name]))
        if names_the_case and role_may(roles.AGENT, allowed_methods, method):
            return "" if response.status_code == 404 else f"{got}, expected 404"
        role = roles.AGENT
    if method not in allowed_methods:
        # Anonymous visitors may be sent to sign in before the method is looked at.
        if response.status_code != 405 and not (
            role == "anonymous" and _sent_to_sign_in(response)
        ):
            return f"{got}, expected 405"
    elif role in allowed_methods[method]:
        if response.status_code in (403, 405):
            return f"{got}, expected it allowed"
        if _sent_to_sign_in(response) != (name in ENDS_AT_SIGN_IN):
            return f"{got}, unexpected sign-in redirect"
    elif role == "anonymous":
        if not _sent_to_sign_in(response):
            return f"{got}, expected a redirect to sign in"
    elif response.status_code != 403:
        return f"{got}, expected 403"
    return ""


def role_may(role: str, allowed_methods: dict[str, set[str]], method: str) -> bool:
    return role in allowed_methods.get(method, set())


def _sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))
