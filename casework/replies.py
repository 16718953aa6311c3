"""Agents' replies: signed, checked against what the platform accepts, stored as queued and
sent after the commit."""

from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from cases import clocks
from cases.models import Attachment, Case, Message
from casework.exceptions import ActionNotAllowed, ReplyNotPossible
from casework.tasks import send_reply_task
from channels.errors import PermanentSendError
from channels.kinds import KINDS
from channels.plug import OutboundFile
from channels.registry import platform_channel
from staff.names import display_name

# Message.subject's length.
SUBJECT_MAX_LENGTH = 500


def sign_reply(*, text: str, channel: str, agent: User) -> str:
    """The reply text as the customer will see it, with the agent's signature or sign-off."""
    profile = getattr(agent, "agent_profile", None)
    text = text.strip()
    kind = KINDS.get(channel)
    if kind is not None and kind.short_signature:
        return f"{text} {profile.signature}" if profile and profile.signature else text
    return f"{text}\n\n{profile.sign_off}" if profile and profile.sign_off else text


def queue_reply(
    *,
    case: Case,
    agent: User,
    text: str,
    answering: Message | None = None,
    subject: str | None = None,
    cc: Sequence[str] = (),
    attachments: Sequence[OutboundFile] = (),
) -> Message:
    """Store an agent's reply as queued, on the channel of the message it answers (by default
    the case's latest customer message), and send it once the transaction commits. An email
    reply may have its own ``subject`` (None or blank: the automatic "Re: ..."), ``cc``
    addresses and ``attachments``.

    Raises ``ReplyNotPossible`` when the case has nothing to answer, the text is empty, a Cc
    address is not one, the attachments are too large, or these are given off email.
    """
    if not text.strip():
        raise ReplyNotPossible("The reply is empty; write something to send.")
    if answering is None:
        answering = (
            case.messages.filter(direction=Message.Direction.INBOUND)
            .order_by("-sent_at", "-pk")
            .first()
        )
    if answering is None or answering.direction != Message.Direction.INBOUND:
        raise ReplyNotPossible(f"Case {case.pk} has no customer message to answer.")
    if answering.case_id != case.pk:
        raise ReplyNotPossible(
            f"Message {answering.pk} belongs to case {answering.case_id}, not case {case.pk}."
        )

    signed = sign_reply(text=text, channel=answering.channel, agent=agent)
    _check_reply(answering, signed)
    subject = _check_email_parts(answering, subject, cc, attachments)
    cc = list(dict.fromkeys(address.strip() for address in cc))
    now = timezone.now()
    with transaction.atomic():
        reply = Message.objects.create(
            case=case,
            direction=Message.Direction.OUTBOUND,
            channel_account=answering.channel_account,
            channel=answering.channel,
            in_reply_to_external_id=answering.external_id or "",
            parent=answering,
            author_user=agent,
            text=signed,
            subject=subject or reply_subject(case, answering),
            cc=cc,
            sent_at=now,
            delivery_status=Message.Delivery.QUEUED,
            delivery_next_attempt_at=now,
        )
        Attachment.objects.bulk_create(
            Attachment(
                message=reply,
                filename=attached.filename[:255],
                content_type=attached.content_type[:255],
                size=len(attached.content),
                content=attached.content,
            )
            for attached in attachments
        )
        Case.objects.filter(pk=case.pk).filter(
            Q(first_response_at__isnull=True) | Q(first_response_at__gt=now)
        ).update(first_response_at=now)
        clocks.replied(case=case)
        # Robust: with the broker down the reply stays queued and due, and beat's
        # retry_due_replies sends it once the broker is back; the agent sees it queued.
        transaction.on_commit(lambda: send_reply_task.delay(reply.pk), robust=True)
    return reply


def _check_reply(answering: Message, signed: str) -> None:
    """Refuse, before anything is stored, a reply the platform would refuse."""
    account = answering.channel_account
    if account is None:
        raise ReplyNotPossible(f"Message {answering.pk} has no channel to answer on.")
    check = platform_channel(account.platform).sender.check
    if check is None:
        return
    last_customer_message_at = (
        answering.case.messages.filter(
            direction=Message.Direction.INBOUND,
            channel=answering.channel,
            author_identity=answering.author_identity,
        )
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    ) or answering.sent_at
    try:
        check(answering.channel, signed, last_customer_message_at)
    except PermanentSendError as exc:
        raise ReplyNotPossible(str(exc)) from exc


def _check_email_parts(
    answering: Message, subject: str | None, cc: Sequence[str], attachments: Sequence[OutboundFile]
) -> str:
    """Refuse, in words, Cc addresses that are not addresses and attachments over the limit;
    returns the subject on one line ("" for the automatic one)."""
    subject = " ".join((subject or "").split())
    if answering.channel != "email":
        if subject or cc or attachments:
            raise ReplyNotPossible(
                "Only an email reply has a subject, Cc addresses or attachments; "
                "choose an email to answer, or send the text alone."
            )
        return ""
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ReplyNotPossible("The subject is too long; keep it under 500 characters.")
    refusals = []
    for address in cc:
        try:
            EmailValidator()(address.strip())
        except ValidationError:
            refusals.append(
                f"“{address.strip()}” is not an email address; write Cc addresses like "
                "name@example.com, separated by commas."
            )
    if refusals:
        raise ReplyNotPossible(" ".join(refusals))
    total = sum(len(attached.content) for attached in attachments)
    limit = settings.CAREINBOX_REPLY_ATTACHMENT_MAX_BYTES
    if total > limit:
        raise ReplyNotPossible(
            f"The attachments come to {filesizeformat(total)}; an email reply may carry at "
            f"most {filesizeformat(limit)}. Leave some out, or send them in another reply."
        )
    return subject


def reply_subject(case: Case, answering: Message) -> str:
    """The automatic subject of a reply to ``answering``: "Re: ..." with the case reference,
    so that the customer's answer finds the case; "" off email."""
    if answering.channel != "email":
        return ""
    subject = answering.subject or case.subject or "Your message"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    reference = f"[#{case.pk}]"
    return subject if reference in subject else f"{subject} {reference}"


def retry_reply(*, message_id: int, by: User) -> None:
    """Queue a failed reply again, through the ordinary outbound queue. Refuses someone who
    may not work cases, and a reply that has not failed (queued, sending or sent already)."""
    if not by.has_perm("cases.work_case"):
        raise ActionNotAllowed(f"{display_name(by)} may not retry replies.")
    with transaction.atomic():
        updated = Message.objects.filter(
            pk=message_id,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.Delivery.FAILED,
        ).update(
            delivery_status=Message.Delivery.QUEUED,
            delivery_error="",
            delivery_attempts=0,
            delivery_next_attempt_at=timezone.now(),
        )
        if not updated:
            raise ActionNotAllowed(
                f"Reply {message_id} has not failed (it is queued, being sent or sent); "
                "there is nothing to retry."
            )
        transaction.on_commit(lambda: send_reply_task.delay(message_id), robust=True)
