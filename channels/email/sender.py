"""Sending replies by SMTP, and finding one already sent.

Account settings: ``smtp_host``, ``smtp_port``, ``smtp_ssl`` (TLS from the start, port 465)
or ``smtp_starttls`` (port 587), ``address`` (the From address), ``timeout``; credentials
``smtp_username`` and ``smtp_password``.

SMTP cannot be asked what it delivered. Every reply's Message-ID is derived from our message id,
so ``find_sent`` looks for it in the account's sent folder (``sent_folder``, default "Sent"):
over IMAP for IMAP accounts (most providers file what their SMTP server sends there), or in the
Maildir's Maildir++ folder of that name. Where the server files no copy it returns None and a
retry sends again, under the same Message-ID, which a client that de-duplicates by Message-ID
shows once.
"""

import os
import re
import smtplib
from email.message import MIMEPart
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend

from channels.email.client import (
    DEFAULT_SENT_FOLDER,
    DEFAULT_TIMEOUT,
    imap_session,
    mailbox_name,
    search_uids,
)
from channels.email.normaliser import parse_headers
from channels.errors import FetchError, PermanentSendError, TransientSendError
from channels.models import ChannelAccount
from channels.plug import OutboundFile, OutboundReply

# Enough of a mail to hold its header block; the attachments below it are not needed.
HEADER_READ_BYTES = 256 * 1024
# A media type's type or subtype (RFC 6838 4.2).
TOKEN = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def reply_message_id(account: ChannelAccount, reply: OutboundReply) -> str:
    """The Message-ID a reply always gets, so that a retry can be recognised."""
    domain = _address(account).rpartition("@")[2]
    return f"<careinbox.{reply.message_id}@{domain}>"


def send(account: ChannelAccount, reply: OutboundReply) -> str:
    """Mail the reply from the brand's address, threaded under the customer's mail, with its
    Cc addresses and attachments.

    Returns its Message-ID. A 4xx answer or a network failure raises ``TransientSendError``;
    a 5xx answer (recipient refused, login refused) raises ``PermanentSendError``.
    """
    message_id = reply_message_id(account, reply)
    # ``reply.references`` is nearest first (like InboundMessage.in_reply_to); the References
    # header lists the thread oldest first and ends with the mail answered (RFC 5322 3.6.4).
    references = [ref for ref in reversed(reply.references) if ref != reply.in_reply_to]
    headers = {"Message-ID": message_id}
    if reply.in_reply_to:
        headers["In-Reply-To"] = reply.in_reply_to
        headers["References"] = " ".join([*references, reply.in_reply_to])
    mail = EmailMessage(
        subject=reply.subject,
        body=reply.text,
        from_email=_address(account),
        to=[reply.recipient],
        cc=list(reply.cc),
        headers=headers,
    )
    for attached in reply.attachments:
        mail.attach(_attachment_part(attached))
    try:
        smtp_backend(account).send_messages([mail])
    except smtplib.SMTPRecipientsRefused as exc:
        code, answer = next(iter(exc.recipients.values()))
        detail = f"refused recipient {reply.recipient}: {_text(answer)}"
        _raise_for_code(reply, code, detail, exc)
    except smtplib.SMTPResponseException as exc:
        _raise_for_code(reply, exc.smtp_code, _text(exc.smtp_error), exc)
    except (smtplib.SMTPNotSupportedError, ValueError) as exc:
        raise PermanentSendError(f"Reply {reply.message_id} cannot be sent: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientSendError(f"SMTP delivery of reply {reply.message_id}: {exc}") from exc
    return message_id


def _attachment_part(attached: OutboundFile) -> MIMEPart:
    """The file as the agent chose it, byte for byte: base64 even for text, which the mail
    library would otherwise re-encode with CRLF line ends and a final newline."""
    # The type comes from the agent's browser: anything odd is sent as plain bytes.
    maintype, _, subtype = attached.content_type.lower().partition("/")
    if not (TOKEN.fullmatch(maintype) and TOKEN.fullmatch(subtype)) or maintype == "multipart":
        maintype, subtype = "application", "octet-stream"
    part = MIMEPart()
    part.set_content(attached.content, maintype, subtype, filename=attached.filename)
    return part


def find_sent(account: ChannelAccount, reply: OutboundReply) -> str | None:
    """The reply's Message-ID if the account's sent folder holds it, else None.

    Raises ``TransientSendError`` when the folder cannot be read, so a retry waits instead of
    sending a second copy.
    """
    folder = account.settings.get("sent_folder", DEFAULT_SENT_FOLDER)
    if not folder:
        return None
    message_id = reply_message_id(account, reply)
    if account.settings.get("mailbox") == "imap":
        found = _in_imap_folder(account, folder, message_id)
    else:
        found = _in_maildir_folder(account, folder, message_id)
    return message_id if found else None


def _in_imap_folder(account: ChannelAccount, folder: str, message_id: str) -> bool:
    try:
        with imap_session(account) as imap:
            status, _ = imap.select(mailbox_name(folder), readonly=True)
            if status != "OK":
                return False  # no such folder: nothing was filed there
            return bool(search_uids(imap, "HEADER", "Message-ID", f'"{message_id}"'))
    except FetchError as exc:
        raise TransientSendError(f"Cannot look for {message_id} in {folder!r}: {exc}") from exc


def _in_maildir_folder(account: ChannelAccount, folder: str, message_id: str) -> bool:
    root = Path(account.settings.get("maildir") or "") / f".{folder}"
    try:
        for sub in ("cur", "new"):
            if not (root / sub).is_dir():
                continue
            for name in os.listdir(root / sub):
                with open(root / sub / name, "rb") as mail:
                    head = mail.read(HEADER_READ_BYTES)
                if message_id in str(parse_headers(head).get("Message-ID", "")):
                    return True
    except OSError as exc:
        raise TransientSendError(f"Cannot look for {message_id} in {root}: {exc}") from exc
    return False


def smtp_backend(account: ChannelAccount) -> EmailBackend:
    settings, credentials = account.settings, account.credentials
    if not settings.get("smtp_host"):
        raise PermanentSendError(f"Email account {account.name!r} has no smtp_host setting.")
    use_ssl = bool(settings.get("smtp_ssl"))
    use_tls = bool(settings.get("smtp_starttls"))
    # The account's own server, not the project's MAILERS: each brand sends through its mail
    # provider. The alias only names the connection in Django's error messages.
    return EmailBackend(
        alias=f"email-account-{account.pk}",
        host=settings["smtp_host"],
        port=int(settings["smtp_port"]) if settings.get("smtp_port") else None,
        username=credentials.get("smtp_username") or "",
        password=credentials.get("smtp_password") or "",
        use_ssl=use_ssl,
        use_tls=use_tls,
        timeout=float(settings.get("timeout") or DEFAULT_TIMEOUT),
    )


def _raise_for_code(reply: OutboundReply, code: int, detail: str, exc: Exception) -> None:
    message = f"Reply {reply.message_id}: the SMTP server answered {code}, {detail}"
    if 400 <= code < 500 or code < 0:
        raise TransientSendError(message) from exc
    raise PermanentSendError(message) from exc


def _address(account: ChannelAccount) -> str:
    address = (account.settings.get("address") or "").strip()
    if "@" not in address:
        raise PermanentSendError(
            f"Email account {account.name!r} has no valid 'address' setting to send from."
        )
    return address


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
