"""Which cases a user may see and act on, by team (``CAREINBOX_TEAM_SCOPING``, on by default).

Everyone sees the cases routed to none of the teams, and the cases assigned or handed to
them; beyond those, agents, supervisors and managers see the cases of the teams they belong
to; admins (``cases.see_all_teams``) see every case. With scoping off, whoever may read cases
reads them all.

The condition is on the fields ``team`` and ``assignee``, which the cases and their kept
counts (``CaseCount``) share, with the viewer's id its only value, so the inbox's prepared
statements take it as a parameter.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from cases.models import Case
from customers.models import Customer
from customers.selectors import live_customer
from staff.models import AgentProfile, Team

SEE_ALL_TEAMS = "cases.see_all_teams"


def scoped(user: User | AnonymousUser) -> bool:
    """Whether what ``user`` sees is narrowed to their teams."""
    return settings.CAREINBOX_TEAM_SCOPING and not user.has_perm(SEE_ALL_TEAMS)


def visible_to(viewer_id: int, prefix: str = "") -> Q:
    """The cases the user ``viewer_id`` may see, when scoped; ``prefix`` leads from another
    model to the case (``"case__"``)."""
    return (
        Q(**{f"{prefix}team__isnull": True})
        | Q(**{f"{prefix}assignee": viewer_id})
        | Q(**{f"{prefix}team__in": _team_ids(viewer_id)})
    )


def _team_ids(viewer_id: int) -> QuerySet:
    return AgentProfile.teams.through.objects.filter(agentprofile__user=viewer_id).values(
        "team_id"
    )


def sees_every_team(user: User | AnonymousUser) -> bool:
    """Whether ``user`` belongs to every team, and so sees every case even when scoped (a
    care manager leading all the teams): one query."""
    if not isinstance(user, User):
        return False
    return not Team.objects.exclude(pk__in=_team_ids(user.pk)).exists()


def teams_of(user: User) -> list[Team]:
    """The teams ``user`` belongs to, by name: read once for this user object (a request's),
    as Django keeps a user's permissions, so the page's visibility checks and its side bar
    share one query."""
    teams: list[Team] | None = getattr(user, "_careinbox_teams", None)
    if teams is None:
        teams = list(Team.objects.filter(agents__user=user).order_by("name", "pk"))
        user._careinbox_teams = teams  # type: ignore[attr-defined]
    return teams


def team_ids(user: User) -> set[int]:
    return {team.pk for team in teams_of(user)}


def can_see(user: User | AnonymousUser, case: Case) -> bool:
    """Whether ``user`` may see ``case``: one query when scoped, none otherwise."""
    if not isinstance(user, User) or not user.has_perm("cases.view_case"):
        return False
    if not scoped(user):
        return True
    if case.team_id is None or case.assignee_id == user.pk:
        return True
    return case.team_id in team_ids(user)


def visible_cases(user: User | AnonymousUser) -> QuerySet[Case]:
    """Every case ``user`` may see."""
    if not isinstance(user, User) or not user.has_perm("cases.view_case"):
        return Case.objects.none()
    return Case.objects.filter(visible_to(user.pk)) if scoped(user) else Case.objects.all()


def visible_customer_ids(user: User | AnonymousUser) -> QuerySet[Any] | None:
    """The ids of the customers with a case ``user`` may see; None when they see all."""
    if isinstance(user, User) and not scoped(user):
        return None
    return visible_cases(user).values("customer_id")


def can_see_customer(user: User | AnonymousUser, customer: Customer) -> bool:
    """Whether ``user`` sees a case of ``customer``, or of the customer they were merged
    into (whose cases they now are)."""
    ids = visible_customer_ids(user)
    if ids is None:
        return True
    return ids.filter(customer_id__in=[customer.pk, live_customer(customer.pk).pk]).exists()
