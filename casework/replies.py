"""Agents' replies: signed, checked against what the platform accepts, stored as queued and
sent after the commit."""

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases import clocks
from cases.models import Case, Message
from casework.exceptions import ActionNotAllowed, ReplyNotPossible
from casework.tasks import send_reply_task
from channels.errors import PermanentSendError
from channels.kinds import KINDS
from channels.registry import platform_channel
from staff.names import display_name


def sign_reply(*, text: str, channel: str, agent: User) -> str:
    """The reply text as the customer will see it, with the agent's signature or sign-off."""
    profile = getattr(agent, "agent_profile", None)
    text = text.strip()
    kind = KINDS.get(channel)
    if kind is not None and kind.short_signature:
        return f"{text} {profile.signature}" if profile and profile.signature else text
    return f"{text}\n\n{profile.sign_off}" if profile and profile.sign_off else text


def queue_reply(
    *, case: Case, agent: User, text: str, answering: Message | None = None
) -> Message:
    """Store an agent's reply as queued, on the channel of the message it answers (by default
    the case's latest customer message), and send it once the transaction commits.

    Raises ``ReplyNotPossible`` when the case has nothing to answer or the text is empty.
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
            subject=_reply_subject(case, answering),
            sent_at=now,
            delivery_status=Message.Delivery.QUEUED,
            delivery_next_attempt_at=now,
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


def _reply_subject(case: Case, answering: Message) -> str:
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
