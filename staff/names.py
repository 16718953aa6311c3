"""How people are named on screen: agents by their profile's display name, anyone's avatar by
two initials (no remote images are ever loaded)."""

import re

from django.contrib.auth.models import AbstractBaseUser

_NAME_PARTS = re.compile(r"[\s@._-]+")


def display_name(user: AbstractBaseUser | None) -> str:
    """The agent's display name, else the username; "nobody" for no user."""
    if user is None:
        return "nobody"
    profile = getattr(user, "agent_profile", None)
    return profile.display_name if profile else user.get_username()


def initials(name: str) -> str:
    """Up to two capital letters: "Gwen Harlow" and "gwen_h" are both "GH"."""
    words = [w for w in _NAME_PARTS.split(name) if w and w[0].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"
