"""Agents' availability for auto-assignment, for supervisors: who is online, how many cases
each holds against their capacity, and pausing or resuming an agent (``casework.assignment``)."""

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from casework import assignment
from casework.exceptions import ActionNotAllowed
from workspace.views.access import supervisor_required


class WorkspaceRequest(HttpRequest):
    user: User


@require_GET
@supervisor_required
def agent_availability(request: WorkspaceRequest) -> HttpResponse:
    return render(
        request, "workspace/agent_availability.html", {"agents": assignment.availability()}
    )


@require_POST
@supervisor_required
def agent_pause(request: WorkspaceRequest, user_id: int) -> HttpResponse:
    """Pause (``paused=1``) or resume an agent's automatic assignment."""
    try:
        profile = assignment.set_paused(
            agent_id=user_id, paused=request.POST.get("paused") == "1", by=request.user
        )
    except ActionNotAllowed as refusal:
        messages.error(request, str(refusal))
    else:
        verb = "Paused" if profile.assignment_paused else "Resumed"
        messages.success(request, f"{verb} automatic assignment for {profile.display_name}.")
    return redirect("workspace:agent-availability")


urlpatterns = [
    path("agents/", agent_availability, name="agent-availability"),
    path("agents/<int:user_id>/pause/", agent_pause, name="agent-pause"),
]
