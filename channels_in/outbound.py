"""Sending a queued reply through its platform, exactly once."""

import logging

from django.db import transaction

from channels_in.errors import PermanentSendError
from channels_in.locks import exclusive
from channels_in.platforms import OutboundReply, platform_channel
from tickets.models import CaseEvent, Message

logger = logging.getLogger(__name__)


def send_reply(*, message_id: int) -> None:
    """Send a queued reply. Safe to repeat and to redeliver: a reply already sent is left
    alone, and a retry first asks the platform whether an earlier attempt reached it.

    Raises ``TransientSendError`` for the caller to retry; a ``PermanentSendError`` marks the
    reply failed with the platform's reason.
    """
    with exclusive(f"send:{message_id}") as acquired:
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
        Message.objects.filter(pk=message.pk).update(
            delivery_status=Message.Delivery.SENDING,
            delivery_attempts=message.delivery_attempts + 1,
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
        _record_sent(message, external_id)


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
    )


def _record_sent(message: Message, external_id: str) -> None:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            external_id=external_id, delivery_status=Message.Delivery.SENT, delivery_error=""
        )
        CaseEvent.objects.create(
            case=message.case,
            kind=CaseEvent.Kind.REPLY_SENT,
            occurred_at=message.sent_at,
            actor=message.author_user,
            message=message,
            data={"channel": message.channel, "external_id": external_id},
        )


def fail_reply(*, message_id: int, error: str) -> None:
    """Mark a reply failed, with the reason shown to the agent next to a retry button."""
    logger.warning("Reply %s failed: %s", message_id, error)
    Message.objects.filter(pk=message_id).exclude(delivery_status=Message.Delivery.SENT).update(
        delivery_status=Message.Delivery.FAILED, delivery_error=error
    )


def retry_reply(*, message_id: int) -> None:
    """Queue a failed reply again (the agent's retry button)."""
    from channels_in.tasks import send_reply_task

    with transaction.atomic():
        updated = Message.objects.filter(
            pk=message_id, delivery_status=Message.Delivery.FAILED
        ).update(delivery_status=Message.Delivery.QUEUED, delivery_error="")
        if updated:
            transaction.on_commit(lambda: send_reply_task.delay(message_id))
