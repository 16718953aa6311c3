"""Signing in and permissions: Django's model backend, reading the signed-in user with their
agent profile, and their permissions (their own and their groups') in one statement instead
of two. Every workspace request, the side bar's and the bell's polls included, asks both."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, User

from staff.selectors import permissions_of, signed_in_user


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = signed_in_user(int(user_id))
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: User | AnonymousUser, obj: Any = None) -> set[str]:
        # The same set as ModelBackend's, under the same cache. ModelBackend answers objects
        # (with nothing), the anonymous and inactive (nothing) and superusers (everything).
        if obj is not None or not user_obj.is_active or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        cached: set[str] | None = getattr(user_obj, "_perm_cache", None)
        if cached is None:
            cached = permissions_of(user_obj.pk)  # type: ignore[arg-type]
            user_obj._perm_cache = cached  # type: ignore[union-attr,attr-defined]
        return cached
