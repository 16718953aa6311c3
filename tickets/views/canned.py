"""Canned responses, managed by supervisors (being built)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from tickets.views.access import canned_manager_required


@require_GET
@canned_manager_required
def canned_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


urlpatterns = [
    path("canned/", canned_list, name="canned-list"),
]
