"""Connecting channel accounts to the platform sandbox."""

import importlib
import json
import urllib.error
import urllib.request

from django.db import transaction

from channels_in.models import ChannelAccount
from channels_in.platforms import PLATFORM_PACKAGES


class SandboxUnreachable(Exception):
    pass


def connect_sandbox(*, url: str) -> list[ChannelAccount]:
    """Create or update one enabled channel account per platform, pointing at the sandbox."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_sandbox/health", timeout=5) as answer:
            info = json.load(answer)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SandboxUnreachable(
            f"No sandbox answers at {url} ({exc}); start one with: python manage.py sandbox"
        ) from None
    accounts = []
    with transaction.atomic():
        for platform in PLATFORM_PACKAGES:
            # Each platform's client knows which settings point it at the sandbox.
            client = importlib.import_module(f"channels_in.{platform}.client")
            fields = client.sandbox_account(info)
            account, _ = ChannelAccount.objects.update_or_create(
                platform=platform,
                name=fields["name"],
                defaults={
                    "settings": fields["settings"],
                    "credentials": fields["credentials"],
                    "enabled": True,
                },
            )
            accounts.append(account)
    return accounts
