"""The inbox: queues, filters, search and the case list (being built)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from tickets.views.access import viewer_required


@require_GET
@viewer_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/inbox.html")


@require_GET
@viewer_required
def queue_counts(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


urlpatterns = [
    path("", inbox, name="inbox"),
    path("queues/", queue_counts, name="queue-counts"),
]
