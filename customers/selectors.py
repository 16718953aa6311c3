"""Reads about customers for merging: finding one by name, handle or email address, a
customer's history to compare with another's, and what links two customers."""

from dataclasses import dataclass
from typing import Any

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Concat, Replace

from careinbox.prepared import PreparedRead, columns, instance
from channels.models import Platform
from customers.evidence import Kind
from customers.models import Customer, Evidence, Identity, MergeSuggestion

SEARCH_MIN_LENGTH = 2
SEARCH_RESULTS = 20
SUGGESTIONS_SHOWN = 3
# The side-by-side page shows each customer's latest messages; older ones are counted.

EVIDENCE_LABELS = {
    Kind.REFERENCE: "Order or account number",
    Kind.HANDLE: "X handle",
    Kind.EMAIL: "Email address",
    Kind.PHONE: "Phone number",
    Kind.NAME: "Name",
    Kind.POSTCODE: "Postcode",
    Kind.CASE: "Case number",
}
# What a suggestion's evidence says matched, on its card.
MATCHED = {
    Kind.REFERENCE: "Same order or account number",
    Kind.HANDLE: "Their X handle named in a message",
    Kind.EMAIL: "Same email address",
    Kind.PHONE: "Same phone number",
    Kind.POSTCODE: "Same postcode area",
    Kind.CASE: "Same case number",
}
# Shared values worth showing: a name alone is shown by the suggestion score, not here.
SHARED_KINDS = [Kind.REFERENCE, Kind.EMAIL, Kind.PHONE, Kind.POSTCODE, Kind.CASE]


@dataclass(frozen=True)
class EvidenceShown:
    kind: str
    value: str

    @property
    def label(self) -> str:
        return EVIDENCE_LABELS.get(self.kind, self.kind.capitalize())

    @property
    def matched(self) -> str:
        """What matched, in words: "Same phone number", "Similar name"."""
        if self.kind == Kind.NAME:
            # linking records "name ~ other name" for names alike but not equal.
            return "Similar name" if " ~ " in self.value else "Same name"
        return MATCHED.get(self.kind, self.label)


def shown_handle(identity: Identity) -> str:
    """How agents recognise an identity: @handle on X, the address for email."""
    if identity.platform == Platform.EMAIL:
        return identity.external_id
    if identity.platform == Platform.X and identity.handle:
        return f"@{identity.handle}"
    return identity.handle or identity.display_name or identity.external_id


@dataclass(frozen=True)
class IdentityShown:
    platform: str
    platform_label: str  # "X", "Facebook", "Email"
    handle: str  # as shown_handle gives it

    @classmethod
    def of(cls, identity: Identity) -> "IdentityShown":
        return cls(identity.platform, Platform(identity.platform).label, shown_handle(identity))


@dataclass(frozen=True)
class SuggestionRow:
    """An open suggestion seen from one customer: the other customer, where they write
    from, and the evidence."""

    suggestion: MergeSuggestion
    other: Customer
    evidence: list[EvidenceShown]
    identities: list[IdentityShown]


def shown_evidence(suggestion: MergeSuggestion) -> list[EvidenceShown]:
    return [EvidenceShown(e["kind"], e["value"]) for e in suggestion.evidence]


# An identity's fields, and identities, as one string in the suggestions' row, joined with
# control characters that are first taken out of the fields.
FIELD, RECORD = "\x1f", "\x1e"
IDENTITY_FIELDS = ["platform", "handle", "display_name", "external_id"]


def _field(name: str) -> Replace:
    return Replace(Replace(F(name), Value(FIELD), Value("")), Value(RECORD), Value(""))


def _identities_of(side: str) -> Subquery:
    """The identities of the suggestion's ``side`` ("customer_a") as one string."""
    parts: list[Any] = []
    for name in IDENTITY_FIELDS:
        parts += [Value(FIELD), _field(name)] if parts else [_field(name)]
    joined = Concat(*parts)
    return Subquery(
        Identity.objects.filter(customer=OuterRef(side))
        .values("customer")
        .annotate(shown=StringAgg(joined, Value(RECORD)))
        .values("shown")
    )


def _identities_from(shown: str | None) -> list["IdentityShown"]:
    identities = []
    for record in (shown or "").split(RECORD):
        if record:
            identity = Identity(**dict(zip(IDENTITY_FIELDS, record.split(FIELD), strict=True)))
            identities.append(IdentityShown.of(identity))
    # In the order of the customer card (not every database orders within an aggregate).
    return sorted(identities, key=lambda i: (i.platform, i.handle))


# The case page shows them on every view: compiled once (careinbox.prepared).
SHOWN_SUGGESTIONS = PreparedRead(
    lambda customer_id: (
        MergeSuggestion.objects.filter(
            Q(customer_a=customer_id) | Q(customer_b=customer_id),
            status=MergeSuggestion.Status.OPEN,
            customer_a__merged_into__isnull=True,
            customer_b__merged_into__isnull=True,
        )
        .values(
            *columns(MergeSuggestion),
            *columns(Customer, "customer_a__"),
            *columns(Customer, "customer_b__"),
            identities_a=_identities_of("customer_a"),
            identities_b=_identities_of("customer_b"),
        )
        .order_by("-score", "pk")[:SUGGESTIONS_SHOWN]
    ),
    customer_id=int,
)


def suggestion_rows(*, customer: Customer) -> list[SuggestionRow]:
    """The customer's open suggestions, best first, at most ``SUGGESTIONS_SHOWN``.
    Holds the other customer's name, identities and the evidence, never their messages. One
    query."""
    rows = []
    for row in SHOWN_SUGGESTIONS.rows(customer_id=customer.pk):
        suggestion = instance(MergeSuggestion, row)
        assert suggestion is not None
        side = "b" if suggestion.customer_a_id == customer.pk else "a"
        other = instance(Customer, row, f"customer_{side}__")
        assert other is not None
        identities = _identities_from(row[f"identities_{side}"])
        rows.append(SuggestionRow(suggestion, other, shown_evidence(suggestion), identities))
    return rows


def suggestions_about(*, customer: Customer) -> QuerySet[MergeSuggestion]:
    """Every suggestion, in any status, that concerns ``customer``: ids in URLs are looked up
    here, so a suggestion about other people is not found."""
    return MergeSuggestion.objects.filter(Q(customer_a=customer) | Q(customer_b=customer))


def pair_suggestion(*, a: Customer, b: Customer) -> MergeSuggestion | None:
    """The suggestion about these two customers, whatever its status; None if never made."""
    low, high = sorted((a.pk, b.pk))
    return (
        MergeSuggestion.objects.filter(customer_a_id=low, customer_b_id=high)
        .select_related("decided_by")
        .first()
    )


def shared_evidence(*, a: Customer, b: Customer) -> list[EvidenceShown]:
    """References, addresses, phone numbers and postcodes both customers wrote, and X
    handles of one that the other named."""
    mine = set(
        Evidence.objects.filter(identity__customer=a, kind__in=SHARED_KINDS).values_list(
            "kind", "value"
        )
    )
    theirs = set(
        Evidence.objects.filter(identity__customer=b, kind__in=SHARED_KINDS).values_list(
            "kind", "value"
        )
    )
    shared = {EvidenceShown(kind, value) for kind, value in mine & theirs}
    # Only handles written off X: on X, "@someone" addresses another person.
    for named_by, owner in ((a, b), (b, a)):
        handles = [
            h.lower()
            for h in owner.identities.filter(platform=Platform.X)
            .exclude(handle="")
            .values_list("handle", flat=True)
        ]
        named = (
            Evidence.objects.filter(identity__customer=named_by, kind=Kind.HANDLE)
            .exclude(identity__platform=Platform.X)
            .filter(value__in=handles)
        )
        for value in named.values_list("value", flat=True):
            shared.add(EvidenceShown(Kind.HANDLE, f"@{value}"))
    order = [*SHARED_KINDS, Kind.HANDLE]
    return sorted(shared, key=lambda e: (order.index(e.kind), e.value))


def search_customers(
    *, query: str, excluding: Customer, among: QuerySet[Any] | None = None
) -> list[Customer]:
    """Live customers other than ``excluding`` whose name, X handle, email address or
    profile name contains ``query``, and whose id is ``among`` these (a query of customer
    ids; None for all); at most ``SEARCH_RESULTS``, by name."""
    query = query.strip()
    if len(query) < SEARCH_MIN_LENGTH:
        return []
    handle = query.lstrip("@") or query
    matches = (
        Q(display_name__icontains=query)
        | Q(identities__display_name__icontains=query)
        | Q(identities__handle__icontains=handle)
        | Q(identities__platform=Platform.EMAIL, identities__external_id__icontains=query)
    )
    found = Customer.objects.filter(matches, merged_into__isnull=True)
    if among is not None:
        found = found.filter(pk__in=among)
    ids = found.exclude(pk=excluding.pk).values("pk").distinct()
    return list(
        Customer.objects.filter(pk__in=ids)
        .prefetch_related(
            Prefetch("identities", queryset=Identity.objects.order_by("platform", "pk"))
        )
        .order_by("display_name", "pk")[:SEARCH_RESULTS]
    )


def merge_order(*, a: Customer, b: Customer) -> tuple[Customer, Customer]:
    """``(source, target)``: the newer customer merges into the older, as suggestions do."""
    newer, older = sorted((a, b), key=lambda c: (c.created_at, c.pk))[::-1]
    return newer, older


def open_suggestions(*, customer: Customer) -> list[MergeSuggestion]:
    """The customer's open suggestions with another live customer, best first."""
    return list(
        MergeSuggestion.objects.filter(
            Q(customer_a=customer) | Q(customer_b=customer),
            status=MergeSuggestion.Status.OPEN,
            customer_a__merged_into__isnull=True,
            customer_b__merged_into__isnull=True,
        )
        .select_related("customer_a", "customer_b")
        .order_by("-score", "pk")
    )


def live_customer(customer_id: int) -> Customer:
    """The customer that ``customer_id`` was merged into, at any depth; itself if it was not."""
    customer = Customer.objects.get(pk=customer_id)
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer
