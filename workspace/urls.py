"""The agent workspace. Each views module lists its own routes."""

from workspace.views import (
    availability,
    canned,
    case,
    inbox,
    merge,
    notifications,
    privacy,
    rules,
    setup,
)

app_name = "workspace"

urlpatterns = [
    *inbox.urlpatterns,
    *case.urlpatterns,
    *merge.urlpatterns,
    *canned.urlpatterns,
    *notifications.urlpatterns,
    *rules.urlpatterns,
    *availability.urlpatterns,
    *privacy.urlpatterns,
    *setup.urlpatterns,
]
