"""Going proactive on an incident, for supervisors: write one public update and one reply to
every linked case, preview it, post it; send the latest update to cases that joined since;
close the incident publicly (``casework.incident_updates``)."""

from typing import TypedDict

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from casework import incident_updates
from casework.exceptions import ActionNotAllowed, ReplyNotPossible
from incidents.models import Incident
from workspace.views.access import incident_manager_required
from workspace.views.canned import PLACEHOLDERS


class WorkspaceRequest(HttpRequest):
    user: User


class Draft(TypedDict):
    public_text: str
    reply_template: str
    account_ids: list[int]


@require_http_methods(["GET", "POST"])
@incident_manager_required
def incident_update(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    return _compose(request, incident_id, closing=False)


@require_http_methods(["GET", "POST"])
@incident_manager_required
def incident_close(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    return _compose(request, incident_id, closing=True)


@require_POST
@incident_manager_required
def incident_late(request: WorkspaceRequest, incident_id: int) -> HttpResponse:
    """The supervisor approves sending the latest update to the cases that joined since."""
    get_object_or_404(Incident, pk=incident_id)
    try:
        result = incident_updates.send_latest_to_late(incident_id=incident_id, by=request.user)
    except ActionNotAllowed as refusal:
        messages.error(request, str(refusal))
    else:
        _report(request, result)
    return redirect("workspace:incident-detail", incident_id)


def _compose(request: WorkspaceRequest, incident_id: int, *, closing: bool) -> HttpResponse:
    """The form; "Preview" shows what would go out, "Post" (or "Close") sends it in one go."""
    incident = get_object_or_404(Incident, pk=incident_id)
    accounts = incident_updates.posting_accounts()
    typed = Draft(
        public_text=request.POST.get("public_text", ""),
        reply_template=request.POST.get("reply_template", ""),
        # Every account is ticked until the supervisor chooses.
        account_ids=(
            _ids(request.POST.getlist("account"))
            if request.method == "POST"
            else [a.pk for a in accounts]
        ),
    )
    preview, status = None, 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "post":
                if closing:
                    result = incident_updates.close_incident(
                        incident_id=incident_id,
                        by=request.user,
                        surveys=request.POST.get("surveys") == "on",
                        **typed,
                    )
                else:
                    result = incident_updates.post_update(
                        incident_id=incident_id, by=request.user, **typed
                    )
                _report(request, result)
                return redirect("workspace:incident-detail", incident_id)
            preview = incident_updates.preview_update(
                incident_id=incident_id, by=request.user, **typed
            )
        except (ActionNotAllowed, ReplyNotPossible) as refusal:
            messages.error(request, str(refusal))
            status = 400
    context = {
        "incident": incident,
        "accounts": accounts,
        "typed": typed,
        "preview": preview,
        "closing": closing,
        "surveys": request.POST.get("surveys") == "on",
        "placeholders": PLACEHOLDERS,
    }
    return render(request, "workspace/incident_update.html", context, status=status)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _report(request: WorkspaceRequest, result: incident_updates.UpdateResult) -> None:
    done = f"Replied on {len(result.replied)} case{'s' if len(result.replied) != 1 else ''}"
    if result.already:
        done += f"; {len(result.already)} had this update already"
    if result.resolved or result.kept_open:
        done += f"; resolved {len(result.resolved)}"
    if result.kept_open:
        cases = ", ".join(f"#{pk}" for pk in result.kept_open)
        done += f"; kept open {cases} (the customer wrote after the last update)"
    messages.success(request, done + ".")
    for case_id, reason in sorted(result.refused.items()):
        messages.warning(request, f"Case #{case_id}: could not reply: {reason}")


urlpatterns = [
    path("incidents/<int:incident_id>/update/", incident_update, name="incident-update"),
    path("incidents/<int:incident_id>/late/", incident_late, name="incident-late"),
    path("incidents/<int:incident_id>/close/", incident_close, name="incident-close"),
]
