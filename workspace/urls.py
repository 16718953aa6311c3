"""The agent workspace. Each views module lists its own routes."""

from workspace.views import (
    api_token,
    availability,
    canned,
    case,
    inbox,
    incident_updates,
    incidents,
    merge,
    notifications,
    privacy,
    rules,
    setup,
    spam_list,
    survey,
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
    *api_token.urlpatterns,
    *spam_list.urlpatterns,
    *survey.urlpatterns,
    *incidents.urlpatterns,
    *incident_updates.urlpatterns,
]
