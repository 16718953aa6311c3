"""The agent workspace. Each views module lists its own routes."""

from tickets.views import (
    availability,
    canned,
    case,
    dashboards,
    inbox,
    merge,
    notifications,
    rules,
)

app_name = "tickets"

urlpatterns = [
    *inbox.urlpatterns,
    *case.urlpatterns,
    *merge.urlpatterns,
    *canned.urlpatterns,
    *notifications.urlpatterns,
    *dashboards.urlpatterns,
    *rules.urlpatterns,
    *availability.urlpatterns,
]
