"""Merging customers: identities and cases move to one customer, and their two active cases
fold into one."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cases import clocks, history
from cases.models import Case, CaseEvent, Message, Survey
from cases.selectors import active_case, latest_case
from cases.services import change_status
from casework.exceptions import MergeNotAllowed
from customers.models import Customer, Identity


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
        source_case, target_case = active_case(source), active_case(target)
        # The merge is noted on the case each customer is working in, or their latest one.
        noted = [source_case or latest_case(source), target_case or latest_case(target)]
        if source_case and target_case:
            _fold_case(source_case, into=target_case, actor=actor)
        Identity.objects.filter(customer=source).update(customer=target)
        Case.objects.filter(customer=source).update(customer=target)
        # The throttle and the answers read a customer's surveys: they go where the cases go.
        Survey.objects.filter(customer=source).update(customer=target)
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
            history.record(
                case=case,
                kind=CaseEvent.Kind.CUSTOMERS_MERGED,
                at=now,
                actor=actor,
                data=data,
            )
    return target


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
    Survey.objects.filter(case=case).update(case=into)
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
    clocks.recompute(into)
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
