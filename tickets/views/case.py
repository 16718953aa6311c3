"""The case page and the actions on it (being built)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from tickets.views.access import case_or_404, viewer_required


@require_GET
@viewer_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return render(request, "tickets/case_detail.html", {"case": case_or_404(case_id)})


urlpatterns = [
    path("cases/<int:case_id>/", case_detail, name="case-detail"),
]
