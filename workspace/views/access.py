"""Who may open which view. Every workspace view uses exactly one of these decorators, so
anonymous visitors are sent to sign in and signed-in users without the permission get 403."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.http import Http404
from django.shortcuts import get_object_or_404

from cases import visibility
from cases.models import Case
from customers.models import Customer
from staff import roles


def _requires(perm: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


# Read cases: agents, supervisors, managers, admins.
viewer_required = _requires(roles.VIEW_CASE)
# Change cases: agents, supervisors, admins (not managers).
worker_required = _requires(roles.WORK_CASE)
# Reassign and see every team's queue: supervisors, admins.
supervisor_required = _requires(roles.REASSIGN_CASE)
# Canned responses: supervisors, admins.
canned_manager_required = _requires(roles.MANAGE_CANNED)
# Incidents (their list and page, confirming and shaping them): supervisors, admins.
incident_manager_required = _requires(roles.MANAGE_INCIDENTS)
# Dashboards: managers, admins.
dashboards_required = _requires(roles.VIEW_DASHBOARDS)
# Routing rules: admins (who hold the routing rule permissions).
rules_admin_required = _requires("routing.change_routingrule")
# A customer's privacy requests: admins.
exporter_required = _requires("customers.export_customer")
eraser_required = _requires("customers.erase_customer")
# Setting up (teams, agents, channel accounts): admins.
setup_admin_required = _requires("channels.add_channelaccount")
# Anyone signed in (their own notifications).
signed_in_required = login_required


def case_or_404(user: User, case_id: int) -> Case:
    """A case by the id in the URL; folded cases stay reachable (their page points on). A
    case the user may not see (``cases.visibility``) is answered as if it did not exist."""
    case = get_object_or_404(
        Case.objects.select_related("customer", "assignee", "team"), pk=case_id
    )
    if not visibility.can_see(user, case):
        raise Http404(f"There is no case {case_id}.")
    return case


def customer_or_404(user: User, customer_id: int) -> Customer:
    """A customer by the id in the URL, if they have a case the user may see."""
    customer = get_object_or_404(Customer, pk=customer_id)
    if not visibility.can_see_customer(user, customer):
        raise Http404(f"There is no customer {customer_id}.")
    return customer
