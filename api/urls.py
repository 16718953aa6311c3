"""The REST API at /api/v1/, and its OpenAPI schema at /api/schema/ with browsable docs at
/api/docs/. Each user makes their token in the workspace (``workspace.views.api_token``)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api import errors
from api.cases import CaseViewSet
from api.customers import CustomerViewSet
from api.directory import AgentViewSet, CannedResponseViewSet, TeamViewSet
from api.quarantine import QuarantineViewSet

app_name = "api"

router = DefaultRouter()
router.include_format_suffixes = False  # JSON only: no "cases.json" twins of each route
router.register("cases", CaseViewSet, basename="case")
router.register("customers", CustomerViewSet, basename="customer")
router.register("teams", TeamViewSet, basename="team")
router.register("agents", AgentViewSet, basename="agent")
router.register("canned-responses", CannedResponseViewSet, basename="canned-response")
router.register("quarantine", QuarantineViewSet, basename="quarantine")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up as a script file, as the page's
    # content security policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^api/(?P<path>(?s:.*))$", errors.no_such_route),
]
