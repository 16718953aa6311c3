"""The hosted contact form: the channel for customers who use none of the platforms.

A submission is written as the mail it stands for (from the customer's address, to the
brand's mailbox account the form belongs to) and goes through the one ingest path as that
mail: the email normaliser reads it, so the customer is the one their address already names,
and the agent's reply goes out by email under the same subject. A submission the bot defences
doubt is quarantined with the reason, never lost: an admin can still let it in.
"""

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from channels.models import ChannelAccount, Platform
from intake.services import BatchResult, ingest_payloads, quarantine_payload

# The key in an email account's settings that puts the form online for it.
FORM_SETTING = "contact_form"
# A header naming where the mail came from, for whoever reads the raw payload.
SOURCE_HEADER = "X-CareInbox-Source"
SUBJECT_WORDS = 60  # characters of the message shown in the case's subject


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Submission:
    name: str
    email: str
    message: str
    order_reference: str = ""
    attachment: Attachment | None = None


def form_account(account_id: int) -> ChannelAccount:
    """The mailbox account whose form this is (its ``contact_form`` setting puts the form
    online). Raises ``ChannelAccount.DoesNotExist`` for any other account, so that a form
    that is not online cannot be told from none."""
    account = ChannelAccount.objects.get(pk=account_id, platform=Platform.EMAIL)
    if not account.settings.get(FORM_SETTING):
        raise ChannelAccount.DoesNotExist(f"Account {account_id} has no contact form.")
    return account


def as_mail(submission: Submission, *, account: ChannelAccount, at: datetime) -> bytes:
    """The mail a submission stands for, with a Message-ID of its own."""
    mail = EmailMessage()
    mail["From"] = formataddr((submission.name, submission.email))
    mail["To"] = account.settings.get("address") or account.name
    first_line = submission.message.strip().splitlines()[0] if submission.message.strip() else ""
    summary = first_line[:SUBJECT_WORDS].rstrip() + (
        "…" if len(first_line) > SUBJECT_WORDS else ""
    )
    mail["Subject"] = f"Contact form: {summary}"
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = make_msgid(domain="contact-form.careinbox")
    mail[SOURCE_HEADER] = "contact-form"
    body = submission.message.strip()
    if submission.order_reference:
        body += f"\n\nOrder reference: {submission.order_reference}"
    mail.set_content(body)
    if submission.attachment is not None:
        maintype, _, subtype = submission.attachment.content_type.partition("/")
        mail.add_attachment(
            submission.attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=submission.attachment.filename,
        )
    return bytes(mail)


def submit(
    submission: Submission, *, account: ChannelAccount, at: datetime, held_because: str = ""
) -> BatchResult:
    """Ingest a submission as the mail it stands for; with ``held_because`` (why the bot
    defences doubt it), quarantine it with that reason instead."""
    raw = as_mail(submission, account=account, at=at)
    if held_because:
        error = f"Held from the contact form: {held_because}. Retry it if a person sent it."
        item = quarantine_payload(source=Platform.EMAIL, raw=raw, error=error, account=account)
        return BatchResult(quarantined=[item])
    return ingest_payloads(
        source=Platform.EMAIL, payloads=[raw], accounts={Platform.EMAIL: account}
    )
