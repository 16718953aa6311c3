from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class PerUserThrottle(SimpleRateThrottle):
    """``CAREINBOX_API_RATE`` requests per user, or per address for a request not signed
    in, counted in the shared cache so every web process keeps one count."""

    scope = "api"

    def get_rate(self) -> str:
        return settings.CAREINBOX_API_RATE

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"
