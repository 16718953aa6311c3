"""Marks signed-in agents as online for automatic assignment, holds a session at its second
factor until it is given, and sends the first visitor of a new install to its setup."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from staff import onboarding, two_factor
from staff.services import saw_agent

TWO_FACTOR_PAGES = {
    two_factor.VERIFY: "two_factor_verify",
    two_factor.SET_UP: "two_factor_setup",
}


class LastSeenMiddleware:
    """Records that a signed-in user is using the workspace. Every open page polls the
    notification bell, so an agent with any page open stays online. Goes after
    ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            saw_agent(user_id=user.pk)
        return response


class FirstRunMiddleware:
    """While the install has no user at all, the sign-in page (where every first visit lands)
    sends its visitor to the setup (``staff.onboarding``). Once a user exists it costs nothing
    but a cache read on the sign-in page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "GET"
            and request.path == reverse("login")
            and onboarding.needs_setup()
        ):
            return HttpResponseRedirect(reverse("workspace:setup"))
        return self.get_response(request)


class TwoFactorMiddleware:
    """Keeps a session that still owes its second factor (``staff.two_factor``) on the page
    that asks for it: every other page, the admin's included, redirects there (htmx requests
    are told to load it). Goes after ``SessionMiddleware`` and before anything that counts the
    user as at work."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        owed = two_factor.owed(request.session)
        if owed is None:
            return self.get_response(request)
        page = reverse(TWO_FACTOR_PAGES[owed])
        if request.path in {page, reverse("logout")} or request.path.startswith(
            settings.STATIC_URL or "/static/"
        ):
            return self.get_response(request)
        target = f"{page}?{urlencode({'next': request.get_full_path()}, safe='/')}"
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)
