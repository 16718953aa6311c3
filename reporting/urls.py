"""The dashboards for managers and supervisors."""

from django.urls import path

from reporting.views import (
    agents,
    backlog,
    cases,
    handoffs,
    kudos,
    response_times,
    satisfaction,
    sentiment,
    service_levels,
)

app_name = "reporting"

urlpatterns = [
    path("dashboards/", backlog, name="dashboards"),
    path("dashboards/response-times/", response_times, name="dashboard-times"),
    path("dashboards/agents/", agents, name="dashboard-agents"),
    path("dashboards/hand-offs/", handoffs, name="dashboard-handoffs"),
    path("dashboards/service-levels/", service_levels, name="dashboard-sla"),
    path("dashboards/sentiment/", sentiment, name="dashboard-sentiment"),
    path("dashboards/satisfaction/", satisfaction, name="dashboard-satisfaction"),
    path("dashboards/cases/", cases, name="dashboard-cases"),
    path("kudos/", kudos, name="kudos"),
]
