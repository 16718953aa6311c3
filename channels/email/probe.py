""" "Test connection" for a mailbox account: read the mailbox, and open the SMTP server."""

import os
import smtplib

from channels.email import client, sender
from channels.errors import FetchError, PermanentSendError
from channels.models import ChannelAccount


def probe(account: ChannelAccount) -> str:
    """What the mailbox holds and whether the SMTP server lets us in, in two sentences."""
    return f"{_mailbox(account)} {_smtp(account)}"


def _mailbox(account: ChannelAccount) -> str:
    settings = account.settings
    if (settings.get("mailbox") or "maildir") == "maildir":
        root = client.maildir_root(account)
        count = sum(len(os.listdir(root / part)) for part in ("new", "cur"))
        return f"The Maildir {root} holds {count} mail{'s' * (count != 1)}."
    folder = settings.get("imap_folder") or client.DEFAULT_FOLDER
    with client.imap_session(account) as imap:
        client.select_folder(imap, folder)
        count = len(client.search_uids(imap, "ALL"))
    user = account.credentials.get("imap_username") or ""
    return (
        f"Signed in to the IMAP server {settings.get('imap_host')} as {user!r}; "
        f"{folder} holds {count} mail{'s' * (count != 1)}."
    )


def _smtp(account: ChannelAccount) -> str:
    try:
        backend = sender.smtp_backend(account)
        backend.open()
        backend.close()
    except PermanentSendError as exc:
        raise FetchError(str(exc)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise FetchError(
            f"The SMTP server {account.settings.get('smtp_host')}:"
            f"{account.settings.get('smtp_port') or 'default port'} refused us: {exc}"
        ) from exc
    signed_in = " and the sign-in" if account.credentials.get("smtp_username") else ""
    return (
        f"The SMTP server {account.settings['smtp_host']} accepted the connection{signed_in}, "
        f"so replies can be sent from {account.settings.get('address') or 'the account'}."
    )
