from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("channels_in.urls")),
    # The agent workspace takes "/" once it lands; until then the admin is the product's face.
    path("", RedirectView.as_view(pattern_name="admin:index")),
]
