"""Ingest: attach customer messages to their customers' cases."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from cases import clocks, history
from cases.models import Attachment, Case, CaseEvent, Message
from cases.sanitise import sanitise_html
from cases.selectors import active_case, latest_case, live_case
from cases.services import change_status
from casework import assignment, linking, routing
from channels.inbound import InboundAuthor, InboundMessage
from channels.models import ChannelAccount, Platform
from customers.models import Customer, Identity
from notifications.models import Notification
from notifications.services import notify

SUBJECT_FROM_TEXT_CHARS = 120


@dataclass(frozen=True)
class IngestResult:
    message: Message
    duplicate: bool


def ingest_message(*, account: ChannelAccount, inbound: InboundMessage) -> IngestResult:
    """Attach one customer message to its customer's case. Safe to repeat and to race.

    A message already stored for this account is returned untouched (``duplicate=True``).
    """
    if existing := _stored_message(account, inbound.external_id):
        return IngestResult(message=existing, duplicate=True)
    with transaction.atomic():
        identity = _identity_for(inbound.platform, inbound.author, seen_at=inbound.sent_at)
        # The customer row lock serialises everything that touches this customer's cases:
        # two deliveries of one message, two messages opening a case, a merge. Rows a merge
        # also locks (the identity) are written only after it, so the two cannot deadlock.
        customer = _lock_customer(identity)
        _refresh_profile(identity, inbound.author, seen_at=inbound.sent_at)
        if existing := _stored_message(account, inbound.external_id):
            return IngestResult(message=existing, duplicate=True)
        parent = _stored_parent(account, inbound.in_reply_to)
        if inbound.automated:
            case, how = _case_for_automated(customer, sent_at=inbound.sent_at)
        else:
            thread = parent.case if parent else _referenced_case(customer, inbound.case_reference)
            case, how = _case_for(customer, thread=thread, sent_at=inbound.sent_at)
        message = Message.objects.create(
            case=case,
            direction=Message.Direction.INBOUND,
            channel_account=account,
            channel=inbound.channel,
            external_id=inbound.external_id,
            in_reply_to_external_id=inbound.in_reply_to[0] if inbound.in_reply_to else "",
            parent=parent,
            author_identity=identity,
            text=inbound.text,
            html=sanitise_html(inbound.html),
            subject=inbound.subject,
            automated=inbound.automated,
            sent_at=inbound.sent_at,
            raw_payload=inbound.raw,
        )
        _store_attachments(message, inbound)
        linking.record_evidence(message=message, inbound=inbound)
        _record_inbound(case, message, how=how)
        # Replies that arrived before this message (a poll pages newest first) point at it now.
        Message.objects.filter(
            channel_account=account,
            in_reply_to_external_id=inbound.external_id,
            parent__isnull=True,
        ).update(parent=message)
    return IngestResult(message=message, duplicate=False)


def _stored_message(account: ChannelAccount, external_id: str) -> Message | None:
    return Message.objects.filter(channel_account=account, external_id=external_id).first()


def _stored_parent(account: ChannelAccount, references: tuple[str, ...]) -> Message | None:
    if not references:
        return None
    found = {
        m.external_id: m
        for m in Message.objects.filter(channel_account=account, external_id__in=references)
    }
    return next((found[ref] for ref in references if ref in found), None)


def _profile(author: InboundAuthor) -> dict[str, Any]:
    return {
        "handle": author.handle,
        "display_name": author.display_name,
        "follower_count": author.follower_count,
        "avatar_url": author.avatar_url,
    }


def _identity_for(platform: Platform, author: InboundAuthor, *, seen_at: datetime) -> Identity:
    """Find the identity, or create it with a new customer for it."""
    identity = Identity.objects.filter(platform=platform, external_id=author.external_id).first()
    if identity is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    display_name=author.display_name or author.handle or author.external_id
                )
                return Identity.objects.create(
                    customer=customer,
                    platform=platform,
                    external_id=author.external_id,
                    last_seen_at=seen_at,
                    **_profile(author),
                )
        except IntegrityError:
            # A concurrent ingest created it first; its customer is the one to use.
            identity = Identity.objects.get(platform=platform, external_id=author.external_id)
    return identity


def _refresh_profile(identity: Identity, author: InboundAuthor, *, seen_at: datetime) -> None:
    """Show the profile of the identity's newest message, so arrival order does not matter."""
    if seen_at > identity.last_seen_at:
        Identity.objects.filter(pk=identity.pk, last_seen_at__lt=seen_at).update(
            last_seen_at=seen_at, **_profile(author)
        )


def _lock_customer(identity: Identity) -> Customer:
    """Lock the identity's live customer, following merges that happen while waiting."""
    while True:
        customer = Customer.objects.select_for_update().get(pk=identity.customer_id)
        if customer.merged_into_id is None:
            return customer
        identity.refresh_from_db(fields=["customer"])


def _referenced_case(customer: Customer, number: int | None) -> Case | None:
    """The case a customer quoted by number, if it is theirs: typing another customer's case
    number joins nothing."""
    if number is None:
        return None
    return customer.cases.filter(pk=number).first()


def _case_for(customer: Customer, *, thread: Case | None, sent_at: datetime) -> tuple[Case, str]:
    """Choose the case a new message from the (locked) customer joins; ``thread`` is the case
    of the message it replies to, or the case it quotes, if any.

    Returns the case and how it was chosen: "joined", "created", "reopened" or
    "thread_reopened" (a reply in the thread of a resolved case reopens it even after the
    reopen window). A reply to another customer's message never joins their case.
    """
    active = active_case(customer)
    if active is None:
        return _open_case(customer, sent_at), "created"
    if active.status != Case.Status.RESOLVED:
        return active, "joined"
    if thread is not None and live_case(thread).pk == active.pk:
        return active, "thread_reopened"
    if (
        active.resolved_at is None
        or sent_at - active.resolved_at <= settings.CAREINBOX_REOPEN_WINDOW
    ):
        return active, "reopened"
    change_status(
        active,
        Case.Status.CLOSED,
        reason="The reopen window passed before the customer wrote again.",
    )
    return _open_case(customer, sent_at), "created"


def _case_for_automated(customer: Customer, *, sent_at: datetime) -> tuple[Case, str]:
    """An auto-reply or bounce joins the case the customer is in, or their latest one, as it
    stands: it never reopens a case or opens one while the customer has any."""
    case = active_case(customer) or latest_case(customer)
    if case is None:
        return _open_case(customer, sent_at), "created"
    return case, "automated"


def _open_case(customer: Customer, sent_at: datetime) -> Case:
    return Case.objects.create(customer=customer, opened_at=sent_at)


REOPEN_REASONS = {
    "reopened": "The customer wrote again within the reopen window.",
    "thread_reopened": "The customer replied in the thread of this resolved case.",
}


def _record_inbound(case: Case, message: Message, *, how: str) -> None:
    """Update the case's clocks and status for a new customer message and write its history."""
    at = message.sent_at
    if how == "created":
        history.record(case=case, kind=CaseEvent.Kind.CREATED, at=at, message=message)
    elif how == "automated":
        history.record(
            case=case,
            kind=CaseEvent.Kind.MESSAGE_RECEIVED,
            at=at,
            message=message,
            data={"channel": message.channel, "automated": message.automated},
        )
        return  # no clock, status or subject changes: nobody needs to answer a machine
    routed = routing.route(message=message)
    # A message that needs no reply (a closing "thanks!") leaves the status as it is.
    if how in REOPEN_REASONS and message.needs_reply:
        change_status(case, Case.Status.OPEN, reason=REOPEN_REASONS[how], message=message, at=at)
    elif case.status == Case.Status.PENDING and message.needs_reply:
        change_status(
            case, Case.Status.OPEN, reason="The customer answered.", message=message, at=at
        )
    history.record(
        case=case,
        kind=CaseEvent.Kind.MESSAGE_RECEIVED,
        at=at,
        message=message,
        data={"channel": message.channel},
    )
    routing.apply(case=case, message=message, outcome=routed)
    if case.assignee_id is not None:
        author = message.author_identity
        notify(
            recipient_id=case.assignee_id,
            kind=Notification.Kind.NEW_MESSAGE,
            case=case,
            text=f"{author.display_name or author.handle if author else 'The customer'} wrote "
            f"on case #{case.pk}: {message.text[:120]}",
        )
    # Clocks and subject take the extremes of the platform times, so messages that arrive out
    # of order leave the same case behind as messages that arrive in order.
    if case.first_inbound_at is None or at < case.first_inbound_at:
        case.first_inbound_at = at
        case.subject = _subject_of(message)
    case.opened_at = min(case.opened_at, at)
    case.last_inbound_at = max(case.last_inbound_at or at, at)
    case.save(update_fields=["first_inbound_at", "last_inbound_at", "opened_at", "subject"])
    clocks.customer_wrote(case=case, message=message)
    assignment.assign_new_case(case=case)


def _subject_of(message: Message) -> str:
    if message.subject:
        return message.subject[:300]
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else ""
    if len(first_line) <= SUBJECT_FROM_TEXT_CHARS:
        return first_line
    return first_line[: SUBJECT_FROM_TEXT_CHARS - 1].rstrip() + "…"


def _store_attachments(message: Message, inbound: InboundMessage) -> None:
    limit = settings.CAREINBOX_ATTACHMENT_MAX_BYTES
    Attachment.objects.bulk_create(
        Attachment(
            message=message,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            content=a.content if a.size <= limit else b"",
            skipped_reason="" if a.size <= limit else f"Larger than the {limit}-byte limit.",
        )
        for a in inbound.attachments
    )
