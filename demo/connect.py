"""Connecting channel accounts to the platform sandbox."""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from django.db import transaction

from channels.email import client as email_client
from channels.facebook import graph
from channels.models import ChannelAccount
from channels.x import client as x_client
from demo.sandbox import graph_api, mail, x_api

Fields = dict[str, Any]


class SandboxUnreachable(Exception):
    pass


def sandbox_x_account(info: Fields) -> Fields:
    """The sample brand's X account, connected to the sandbox described by ``info``."""
    return {
        "name": f"@{x_api.BRAND['username']}",
        "settings": {
            "api_base": info["url"],
            "user_id": x_api.BRAND["id"],
            "handle": x_api.BRAND["username"],
            "timeout": x_client.DEFAULT_TIMEOUT_SECONDS,
        },
        "credentials": {"bearer_token": "sandbox-bearer-token"},
    }


def sandbox_facebook_account(info: Fields) -> Fields:
    """The sample brand's Facebook page on the sandbox."""
    return {
        "name": graph_api.PAGE_NAME,
        "settings": {
            "graph_base": info["url"].rstrip("/") + "/",
            "graph_version": graph.GRAPH_VERSION,
            "page_id": graph_api.PAGE_ID,
            "page_name": graph_api.PAGE_NAME,
            "timeout": graph.TIMEOUT_SECONDS,
        },
        "credentials": {"page_access_token": graph_api.PAGE_ACCESS_TOKEN},
    }


def sandbox_email_account(info: Fields) -> Fields:
    """The brand's mailbox in the sandbox: its Maildir, and its SMTP server for replies."""
    return {
        "name": mail.BRAND_ADDRESS,
        "settings": {
            "mailbox": "maildir",
            "maildir": info["maildir"],
            "sent_folder": email_client.DEFAULT_SENT_FOLDER,
            "address": mail.BRAND_ADDRESS,
            "smtp_host": "127.0.0.1",
            "smtp_port": info["smtp_port"],
            "smtp_ssl": False,
            "smtp_starttls": False,
            "timeout": email_client.DEFAULT_TIMEOUT,
        },
        "credentials": {},
    }


# Which settings point each platform's client at the sandbox.
SANDBOX_ACCOUNTS: dict[str, Callable[[Fields], Fields]] = {
    "x": sandbox_x_account,
    "facebook": sandbox_facebook_account,
    "email": sandbox_email_account,
}


def connect_sandbox(*, url: str) -> list[ChannelAccount]:
    """Create or update one enabled channel account per platform, pointing at the sandbox.

    Each account reads the sandbox from its beginning: a sandbox holds only the traffic it
    was loaded with, so cursors kept from an earlier one would pass over it. What was stored
    already is recognised by its platform ids and not stored again."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_sandbox/health", timeout=5) as answer:
            info = json.load(answer)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SandboxUnreachable(
            f"No sandbox answers at {url} ({exc}); start one with: python manage.py sandbox"
        ) from None
    accounts = []
    with transaction.atomic():
        for platform, account_fields in SANDBOX_ACCOUNTS.items():
            fields = account_fields(info)
            account, _ = ChannelAccount.objects.update_or_create(
                platform=platform,
                name=fields["name"],
                defaults={
                    "settings": fields["settings"],
                    "credentials": fields["credentials"],
                    "enabled": True,
                    "poll_cursors": {},
                },
            )
            accounts.append(account)
    return accounts
