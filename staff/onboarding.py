"""A fresh install's first run: the first admin, a team, agents invited to set their own
passwords, and the channel accounts connected, each tested through its platform's client.
The setup pages (``workspace.views.setup``) and ``manage.py setup`` both call these.

An install needs setting up while it has no user at all. Until then the setup pages open only
with the setup key, which the server writes to its log, so the first visitor of a new server
cannot make themselves its admin.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from channels.errors import FetchError
from channels.models import ChannelAccount, Platform
from channels.registry import platform_channel
from staff import roles
from staff.models import AgentProfile, Team

logger = logging.getLogger(__name__)

# Once an install has a user it never needs setting up again; remembered in the cache.
SET_UP_KEY = "careinbox:set-up"


def needs_setup() -> bool:
    """Whether this install has no user yet. Costs a query only until the first user exists."""
    if cache.get(SET_UP_KEY):
        return False
    if get_user_model().objects.exists():
        cache.set(SET_UP_KEY, True, None)
        return False
    return True


def setup_key() -> str:
    """The key the setup pages ask for before the first admin exists."""
    return salted_hmac("careinbox.first-run", "setup key", algorithm="sha256").hexdigest()[:24]


def key_matches(given: str) -> bool:
    return constant_time_compare(given.strip(), setup_key())


def log_setup_key(url: str) -> None:
    logger.warning(
        "CareInbox is not set up yet. Open %s?key=%s to create its admin.", url, setup_key()
    )


@transaction.atomic
def add_member(
    *,
    username: str,
    email: str,
    display_name: str,
    role: str,
    password: str | None = None,
    team: Team | None = None,
) -> User:
    """A new staff member with ``role`` (``staff.roles``), an agent profile and ``team``.
    Without a password they cannot sign in until they set one (``invite``)."""
    if role not in (roles.AGENT, roles.SUPERVISOR, roles.MANAGER, roles.ADMIN):
        raise ValueError(f"{role!r} is not a role; use agent, supervisor, manager or admin.")
    user = get_user_model().objects.create_user(
        username, email=email, password=password, is_staff=role == roles.ADMIN
    )
    user.groups.add(Group.objects.get(name=role))
    profile = AgentProfile.objects.create(
        user=user, display_name=display_name, sign_off=f"Best wishes,\n{display_name}"
    )
    if team is not None:
        profile.teams.add(team)
    return user


def invite(user: User, *, base_url: str) -> None:
    """Mail ``user`` a link to set their password (the password reset page, whose link works
    once and for ``PASSWORD_RESET_TIMEOUT``)."""
    link = base_url.rstrip("/") + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    send_mail(
        subject="You have been invited to CareInbox",
        message=(
            f"Hello {user.agent_profile.display_name},\n\n"
            f"You have a CareInbox account, user name {user.get_username()}. Choose your "
            f"password here:\n\n{link}\n\nThe link works once.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    said: str  # what the platform showed, or what failed


def test_connection(account: ChannelAccount) -> ConnectionTest:
    """Reach the platform with the account's settings and secrets, through its real client."""
    try:
        return ConnectionTest(True, platform_channel(account.platform).probe(account))
    except FetchError as exc:
        return ConnectionTest(False, str(exc))


def account_name(platform: str, settings_: dict) -> str:
    """How an account is named in the admin: its handle, page or address."""
    if platform == Platform.X:
        return f"@{settings_.get('handle') or 'X account'}"
    if platform == Platform.FACEBOOK:
        return str(settings_.get("page_name") or f"Facebook page {settings_.get('page_id')}")
    return str(settings_.get("address") or "Mailbox")
