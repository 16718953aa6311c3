"""Sending a queued reply through its platform, exactly once.

A reply's retry schedule lives on its row (``delivery_next_attempt_at``), not in the task
queue, so retries survive a lost task, a dead worker or a broker restart alike:
``retry_due_replies`` picks up every reply whose time has come.
"""

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases import history
from cases.models import CaseEvent, Message
from channels.errors import PermanentSendError, SendRateLimited, TransientSendError
from channels.locks import exclusive
from channels.plug import OutboundFile, OutboundReply
from channels.registry import platform_channel

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8
# A reply still "sending" this long after it was claimed had its worker die under it.
SEND_STALL = timedelta(minutes=5)


def send_reply(*, message_id: int) -> None:
    """Send a queued reply. Safe to repeat and to redeliver: a reply already sent is left
    alone, and any attempt after the first asks the platform whether an earlier attempt
    reached it before posting.

    A transient failure schedules the next attempt (5 s, 10 s, 20 s ... with jitter); a
    permanent one, or the last attempt, marks the reply failed with the platform's reason.
    """
    lock_seconds = settings.CAREINBOX_SEND_LOCK_SECONDS
    with exclusive(f"send:{message_id}", seconds=lock_seconds) as acquired:
        if not acquired:
            return  # another worker is sending it right now
        message = Message.objects.select_related(
            "channel_account", "parent__author_identity", "case"
        ).get(pk=message_id)
        if message.delivery_status not in (Message.Delivery.QUEUED, Message.Delivery.SENDING):
            return
        # An earlier attempt that got as far as the platform may have been accepted there,
        # however it ended here (a killed worker, a timeout on the answer).
        uncertain = message.delivery_attempts > 0
        attempts = message.delivery_attempts + 1
        Message.objects.filter(pk=message.pk).update(
            delivery_status=Message.Delivery.SENDING,
            delivery_attempts=attempts,
            delivery_next_attempt_at=timezone.now() + SEND_STALL,
        )
        account = message.channel_account
        if account is None:
            fail_reply(message_id=message.pk, error="The answered message has no channel account.")
            return
        sender = platform_channel(account.platform).sender
        reply = outbound_reply(message)
        try:
            external_id = sender.find_sent(account, reply) if uncertain else None
            if external_id is None:
                external_id = sender.send(account, reply)
        except PermanentSendError as exc:
            fail_reply(message_id=message.pk, error=str(exc))
            return
        except TransientSendError as exc:
            retry_at = exc.retry_at if isinstance(exc, SendRateLimited) else None
            _schedule_retry(message.pk, attempts, str(exc), not_before=retry_at)
            return
        _record_sent(message, external_id)


def _schedule_retry(
    message_id: int, attempts: int, error: str, *, not_before: datetime | None = None
) -> None:
    """The next attempt after a growing wait, and never before ``not_before``: the time a
    rate-limiting platform said it takes requests again (retrying sooner only spends the
    attempts; a wait the platform imposes is not counted as one)."""
    if not_before is not None:
        attempts -= 1
    elif attempts >= MAX_SEND_ATTEMPTS:
        fail_reply(message_id=message_id, error=f"Gave up after {attempts} tries: {error}")
        return
    delay = timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0))
    next_attempt = timezone.now() + delay
    if not_before is not None:
        next_attempt = max(next_attempt, not_before)
    logger.info(
        "Reply %s failed (try %d), retrying at %s: %s", message_id, attempts, next_attempt, error
    )
    Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.SENDING).update(
        delivery_status=Message.Delivery.QUEUED,
        delivery_error=error,
        delivery_attempts=attempts,
        delivery_next_attempt_at=next_attempt,
    )


def due_replies() -> list[int]:
    """Replies whose next attempt is due: retries, and sends whose worker died."""
    return list(
        Message.objects.filter(
            delivery_status__in=[Message.Delivery.QUEUED, Message.Delivery.SENDING],
            delivery_next_attempt_at__lte=timezone.now(),
        ).values_list("pk", flat=True)
    )


def outbound_reply(message: Message) -> OutboundReply:
    answered = message.parent
    if answered is None or answered.author_identity is None:
        raise PermanentSendError(f"Reply {message.pk} does not answer a customer message.")
    references = [r for r in (answered.external_id, answered.in_reply_to_external_id) if r]
    return OutboundReply(
        message_id=message.pk,
        channel=message.channel,
        text=message.text,
        in_reply_to=answered.external_id or "",
        recipient=answered.author_identity.external_id,
        subject=message.subject,
        references=tuple(references),
        cc=tuple(message.cc),
        attachments=tuple(
            OutboundFile(a.filename, a.content_type, bytes(a.content))
            for a in message.attachments.order_by("pk")
        ),
    )


def _record_sent(message: Message, external_id: str) -> None:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            external_id=external_id,
            delivery_status=Message.Delivery.SENT,
            delivery_error="",
            delivery_next_attempt_at=None,
        )
        if message.automated:
            return  # a survey: no agent's reply, so no "reply sent" in the history or reports
        history.record(
            case=message.case,
            kind=CaseEvent.Kind.REPLY_SENT,
            at=message.sent_at,
            actor=message.author_user,
            message=message,
            data={"channel": message.channel, "external_id": external_id},
        )


def fail_reply(*, message_id: int, error: str) -> None:
    """Mark a reply failed, with the reason shown to the agent next to a retry button."""
    logger.warning("Reply %s failed: %s", message_id, error)
    Message.objects.filter(pk=message_id).exclude(delivery_status=Message.Delivery.SENT).update(
        delivery_status=Message.Delivery.FAILED,
        delivery_error=error,
        delivery_next_attempt_at=None,
    )
