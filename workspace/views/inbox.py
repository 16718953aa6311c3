"""The inbox: queues with live counts, filters, search and the case list.

One URL serves the page and, to htmx, its case list alone: the filter bar swaps the list in
place, and the list polls itself (first page only), answering 204 while nothing changed.
"""

from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url
from django_htmx.middleware import HtmxDetails

from cases import inbox as case_inbox
from cases.models import Case
from channels.models import Platform
from incidents import selectors as incidents
from staff import roles
from workspace.context_processors import current_queue
from workspace.views.access import viewer_required

# Seconds between two refreshes of the case list; base.html polls the queue counts alike.
POLL_SECONDS = 10


class WorkspaceRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


# The largest id a database holds (a 64-bit integer); a larger one in a link names nothing.
MAX_ID = 2**63 - 1


class InboxForm(forms.Form):
    """The inbox's query string. A value that does not validate is ignored, not an error:
    these come from links and bookmarks."""

    queue = forms.CharField(required=False, max_length=40)
    platform = forms.ChoiceField(required=False, choices=Platform.choices)
    status = forms.ChoiceField(required=False, choices=Case.Status.choices)
    priority = forms.ChoiceField(required=False, choices=Case.Priority.choices)
    tag = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    assignee = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    q = forms.CharField(required=False, max_length=200)
    sort = forms.ChoiceField(
        required=False, choices=[(key, sort.label) for key, sort in case_inbox.SORTS.items()]
    )
    size = forms.IntegerField(required=False, min_value=1, max_value=case_inbox.MAX_PAGE_SIZE)
    cursor = forms.CharField(required=False, max_length=400)
    since = forms.CharField(required=False, max_length=40)

    def value(self, name: str) -> Any:
        self.is_valid()
        return self.cleaned_data.get(name) if name not in self.errors else None

    def filters(self) -> case_inbox.InboxFilters:
        return case_inbox.InboxFilters(
            platform=self.value("platform") or "",
            status=self.value("status") or "",
            priority=self.value("priority") or "",
            tag=self.value("tag"),
            team=self.value("team"),
            assignee=self.value("assignee"),
            q=self.value("q") or "",
        )


def _inbox_url(page: case_inbox.InboxPage, **extra: str) -> str:
    """The inbox URL showing ``page``'s list, with ``extra`` parameters."""
    params = {
        "queue": page.queue.key,
        **{name: value for name, value in vars(page.filters).items() if value not in ("", None)},
        "sort": page.sort if page.sort != case_inbox.DEFAULT_SORT else "",
        "size": str(page.size) if page.size != case_inbox.PAGE_SIZE else "",
        **extra,
    }
    return f"{reverse('workspace:inbox')}?{urlencode({k: v for k, v in params.items() if v})}"


@require_GET
@viewer_required
@vary_on_headers("HX-Request")
def inbox(request: WorkspaceRequest) -> HttpResponse:
    form = InboxForm(request.GET)
    list_only = bool(request.htmx) and not request.htmx.history_restore_request
    # Read before the page, so a change landing in between is seen by the next poll. A full
    # page leaves it out: its first poll answers with the list and the version.
    version = case_inbox.inbox_version() if list_only else ""
    if version and form.value("since") == version:
        return HttpResponse(status=204)
    try:
        page = case_inbox.inbox_page(
            user=request.user,
            queue=form.value("queue") or None,
            filters=form.filters(),
            sort=form.value("sort") or case_inbox.DEFAULT_SORT,
            cursor=form.value("cursor") or None,
            size=form.value("size") or case_inbox.PAGE_SIZE,
        )
    except case_inbox.UnknownQueue as exc:
        raise Http404(str(exc)) from exc
    except case_inbox.InvalidCursor as exc:
        messages.warning(request, str(exc))
        query = request.GET.copy()
        query.pop("cursor", None)
        return redirect(f"{reverse('workspace:inbox')}?{query.urlencode()}")

    first_url = _inbox_url(page)
    context = {
        "page": page,
        # Rows link to "<case_path><id>/", reversed once rather than once a row.
        "case_path": reverse("workspace:case-detail", kwargs={"case_id": 0}).removesuffix("0/"),
        "poll_url": _inbox_url(page, since=version) if page.cursor is None else "",
        "poll_seconds": POLL_SECONDS,
        "first_url": first_url,
        "next_url": _inbox_url(page, cursor=page.next_cursor) if page.next_cursor else "",
    }
    if list_only:
        response = render(request, "workspace/inbox.html#rows", context)
        if request.htmx.trigger == "inbox-filters":
            # The filter bar sends every field, empty or not; the address bar gets the
            # short form of the same list, to share or come back to.
            response = push_url(response, first_url)
        return response
    context |= {
        "selects": _filter_selects(page, case_inbox.inbox_filter_choices()),
        "clear_url": f"{reverse('workspace:inbox')}?{urlencode({'queue': page.queue.key})}",
        # Supervisors see the live incidents above the list.
        "incidents": incidents.live_incidents()
        if request.user.has_perm(roles.MANAGE_INCIDENTS)
        else [],
    }
    return render(request, "workspace/inbox.html", context)


@dataclass(frozen=True)
class FilterSelect:
    """One labelled select of the filter bar, with its options as HTML: there are dozens of
    them (every tag, every agent) on every inbox page."""

    name: str
    label: str
    options: SafeString


def _filter_selects(
    page: case_inbox.InboxPage, choices: case_inbox.InboxFilterChoices
) -> list[FilterSelect]:
    chosen = page.filters

    def select(name: str, label: str, blank: str, options: Any, value: Any) -> FilterSelect:
        listed = [("", blank, value in ("", None))] if blank else []
        listed += [(v, text, v == value) for v, text in options]
        return FilterSelect(
            name,
            label,
            SafeString(
                "".join(
                    f'<option value="{escape(str(v))}"{" selected" if chosen else ""}>'
                    f"{escape(str(text))}</option>"
                    for v, text, chosen in listed
                )
            ),
        )

    return [
        select("platform", "Channel", "Any", Platform.choices, chosen.platform),
        select("status", "Status", "Any", Case.Status.choices, chosen.status),
        select("priority", "Priority", "Any", Case.Priority.choices, chosen.priority),
        select("tag", "Tag", "Any", choices.tags, chosen.tag),
        select("team", "Team", "Any", choices.teams, chosen.team),
        select("assignee", "Assignee", "Anyone", choices.assignees, chosen.assignee),
        select(
            "sort",
            "Sort by",
            "",
            [(key, sort.label) for key, sort in case_inbox.SORTS.items()],
            page.sort,
        ),
    ]


@require_GET
@viewer_required
def queue_counts(request: WorkspaceRequest) -> HttpResponse:
    """The side bar's queues with their counts, which base.html draws with every page and
    refreshes from here."""
    return render(
        request,
        "workspace/inbox.html#queues",
        {
            "queue_counts": case_inbox.queue_counts(user=request.user),
            "current_queue": current_queue(request, request.user, shown_at=_shown_at(request)),
        },
    )


def _shown_at(request: WorkspaceRequest) -> str:
    """The path of the page whose queues htmx refreshes (the inbox when not said)."""
    if request.htmx and request.htmx.current_url:
        return urlsplit(request.htmx.current_url).path
    return reverse("workspace:inbox")


urlpatterns = [
    path("", inbox, name="inbox"),
    path("queues/", queue_counts, name="queue-counts"),
]
