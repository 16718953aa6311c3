"""The spam list, for supervisors: authors and domains whose messages are spam, and authors
trusted never to be marked by the content and repeat rules (``casework.spam``)."""

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from cases.models import SpamBlock
from casework import spam
from workspace.views.access import supervisor_required


class WorkspaceRequest(HttpRequest):
    user: User


@require_http_methods(["GET", "POST"])
@supervisor_required
def spam_list(request: WorkspaceRequest) -> HttpResponse:
    """The list, and a form adding an entry; a refused entry is shown with what was typed."""
    typed = {"kind": SpamBlock.Kind.AUTHOR, "value": "", "note": ""}
    status = 200
    if request.method == "POST":
        typed = {name: request.POST.get(name, "") for name in typed}
        try:
            entry = spam.add_entry(**typed, by=request.user)
        except ValueError as refusal:
            messages.error(request, str(refusal))
            status = 400
        else:
            messages.success(request, f"Added to the spam list: {entry}.")
            return redirect("workspace:spam-list")
    entries = SpamBlock.objects.select_related("created_by__agent_profile").order_by(
        "kind", "value"
    )
    context = {"entries": entries, "kinds": SpamBlock.Kind.choices, "typed": typed}
    return render(request, "workspace/spam_list.html", context, status=status)


@require_POST
@supervisor_required
def spam_list_remove(request: WorkspaceRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(SpamBlock, pk=entry_id)
    entry.delete()
    messages.success(request, f"Removed from the spam list: {entry}.")
    return redirect("workspace:spam-list")


urlpatterns = [
    path("spam-list/", spam_list, name="spam-list"),
    path("spam-list/<int:entry_id>/remove/", spam_list_remove, name="spam-list-remove"),
]
