"""Each signed-in user's API token: made, shown and replaced, or revoked, on one page. A
token acts with its user's roles; it is made only here, after a full sign-in (second
factor included), or by an admin with ``manage.py drf_create_token``."""

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from workspace.views.access import signed_in_required


class SignedInRequest(HttpRequest):
    user: User


@require_http_methods(["GET", "POST"])
@signed_in_required
def api_token(request: SignedInRequest) -> HttpResponse:
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        if request.POST.get("action") == "revoke":
            messages.success(request, "Your API token is revoked; requests with it now fail.")
        else:
            Token.objects.create(user=request.user)
            messages.success(request, "A new API token is made; the one before no longer works.")
        return redirect("workspace:api-token")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "workspace/api_token.html", {"token": token})


urlpatterns = [path("account/api-token/", api_token, name="api-token")]
