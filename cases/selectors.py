"""Reads of the case record that the domain's services share: following merges, a customer's
active and latest case, a case's whole history."""

from dataclasses import dataclass

from django.db.models.expressions import RawSQL

from cases.models import Case, CaseEvent, Message
from customers.models import Customer, Identity

# The merge page compares this many of each customer's latest messages.
HISTORY_MESSAGES = 100


def live_case(case: Case) -> Case:
    """The case that ``case`` was folded into, at any depth; ``case`` itself if it was not."""
    while case.merged_into is not None:
        case = case.merged_into
    return case


def active_case(customer: Customer) -> Case | None:
    """The customer's one case that is not closed, if any."""
    return customer.cases.exclude(status=Case.Status.CLOSED).first()


def latest_case(customer: Customer) -> Case | None:
    return customer.cases.order_by("-opened_at", "-pk").first()


def folded_case_ids(case: Case) -> RawSQL:
    """The case and every case folded into it by merges, at any depth, as a subquery for
    ``case__in``: one recursive statement, however deep the merges go."""
    table = Case._meta.db_table
    return RawSQL(
        f"WITH RECURSIVE folded(id) AS (SELECT id FROM {table} WHERE id = %s "
        f"UNION SELECT c.id FROM {table} c JOIN folded f ON c.merged_into_id = f.id) "
        "SELECT id FROM folded",
        (case.pk,),
    )


def case_events(case: Case) -> list[CaseEvent]:
    """The case's history in time order, including that of cases folded into it."""
    return list(
        CaseEvent.objects.filter(case__in=folded_case_ids(case))
        .select_related("actor", "message")
        .order_by("occurred_at", "pk")
    )


# What every queue but Spam shows: no merge tombstones, no spam, nothing closed. The inbox
# indexes (migration 0008) are partial on exactly these conditions, so a page reads only
# the index range it shows; change both together.


@dataclass(frozen=True)
class History:
    customer: Customer
    identities: list[Identity]
    cases: list[Case]
    # The latest ``HISTORY_MESSAGES`` messages, oldest first; ``earlier`` counts the rest.
    messages: list[Message]
    earlier: int


def customer_history(*, customer: Customer) -> History:
    """Everything the brand and the customer wrote, on every case, in time order."""
    messages = Message.objects.filter(case__customer=customer)
    latest = list(
        messages.select_related("author_identity", "author_user__agent_profile").order_by(
            "-sent_at", "-pk"
        )[:HISTORY_MESSAGES]
    )
    earlier = messages.count() - len(latest) if len(latest) == HISTORY_MESSAGES else 0
    return History(
        customer=customer,
        identities=list(customer.identities.order_by("platform", "pk")),
        cases=list(customer.cases.order_by("opened_at", "pk")),
        messages=latest[::-1],
        earlier=earlier,
    )
