"""Two-factor sign-in: a time-based one-time code (TOTP, django-otp) from an authenticator
app, asked for after the password.

Anyone may turn it on for themselves; ``CAREINBOX_REQUIRE_TWO_FACTOR`` makes it required for
admins (staff users) and supervisors, who then set it up at their next sign-in. What a
session still owes is kept in the session itself, decided once when the password is
accepted, so a request that owes nothing costs no query. An admin who loses their phone asks
another admin to delete their device in the admin site; they set up a new one when they next
sign in.
"""

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.roles import REASSIGN_CASE

# Session key: "verify" until the code is given, "setup" until a device is set up.
SESSION_KEY = "careinbox_two_factor"
VERIFY = "verify"
SET_UP = "setup"
DEVICE_NAME = "Authenticator app"


class CodeRefused(ValueError):
    """The code did not match, or too many wrong codes came too fast; says which."""


def required_for(user: User) -> bool:
    """Whether ``user`` must sign in with a second factor."""
    return settings.CAREINBOX_REQUIRE_TWO_FACTOR and (
        user.is_staff or user.is_superuser or user.has_perm(REASSIGN_CASE)
    )


def confirmed_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def on_sign_in(sender: object, request: HttpRequest, user: User, **kwargs: object) -> None:
    """``user_logged_in`` receiver: what this session owes before it may be used."""
    if confirmed_device(user) is not None:
        request.session[SESSION_KEY] = VERIFY
    elif required_for(user):
        request.session[SESSION_KEY] = SET_UP


def owed(session: SessionBase) -> str | None:
    """``VERIFY``, ``SET_UP``, or None once the session may be used."""
    return session.get(SESSION_KEY)


def verify(session: SessionBase, user: User, code: str) -> None:
    """Accept the code from ``user``'s authenticator app for this session."""
    device = confirmed_device(user)
    if device is None:
        raise CodeRefused("You have no authenticator app set up; set one up first.")
    _check(device, code)
    session.pop(SESSION_KEY, None)


def pending_device(user: User) -> TOTPDevice:
    """The device being set up for ``user``: its key stays the same until it is confirmed,
    so reloading the page does not change the QR code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def confirm(session: SessionBase, user: User, code: str) -> None:
    """Turn on two-factor sign-in for ``user`` with the first code of the app just set up."""
    device = pending_device(user)
    _check(device, code)
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    session.pop(SESSION_KEY, None)


def _check(device: TOTPDevice, code: str) -> None:
    code = "".join(code.split())
    allowed, why = device.verify_is_allowed()
    if not allowed:
        # django-otp doubles the wait after each wrong code in a row.
        until = (why or {}).get("locked_until")
        raise CodeRefused(
            "Wait a moment: after each wrong code the next try waits longer"
            + (f" (until {until:%H:%M:%S} UTC)." if until else ".")
        )
    if not (code.isdigit() and device.verify_token(code)):
        raise CodeRefused(
            "That code did not match. Type the newest code your app shows; if it keeps "
            "failing, check that your phone's clock is right."
        )


def qr_code_uri(device: TOTPDevice) -> str:
    """The QR code an authenticator app scans to add ``device``: an SVG image (black on
    white) as a ``data:`` URI, which the pages' content security policy allows."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def written_key(device: TOTPDevice) -> str:
    """The key for typing into an app by hand: base32 in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
