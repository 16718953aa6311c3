"""Health for load balancers (``/healthz``, ``/readyz``), metrics for Prometheus
(``/metrics``), and the System health page for admins."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from operations import health, metrics


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up; nothing else is asked."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Every check, and 503 when one fails."""
    checks = health.readiness()
    ready = all(check.ok for check in checks)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
    }
    return JsonResponse(body, status=200 if ready else 503)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.CAREINBOX_METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and constant_time_compare(given, token):
        return True
    return request.user.has_perm("channels.view_channelaccount")


@require_GET
def scrape(request: HttpRequest) -> HttpResponse:
    """Prometheus's scrape: with the ``CAREINBOX_METRICS_TOKEN`` bearer token, or as an admin."""
    if not _may_scrape(request):
        return HttpResponse("Metrics need the bearer token or an admin's session.\n", status=403)
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


@login_required
@permission_required("channels.view_channelaccount", raise_exception=True)
@require_GET
def system_health(request: HttpRequest) -> HttpResponse:
    checks = health.readiness()
    figures = metrics.DatabaseCollector().collect()
    return render(
        request,
        "operations/system_health.html",
        {"checks": checks, "ready": all(c.ok for c in checks), "figures": list(figures)},
    )


app_name = "operations"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", scrape, name="metrics"),
    path("system-health/", system_health, name="system-health"),
]
