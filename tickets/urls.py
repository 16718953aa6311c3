"""The agent workspace. Each views module lists its own routes."""

from tickets.views import canned, case, inbox, merge, notifications

app_name = "tickets"

urlpatterns = [
    *inbox.urlpatterns,
    *case.urlpatterns,
    *merge.urlpatterns,
    *canned.urlpatterns,
    *notifications.urlpatterns,
]
