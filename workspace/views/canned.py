"""Canned responses, managed by supervisors: list, create, edit and delete, with a preview of
the text as an agent would get it (``casework.actions.render_canned``)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import CannedResponse, Case
from casework.actions import PLACEHOLDER, render_canned
from customers.models import Customer
from workspace.views.access import canned_manager_required

# What ``render_canned`` fills in, as the form explains it.
PLACEHOLDERS = [
    ("{first_name}", "the customer's first name (“there” when unknown)"),
    ("{customer_name}", "the customer's full name"),
    ("{agent_name}", "the name of the agent who sends the reply"),
    ("{agent_first_name}", "the agent's first name"),
    ("{case_number}", "the case number"),
]
# The preview fills the placeholders for a made-up case.
SAMPLE_CUSTOMER = "Gwen Harlow"
SAMPLE_CASE_NUMBER = 1042


class WorkspaceRequest(HttpRequest):
    user: User


def preview(*, text: str, agent: User) -> str:
    """``text`` as ``render_canned`` fills it for a sample case answered by ``agent``."""
    case = Case(pk=SAMPLE_CASE_NUMBER, customer=Customer(display_name=SAMPLE_CUSTOMER))
    return render_canned(canned=CannedResponse(text=text), case=case, agent=agent)


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["title", "text"]
        error_messages = {
            "title": {"required": "Give the response a title agents will recognise."},
            "text": {"required": "Write the text of the response; it cannot be empty."},
        }

    def __init__(self, *args, agent: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent

    def clean_title(self) -> str:
        title = self.cleaned_data["title"]
        same = CannedResponse.objects.filter(title__iexact=title).exclude(pk=self.instance.pk)
        existing = same.first()
        if existing is not None:
            raise forms.ValidationError(
                f"A canned response called “{existing.title}” already exists; choose another "
                "title or edit that one."
            )
        return title

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        # render_canned leaves unknown placeholders as written: a typo would reach customers.
        left = set(PLACEHOLDER.findall(preview(text=text, agent=self.agent)))
        unknown = sorted(left & set(PLACEHOLDER.findall(text)))
        if unknown:
            known = ", ".join(name for name, _ in PLACEHOLDERS)
            raise forms.ValidationError(
                f"Unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use {known}."
            )
        return text


@require_GET
@canned_manager_required
def canned_list(request: WorkspaceRequest) -> HttpResponse:
    responses = CannedResponse.objects.select_related("created_by__agent_profile")
    return render(request, "workspace/canned_list.html", {"responses": responses})


@require_http_methods(["GET", "POST"])
@canned_manager_required
def canned_new(request: WorkspaceRequest) -> HttpResponse:
    return _edit(request, CannedResponse(created_by=request.user))


@require_http_methods(["GET", "POST"])
@canned_manager_required
def canned_edit(request: WorkspaceRequest, canned_id: int) -> HttpResponse:
    return _edit(request, get_object_or_404(CannedResponse, pk=canned_id))


def _edit(request: WorkspaceRequest, canned: CannedResponse) -> HttpResponse:
    creating = canned.pk is None
    form = CannedResponseForm(request.POST or None, instance=canned, agent=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                saved = form.save()
        except IntegrityError:
            # Another supervisor saved the same title a moment ago.
            form.add_error("title", "A canned response with this title was just saved.")
        else:
            verb = "Created" if creating else "Saved"
            messages.success(request, f"{verb} “{saved.title}”.")
            return redirect("workspace:canned-list")
    context = {
        "form": form,
        "canned": canned,
        "creating": creating,
        "placeholders": PLACEHOLDERS,
        "preview": preview(text=form["text"].value() or "", agent=request.user),
        "sample_customer": SAMPLE_CUSTOMER,
        "sample_case": SAMPLE_CASE_NUMBER,
    }
    status = 400 if form.errors else 200
    return render(request, "workspace/canned_form.html", context, status=status)


@require_POST
@canned_manager_required
def canned_preview(request: WorkspaceRequest) -> HttpResponse:
    """The preview panel of the form, refreshed as the supervisor types."""
    context = {
        "preview": preview(text=request.POST.get("text", ""), agent=request.user),
        "sample_customer": SAMPLE_CUSTOMER,
        "sample_case": SAMPLE_CASE_NUMBER,
    }
    return render(request, "workspace/canned_form.html#preview", context)


@require_POST
@canned_manager_required
def canned_delete(request: WorkspaceRequest, canned_id: int) -> HttpResponse:
    canned = get_object_or_404(CannedResponse, pk=canned_id)
    canned.delete()
    messages.success(request, f"Deleted “{canned.title}”.")
    return redirect("workspace:canned-list")


urlpatterns = [
    path("canned/", canned_list, name="canned-list"),
    path("canned/new/", canned_new, name="canned-new"),
    path("canned/preview/", canned_preview, name="canned-preview"),
    path("canned/<int:canned_id>/edit/", canned_edit, name="canned-edit"),
    path("canned/<int:canned_id>/delete/", canned_delete, name="canned-delete"),
]
