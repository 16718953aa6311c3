"""The second step of signing in (``staff.two_factor``): type the code from the authenticator
app, or set one up. Routed under /accounts/ beside the sign-in pages."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from staff import two_factor


class SignedInRequest(HttpRequest):
    user: User


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: SignedInRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        error = _take_code(request, two_factor.verify)
        if error is None:
            return redirect(_next(request))
    return render(
        request,
        "registration/two_factor_verify.html",
        {"error": error, "next": _next(request)},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def set_up(request: SignedInRequest) -> HttpResponse:
    """Set up an app: for a session that must (``CAREINBOX_REQUIRE_TWO_FACTOR``), or for
    anyone who chooses to from their menu. Replaces an earlier app once confirmed."""
    error = None
    if request.method == "POST":
        error = _take_code(request, two_factor.confirm)
        if error is None:
            messages.success(request, "Two-factor sign-in is on: each sign-in asks for a code.")
            return redirect(_next(request))
    device = two_factor.pending_device(request.user)
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "error": error,
            "next": _next(request),
            "required": two_factor.owed(request.session) == two_factor.SET_UP,
            "has_device": two_factor.confirmed_device(request.user) is not None,
            "qr_code": two_factor.qr_code_uri(device),
            "key": two_factor.written_key(device),
        },
        status=400 if error else 200,
    )


def _take_code(
    request: SignedInRequest, accept: Callable[[SessionBase, User, str], None]
) -> str | None:
    """Why ``accept`` refused the posted code, in words; None once it took it."""
    try:
        accept(request.session, request.user, request.POST.get("code", ""))
    except two_factor.CodeRefused as refused:
        return str(refused)
    return None


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


urlpatterns = [
    path("accounts/two-factor/", verify, name="two_factor_verify"),
    path("accounts/two-factor/set-up/", set_up, name="two_factor_setup"),
]
