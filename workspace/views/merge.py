"""Merging customers from the case page: the case's merge suggestions (confirm or dismiss),
both customers side by side, and a search for merging with a customer found by hand.

Only users who may merge (``linking.may_merge``) compare or merge: the side-by-side page shows
another customer's messages. Anyone who works cases may dismiss a suggestion, which reveals
nothing. Ids in URLs are looked up through the case's customer, so a suggestion about other
people is not found.
"""

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from cases import visibility
from cases.models import Case
from cases.selectors import customer_history, live_case
from casework import linking, merge
from casework.exceptions import MergeNotAllowed, MergeNotPermitted, SuggestionClosed
from customers import selectors
from customers.models import Customer, MergeSuggestion
from workspace.views.access import (
    case_or_404,
    customer_or_404,
    viewer_required,
    worker_required,
)

SUGGESTIONS = "workspace/customer_suggestions.html"


class WorkspaceRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def _require_merge(user: User) -> None:
    if not linking.may_merge(user):
        raise PermissionDenied("Only supervisors may merge customers.")


def _back_to(case: Case) -> HttpResponse:
    case.refresh_from_db(fields=["merged_into"])  # the merge may just have folded it
    return redirect("workspace:case-detail", case_id=live_case(case).pk)


def _suggestions(request: WorkspaceRequest, case: Case, **extra) -> HttpResponse:
    context = {"case": case, "customer": case.customer, **extra}
    return render(request, SUGGESTIONS, context)


@require_GET
@viewer_required
def case_suggestions(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """The suggestions panel of the case page, for it to refresh."""
    return _suggestions(request, case_or_404(request.user, case_id))


@require_POST
@worker_required
def suggestion_dismiss(
    request: WorkspaceRequest, case_id: int, suggestion_id: int
) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    suggestion = get_object_or_404(
        selectors.suggestions_about(customer=case.customer), pk=suggestion_id
    )
    try:
        linking.dismiss_suggestion(suggestion_id=suggestion.pk, by=request.user)
    except SuggestionClosed as error:
        if request.htmx:
            return _suggestions(request, case, suggestion_error=str(error))
        messages.error(request, str(error))
        return _back_to(case)
    notice = "Dismissed: they will not be suggested again."
    if request.htmx:
        return _suggestions(request, case, suggestion_notice=notice)
    messages.success(request, notice)
    return _back_to(case)


@require_POST
@worker_required
def suggestion_confirm(
    request: WorkspaceRequest, case_id: int, suggestion_id: int
) -> HttpResponse:
    """Merge the two customers of a suggestion, then show the case that holds them now."""
    _require_merge(request.user)
    case = case_or_404(request.user, case_id)
    suggestion = get_object_or_404(
        selectors.suggestions_about(customer=case.customer), pk=suggestion_id
    )
    try:
        merged = linking.confirm_suggestion(suggestion_id=suggestion.pk, by=request.user)
    except (SuggestionClosed, MergeNotAllowed, MergeNotPermitted) as error:
        messages.error(request, _in_words(error, suggestion))
        return _back_to(case)
    messages.success(request, f"Merged: {merged.display_name} is now one customer.")
    return _back_to(case)


def _in_words(error: Exception, suggestion: MergeSuggestion) -> str:
    if isinstance(error, SuggestionClosed):
        suggestion.refresh_from_db()
        if suggestion.status == MergeSuggestion.Status.MERGED:
            return "These customers were already merged; nothing left to do."
        if suggestion.status == MergeSuggestion.Status.DISMISSED:
            return (
                "This suggestion was dismissed. To merge anyway, use "
                "“Merge with another customer” and compare them."
            )
    return str(error)


@require_GET
@worker_required
def merge_search(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """Find the customer to merge with by name, handle or email address; live as one types."""
    _require_merge(request.user)
    case = case_or_404(request.user, case_id)
    query = request.GET.get("q", "").strip()
    context = {
        "case": case,
        "customer": case.customer,
        "query": query,
        "min_length": selectors.SEARCH_MIN_LENGTH,
        "results": selectors.search_customers(
            query=query,
            excluding=case.customer,
            among=visibility.visible_customer_ids(request.user),
        ),
    }
    template = "workspace/merge_search.html"
    return render(request, f"{template}#results" if request.htmx else template, context)


@require_GET
@worker_required
def merge_compare(request: WorkspaceRequest, case_id: int, customer_id: int) -> HttpResponse:
    """Both customers' identities and histories side by side, with what links them."""
    _require_merge(request.user)
    case = case_or_404(request.user, case_id)
    other = customer_or_404(request.user, customer_id)
    refused = _refuse_pair(request, case, other)
    return refused or _compare(request, case, other)


def _refuse_pair(request: WorkspaceRequest, case: Case, other: Customer) -> HttpResponse | None:
    """A redirect with the reason in words when ``other`` cannot be merged with the case's
    customer; None when it can."""
    if other.pk == case.customer_id:
        messages.error(
            request,
            f"{other.display_name} is this case's own customer; a customer cannot be merged "
            "with itself. Search for the other customer.",
        )
        return redirect("workspace:merge-search", case_id=case.pk)
    if other.merged_into_id is not None:
        messages.error(
            request,
            f"{other.display_name} (customer {other.pk}) was already merged into customer "
            f"{other.merged_into_id}; compare with that customer instead.",
        )
        if other.merged_into_id == case.customer_id:
            return _back_to(case)
        return redirect(
            "workspace:merge-compare", case_id=case.pk, customer_id=other.merged_into_id
        )
    return None


def _compare(
    request: WorkspaceRequest, case: Case, other: Customer, *, status: int = 200, **extra
) -> HttpResponse:
    suggestion = selectors.pair_suggestion(a=case.customer, b=other)
    evidence = (
        selectors.shown_evidence(suggestion)
        if suggestion is not None
        else selectors.shared_evidence(a=case.customer, b=other)
    )
    source, target = selectors.merge_order(a=case.customer, b=other)
    context = {
        "case": case,
        "customer": case.customer,
        "other": other,
        "source": source,
        "target": target,
        "suggestion": suggestion,
        "evidence": evidence,
        "histories": [
            customer_history(customer=case.customer),
            customer_history(customer=other),
        ],
        **extra,
    }
    return render(request, "workspace/merge_compare.html", context, status=status)


@require_POST
@worker_required
def merge_confirm(request: WorkspaceRequest, case_id: int, customer_id: int) -> HttpResponse:
    """Merge the case's customer with one found by hand; the reason names the user, what they
    wrote and any shared evidence."""
    _require_merge(request.user)
    case = case_or_404(request.user, case_id)
    other = customer_or_404(request.user, customer_id)
    refused = _refuse_pair(request, case, other)
    if refused:
        return refused
    why = request.POST.get("reason", "").strip()
    if not why:
        error = "Say why they are the same person, e.g. the order number both gave."
        return _compare(request, case, other, status=400, reason_error=error)
    shared = selectors.shared_evidence(a=case.customer, b=other)
    reason = f"Merged by hand by {request.user.get_username()} on case #{case.pk}: {why}"
    if shared:
        reason += " (shared: " + "; ".join(f"{e.kind} {e.value}" for e in shared) + ")"
    source, target = selectors.merge_order(a=case.customer, b=other)
    try:
        merged = merge.merge_customers(
            source=source, target=target, actor=request.user, reason=reason
        )
    except MergeNotAllowed as error:
        messages.error(request, str(error))
        return _back_to(case)
    messages.success(request, f"Merged: {merged.display_name} is now one customer.")
    return _back_to(case)


urlpatterns = [
    path("cases/<int:case_id>/suggestions/", case_suggestions, name="case-suggestions"),
    path(
        "cases/<int:case_id>/suggestions/<int:suggestion_id>/dismiss/",
        suggestion_dismiss,
        name="suggestion-dismiss",
    ),
    path(
        "cases/<int:case_id>/suggestions/<int:suggestion_id>/confirm/",
        suggestion_confirm,
        name="suggestion-confirm",
    ),
    path("cases/<int:case_id>/merge/", merge_search, name="merge-search"),
    path("cases/<int:case_id>/merge/<int:customer_id>/", merge_compare, name="merge-compare"),
    path(
        "cases/<int:case_id>/merge/<int:customer_id>/confirm/",
        merge_confirm,
        name="merge-confirm",
    ),
]
