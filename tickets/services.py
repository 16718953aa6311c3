"""Writes to the case record: ingesting customer messages and merging customers."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from channels_in.errors import PermanentSendError
from channels_in.inbound import InboundAuthor, InboundMessage
from channels_in.models import ChannelAccount
from channels_in.platforms import platform_channel
from tickets import assignment, linking, routing, sla
from tickets.exceptions import MergeNotAllowed, ReplyNotPossible
from tickets.models import (
    Attachment,
    Case,
    CaseEvent,
    Customer,
    Identity,
    Message,
    Notification,
    Platform,
)
from tickets.notify import notify
from tickets.sanitise import sanitise_html

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


def _active_case(customer: Customer) -> Case | None:
    return customer.cases.exclude(status=Case.Status.CLOSED).first()


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
    active = _active_case(customer)
    if active is None:
        return _open_case(customer, sent_at), "created"
    if active.status != Case.Status.RESOLVED:
        return active, "joined"
    if thread is not None and _live_case(thread).pk == active.pk:
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
    case = _active_case(customer) or _latest_case(customer)
    if case is None:
        return _open_case(customer, sent_at), "created"
    return case, "automated"


def _live_case(case: Case) -> Case:
    while case.merged_into is not None:
        case = case.merged_into
    return case


def _open_case(customer: Customer, sent_at: datetime) -> Case:
    return Case.objects.create(customer=customer, opened_at=sent_at)


def change_status(
    case: Case,
    status: str,
    *,
    reason: str,
    actor: User | None = None,
    message: Message | None = None,
    at: datetime | None = None,
) -> None:
    """Set the status of a case whose row the caller has locked, and write the history."""
    at = at or timezone.now()
    previous = case.status
    case.status = status
    if status == Case.Status.CLOSED:
        case.closed_at = at
    elif status == Case.Status.RESOLVED:
        case.resolved_at = at
    elif status in (Case.Status.OPEN, Case.Status.NEW):
        case.resolved_at = None
    case.save(update_fields=["status", "closed_at", "resolved_at"])
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.STATUS_CHANGED,
        occurred_at=at,
        actor=actor,
        message=message,
        data={"from": previous, "to": status, "reason": reason},
    )
    sla.recompute(case)


REOPEN_REASONS = {
    "reopened": "The customer wrote again within the reopen window.",
    "thread_reopened": "The customer replied in the thread of this resolved case.",
}


def _record_inbound(case: Case, message: Message, *, how: str) -> None:
    """Update the case's clocks and status for a new customer message and write its history."""
    at = message.sent_at
    if how == "created":
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.CREATED, occurred_at=at, message=message
        )
    elif how == "automated":
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.MESSAGE_RECEIVED,
            occurred_at=at,
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
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.MESSAGE_RECEIVED,
        occurred_at=at,
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
    sla.customer_wrote(case=case, message=message)
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


def merge_customers(
    *,
    source: Customer,
    target: Customer,
    actor: User | None = None,
    reason: str = "",
) -> Customer:
    """Merge ``source`` into ``target``: identities and cases move, the two active cases fold
    into one, and ``source`` stays behind as a tombstone pointing at ``target``.

    Nothing is deleted; messages and events keep their times. Raises ``MergeNotAllowed``.
    """
    if source.pk == target.pk:
        raise MergeNotAllowed(f"Customer {source.pk} cannot be merged into itself.")
    with transaction.atomic():
        # Lock in id order so two merges, or a merge and an ingest, cannot deadlock.
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=[source.pk, target.pk])
            .order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        for customer in (source, target):
            if customer.merged_into_id is not None:
                raise MergeNotAllowed(
                    f"Customer {customer.pk} was already merged into customer "
                    f"{customer.merged_into_id}; merge into that one instead."
                )
        source_case, target_case = _active_case(source), _active_case(target)
        # The merge is noted on the case each customer is working in, or their latest one.
        noted = [source_case or _latest_case(source), target_case or _latest_case(target)]
        if source_case and target_case:
            _fold_case(source_case, into=target_case, actor=actor)
        Identity.objects.filter(customer=source).update(customer=target)
        Case.objects.filter(customer=source).update(customer=target)
        source.merged_into = target
        source.save(update_fields=["merged_into"])

        data = {
            "source_customer": source.pk,
            "target_customer": target.pk,
            "folded_case": source_case.pk if source_case and target_case else None,
            "reason": reason,
        }
        now = timezone.now()
        for case in {c.pk: c for c in noted if c is not None}.values():
            CaseEvent.objects.create(
                case=case,
                kind=CaseEvent.Kind.CUSTOMERS_MERGED,
                occurred_at=now,
                actor=actor,
                data=data,
            )
    return target


def _latest_case(customer: Customer) -> Case | None:
    return customer.cases.order_by("-opened_at", "-pk").first()


# When two active cases fold into one, the result is as urgent and as live as either was.
STATUS_LIVENESS: list[str] = [
    Case.Status.RESOLVED,
    Case.Status.PENDING,
    Case.Status.NEW,
    Case.Status.OPEN,
]
PRIORITY_RANK: list[str] = [
    Case.Priority.LOW,
    Case.Priority.NORMAL,
    Case.Priority.HIGH,
    Case.Priority.URGENT,
]


def _fold_case(case: Case, *, into: Case, actor: User | None) -> None:
    """Move ``case``'s messages into ``into`` and close ``case`` as merged. Its events stay on
    it: history is never rewritten, and ``into``'s timeline includes the folded case's."""
    Message.objects.filter(case=case).update(case=into)
    if case.first_inbound_at and (
        into.first_inbound_at is None or case.first_inbound_at < into.first_inbound_at
    ):
        into.first_inbound_at = case.first_inbound_at
        into.subject = case.subject
    into.last_inbound_at = max(
        filter(None, [into.last_inbound_at, case.last_inbound_at]), default=None
    )
    into.first_response_at = min(
        filter(None, [into.first_response_at, case.first_response_at]), default=None
    )
    into.opened_at = min(into.opened_at, case.opened_at)
    # The folded case's unanswered customer message is still waiting for an answer.
    into.awaiting_reply_since = min(
        filter(None, [into.awaiting_reply_since, case.awaiting_reply_since]), default=None
    )
    into.priority = max(into.priority, case.priority, key=PRIORITY_RANK.index)
    into.assignee_id = into.assignee_id or case.assignee_id
    into.team_id = into.team_id or case.team_id
    into.save()
    sla.recompute(into)
    into.tags.add(*case.tags.all())
    livelier = max(into.status, case.status, key=STATUS_LIVENESS.index)
    if livelier != into.status:
        change_status(
            into, livelier, reason=f"Case {case.pk} was folded into this one.", actor=actor
        )
    case.status = Case.Status.CLOSED
    case.closed_at = timezone.now()
    case.merged_into = into
    case.save(update_fields=["status", "closed_at", "merged_into"])


# Channels whose replies are short and public-facing carry the agent's short signature
# ("^JL"); the others end with the agent's sign-off.
SIGNATURE_CHANNELS = {"x.mention", "x.dm"}


def sign_reply(*, text: str, channel: str, agent: User) -> str:
    """The reply text as the customer will see it, with the agent's signature or sign-off."""
    profile = getattr(agent, "agent_profile", None)
    text = text.strip()
    if channel in SIGNATURE_CHANNELS:
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
    from channels_in.tasks import send_reply_task  # tasks import services; import late

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
        sla.replied(case=case)
        transaction.on_commit(lambda: send_reply_task.delay(reply.pk))
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
