from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("x/<int:account_id>/", views.webhook_x, name="webhook-x"),
    path("facebook/<int:account_id>/", views.webhook_facebook, name="webhook-facebook"),
]
