"""Incidents, for supervisors: the list, one incident's page, and confirming, dismissing,
adding and removing cases and merging (``incidents.services``)."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from incidents import selectors, services
from incidents.models import Incident
from workspace.incident_page import volume_chart
from workspace.views.access import incident_manager_required

# The largest id a database holds (a 64-bit integer).
MAX_ID = 2**63 - 1


class WorkspaceRequest(HttpRequest):
    user: User


class CaseNumberForm(forms.Form):
    case = forms.IntegerField(min_value=1, max_value=MAX_ID)


class MergeForm(forms.Form):
    other = forms.IntegerField(min_value=1, max_value=MAX_ID)


@require_GET
@incident_manager_required
def incident_list(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "workspace/incident_list.html", {"rows": selectors.incident_list()})


@require_GET
@incident_manager_required
def incident_detail(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    if incident.status == Incident.Status.MERGED and incident.merged_into_id:
        messages.info(request, f"Incident {incident.pk} was merged into this one.")
        return redirect("workspace:incident-detail", incident.merged_into_id)
    detail = selectors.incident_detail(incident=incident)
    context = {
        "detail": detail,
        "incident": incident,
        "chart": volume_chart(detail.message_times),
        "live": incident.status in selectors.LIVE,
    }
    return render(request, "workspace/incident_detail.html", context)


def _change(
    request: WorkspaceRequest, incident_id: int, change: Callable[[], str]
) -> HttpResponse:
    """Run one service; its refusal, or what it did, is shown on the incident's page."""
    try:
        messages.success(request, change())
    except services.IncidentRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("workspace:incident-detail", incident_id)


@require_POST
@incident_manager_required
def incident_confirm(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    def confirm() -> str:
        incident = services.confirm_incident(incident_id=incident_id)
        return f"Incident confirmed: {incident.title}."

    return _change(request, incident_id, confirm)


@require_POST
@incident_manager_required
def incident_dismiss(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    def dismiss() -> str:
        incident = services.dismiss_incident(incident_id=incident_id)
        return f"Incident dismissed: {incident.title}."

    return _change(request, incident_id, dismiss)


@require_POST
@incident_manager_required
def incident_add_case(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    form = CaseNumberForm(request.POST)

    def add() -> str:
        if not form.is_valid():
            raise services.IncidentRefused("Give the case's number, e.g. 1042.")
        case_id = form.cleaned_data["case"]
        added = services.add_case(incident_id=incident_id, case_id=case_id)
        return f"Case #{case_id} added: {added} message{'s' if added != 1 else ''}."

    return _change(request, incident_id, add)


@require_POST
@incident_manager_required
def incident_remove_case(
    request: WorkspaceRequest, incident_id: int, case_id: int
) -> HttpResponse:
    def remove() -> str:
        services.remove_case(incident_id=incident_id, case_id=case_id)
        return f"Case #{case_id} removed from the incident."

    return _change(request, incident_id, remove)


@require_POST
@incident_manager_required
def incident_merge(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    form = MergeForm(request.POST)

    def merge() -> str:
        if not form.is_valid():
            raise services.IncidentRefused("Choose the incident to merge into this one.")
        other_id = form.cleaned_data["other"]
        services.merge_incidents(incident_id=incident_id, other_id=other_id)
        return f"Incident {other_id} merged into this one."

    return _change(request, incident_id, merge)


urlpatterns = [
    path("incidents/", incident_list, name="incident-list"),
    path("incidents/<int:incident_id>/", incident_detail, name="incident-detail"),
    path("incidents/<int:incident_id>/confirm/", incident_confirm, name="incident-confirm"),
    path("incidents/<int:incident_id>/dismiss/", incident_dismiss, name="incident-dismiss"),
    path("incidents/<int:incident_id>/cases/", incident_add_case, name="incident-add-case"),
    path(
        "incidents/<int:incident_id>/cases/<int:case_id>/remove/",
        incident_remove_case,
        name="incident-remove-case",
    ),
    path("incidents/<int:incident_id>/merge/", incident_merge, name="incident-merge"),
]
