from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("intake.urls")),
    # Health for load balancers, metrics for Prometheus, System health for admins.
    path("", include("operations.views")),
    # The public contact form and its embed script: no sign-in.
    path("", include("intake.contact_views")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Password reset by email: a link valid for PASSWORD_RESET_TIMEOUT, sent only to a known
    # address, and the same answer either way.
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The second step of signing in: a code from an authenticator app (staff.two_factor).
    path("", include("workspace.views.two_factor")),
    # The REST API, its schema and docs.
    path("", include("api.urls")),
    path("", include("reporting.urls")),
    path("", include("workspace.urls")),
]
