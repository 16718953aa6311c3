"""Marks signed-in agents as online for automatic assignment."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from staff.services import saw_agent


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
