"""One customer across channels: evidence read from new messages, automatic links on strong
evidence, scored suggestions for the rest, and an agent's decision on each suggestion.

Strong evidence, linked without asking: an X or Facebook message stating the exact address of
an email identity, or a customer quoting a case or order reference that the brand itself sent
to another customer. Everything weaker only becomes a ``MergeSuggestion``.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Q

from cases.bulk import RowMaker
from cases.models import Message
from casework import merge
from casework.exceptions import MergeNotAllowed, MergeNotPermitted, SuggestionClosed
from channels.inbound import InboundMessage
from channels.kinds import KINDS
from channels.models import Platform
from customers import evidence
from customers.evidence import Kind
from customers.models import Customer, Evidence, Identity, MergeSuggestion
from customers.selectors import (
    SUGGESTIONS_SHOWN,
    live_customer,
    merge_order,
    open_suggestions,
)

logger = logging.getLogger(__name__)

# Suggestions below this score are not worth an agent's attention.
MIN_SUGGESTION_SCORE = 0.4
# Near-identical names count only for customers who wrote within this long of each other.
NAME_WINDOW = timedelta(days=3)
# What each kind of weak evidence is worth on its own; kinds combine as independent signals.
WEIGHTS = {
    Kind.REFERENCE: 0.9,
    Kind.HANDLE: 0.9,
    Kind.EMAIL: 0.8,
    Kind.PHONE: 0.8,
    # Scaled by how alike the names are (1 for the same full name).
    Kind.NAME: 0.5,
    # Only together with a similar name: neighbours share postcodes.
    Kind.POSTCODE: 0.4,
}
SOCIAL_PLATFORMS = (Platform.X, Platform.FACEBOOK)
# Brand messages only their customer saw, and that reached them or may have: a reference in
# a public reply is known to anyone, and a queued or failed reply reached nobody.
SENT_PRIVATELY = Q(
    channel__in=[key for key, kind in KINDS.items() if not kind.public],
    delivery_status__in=["", Message.Delivery.SENT, Message.Delivery.SENDING],
)


_new_evidence = RowMaker(Evidence)


def name_evidence(*, message: Message, inbound: InboundMessage) -> list[Evidence]:
    """The sender's display name as this message gave it, as an unsaved row: stored by
    ingest in its transaction, as the name may change with the sender's next message."""
    assert message.author_identity is not None
    name = evidence.normalise_name(inbound.author.display_name)
    if not name:
        return []
    return [
        _new_evidence(
            message=message, identity=message.author_identity, kind=Kind.NAME, value=name
        )
    ]


def record_text_evidence(messages: list[Message]) -> None:
    """Store what the texts of new customer messages say about their senders (addresses,
    handles, references, phone numbers, postcodes). Linking does it, after ingest: the
    messages' texts never change, and reading them is most of a message's cost. It is
    committed before linking compares it, so that of two batches linked at once, the later
    to compare sees what the other found. Safe to repeat."""
    rows = [
        Evidence(message=message, identity=_author(message), kind=f.kind, value=f.value[:320])
        for message in messages
        for f in evidence.extract(
            text=message.text,
            subject=message.subject,
            brand_identities=settings.CAREINBOX_BRAND_IDENTITIES,
            reference_patterns=settings.CAREINBOX_REFERENCE_PATTERNS,
            phone_region=settings.CAREINBOX_PHONE_REGION,
        )
    ]
    Evidence.objects.bulk_create(rows, ignore_conflicts=True)


def link_customers_of(*, message_ids: Iterable[int]) -> None:
    """Link the customers of a batch of new messages: each message's strong evidence first,
    read for the whole batch at once, then each customer's suggestions once. A failure is
    logged and found again with the customer's next message, and never stops the others."""
    linked: set[int] = set()
    messages = _messages(message_ids)
    record_text_evidence(messages)
    for message, links in _strong_links(messages).items():
        try:
            linked.add(_merge_linked(message, links) if links else _author(message).customer_id)
        except Exception:
            logger.exception("Could not link the customer of message %s.", message.pk)
    refreshed: set[int] = set()
    for customer in Customer.objects.filter(pk__in=linked).order_by("pk"):
        if customer.merged_into_id is not None:
            customer = live_customer(customer.pk)
        if customer.pk in refreshed:
            continue
        refreshed.add(customer.pk)
        try:
            refresh_suggestions(customer=customer)
        except Exception:
            logger.exception("Could not refresh the suggestions of customer %s.", customer.pk)


def link_customers_for(*, message_id: int) -> Customer:
    """Merge the customer of an inbound message with every customer the message strongly
    ties them to, then refresh their suggestions. Returns the customer. Safe to repeat."""
    messages = _messages([message_id])
    if not messages:
        raise ValueError(f"Message {message_id} has no customer author; nothing to link.")
    record_text_evidence(messages)
    ((message, links),) = _strong_links(messages).items()
    customer = live_customer(_merge_linked(message, links))
    refresh_suggestions(customer=customer)
    return customer


def _messages(message_ids: Iterable[int]) -> list[Message]:
    """The customers' messages among ``message_ids``, with their authors."""
    return list(
        Message.objects.filter(pk__in=list(message_ids), author_identity__isnull=False)
        .select_related("author_identity")
        .order_by("pk")
    )


@dataclass(frozen=True)
class Link:
    customer_id: int
    reason: str


def _merge_linked(message: Message, links: list[Link]) -> int:
    """Merge the message's customer with every customer its strong evidence names; returns
    the merged customer's id."""
    customer = live_customer(_author(message).customer_id)
    for link in links:
        other = live_customer(link.customer_id)
        if other.pk == customer.pk:
            continue
        source, target = merge_order(a=customer, b=other)
        try:
            customer = merge.merge_customers(source=source, target=target, reason=link.reason)
        except MergeNotAllowed:
            # A concurrent merge got there first; the next message links what is left.
            logger.info("Skipped link of customers %s and %s", source.pk, target.pk, exc_info=True)
            customer = live_customer(customer.pk)
        else:
            MergeSuggestion.objects.filter(_pair_q(source.pk, target.pk)).update(
                status=MergeSuggestion.Status.MERGED
            )
    return customer.pk


def _strong_links(messages: list[Message]) -> dict[Message, list[Link]]:
    """Each message's strong links, with a constant number of queries for the batch."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for message_id, kind, value in Evidence.objects.filter(message__in=messages).values_list(
        "message", "kind", "value"
    ):
        found[message_id].append((kind, value))
    links: dict[Message, list[Link]] = {m: [] for m in messages}
    _stated_addresses(messages, found, links)
    _quoted_references(messages, found, links)
    return links


def _author(message: Message) -> Identity:
    assert message.author_identity is not None  # _messages: customers' messages only
    return message.author_identity


def _stated_addresses(messages: list[Message], found: dict, links: dict) -> None:
    """An email address stated on X or Facebook that is an email identity, either way round:
    the social message names the email customer, and the email's sender was named before."""
    social = [m for m in messages if _author(m).platform in SOCIAL_PLATFORMS]
    stated = {v for m in social for k, v in found[m.pk] if k == Kind.EMAIL}
    by_address = {
        i.external_id: i
        for i in Identity.objects.filter(platform=Platform.EMAIL, external_id__in=stated)
    }
    for message in social:
        for kind, value in found[message.pk]:
            if kind == Kind.EMAIL and value in by_address:
                links[message].append(
                    Link(
                        by_address[value].customer_id,
                        f"Linked automatically: {message.author_identity} gave the email "
                        f"address {value} in message {message.external_id}.",
                    )
                )
    mailed = [m for m in messages if _author(m).platform == Platform.EMAIL]
    if not mailed:
        return
    giving = defaultdict(list)
    for row in Evidence.objects.filter(
        kind=Kind.EMAIL,
        value__in={_author(m).external_id for m in mailed},
        identity__platform__in=SOCIAL_PLATFORMS,
    ).select_related("identity", "message"):
        giving[row.value].append(row)
    for message in mailed:
        address = _author(message).external_id
        for row in giving[address]:
            links[message].append(
                Link(
                    row.identity.customer_id,
                    f"Linked automatically: {row.identity} gave the email address "
                    f"{address} in message {row.message.external_id}.",
                )
            )


def _quoted_references(messages: list[Message], found: dict, links: dict) -> None:
    """A case number or order reference the brand sent privately to another customer."""
    quoted = {
        (kind, value)
        for m in messages
        for kind, value in found[m.pk]
        if kind in (Kind.CASE, Kind.REFERENCE)
    }
    if not quoted:
        return
    matching = Q(pk__in=[])
    for kind, value in quoted:
        if kind == Kind.CASE:
            shown = f"[#{value}]"
            matching |= Q(case_id=int(value)) & (
                Q(subject__contains=shown) | Q(text__contains=shown)
            )
        else:
            matching |= Q(subject__icontains=value) | Q(text__icontains=value)
    sent = list(
        Message.objects.filter(
            SENT_PRIVATELY, matching, direction=Message.Direction.OUTBOUND
        ).values_list("case_id", "subject", "text", "case__customer_id")
    )
    for message in messages:
        for kind, value in found[message.pk]:
            if kind == Kind.CASE:
                shown = f"[#{value}]"
                to = {c for case, s, t, c in sent if case == int(value) and shown in f"{s}\n{t}"}
            elif kind == Kind.REFERENCE:
                shown = value
                to = {c for _, s, t, c in sent if value.lower() in f"{s}\n{t}".lower()}
            else:
                continue
            for customer_id in sorted(to):
                links[message].append(
                    Link(
                        customer_id,
                        f"Linked automatically: {message.author_identity} quoted {kind} "
                        f"{shown}, which the brand sent to customer {customer_id}.",
                    )
                )


def _pair_q(x: int, y: int) -> Q:
    a, b = sorted((x, y))
    return Q(customer_a_id=a, customer_b_id=b)


@dataclass
class Candidate:
    scores: dict[str, float]
    evidence: list[dict[str, str]]

    @property
    def score(self) -> float:
        miss = 1.0
        for s in self.scores.values():
            miss *= 1 - s
        return round(1 - miss, 3)


def suggestion_candidates(*, customer: Customer) -> dict[int, Candidate]:
    """Other live customers who may be this one, keyed by id, with scored evidence."""
    mine = list(
        Evidence.objects.filter(identity__customer=customer).values_list(
            "kind", "value", "message__sent_at"
        )
    )
    identities = list(customer.identities.all())
    candidates: dict[int, Candidate] = defaultdict(lambda: Candidate({}, []))

    def note(other_id: int, kind: str, score: float, shown: dict[str, str]) -> None:
        if other_id == customer.pk or score <= 0:
            return
        cand = candidates[other_id]
        if score > cand.scores.get(kind, 0):
            cand.scores[kind] = score
        if shown not in cand.evidence:
            cand.evidence.append(shown)

    others = Evidence.objects.exclude(identity__customer=customer)
    # The same reference, phone number or stated address as another customer.
    for kind in (Kind.REFERENCE, Kind.PHONE, Kind.EMAIL):
        values = {v for k, v, _ in mine if k == kind}
        for other_id, value in set(
            others.filter(kind=kind, value__in=values).values_list("identity__customer", "value")
        ):
            note(other_id, kind, WEIGHTS[kind], {"kind": kind, "value": value})
    # A handle named in a message, and the X identity that has it, either way round.
    # Only handles written off X: on X, "@someone" addresses another person.
    named = set(
        Evidence.objects.filter(identity__customer=customer, kind=Kind.HANDLE)
        .exclude(identity__platform=Platform.X)
        .values_list("value", flat=True)
    )
    same_handle = Q(pk__in=[])
    for handle in named:
        same_handle |= Q(handle__iexact=handle)
    for other in Identity.objects.filter(same_handle, platform=Platform.X).exclude(
        customer=customer
    ):
        note(other.customer_id, Kind.HANDLE, WEIGHTS[Kind.HANDLE], _shown(Kind.HANDLE, other))
    own_handles = [i.handle.lower() for i in identities if i.platform == Platform.X and i.handle]
    for row in (
        others.filter(kind=Kind.HANDLE, value__in=own_handles)
        .exclude(identity__platform=Platform.X)
        .select_related("identity")
    ):
        note(row.identity.customer_id, Kind.HANDLE, WEIGHTS[Kind.HANDLE], _handle_shown(row))
    _note_similar_names(customer, mine, identities, note)
    return {
        other_id: cand
        for other_id, cand in candidates.items()
        if cand.score >= MIN_SUGGESTION_SCORE
    }


def _shown(kind: str, identity: Identity) -> dict[str, str]:
    return {"kind": kind, "value": f"@{identity.handle}"}


def _handle_shown(row: Evidence) -> dict[str, str]:
    return {"kind": Kind.HANDLE, "value": f"@{row.value}"}


def _note_similar_names(customer, mine, identities, note) -> None:
    """Near-identical names of customers who wrote within ``NAME_WINDOW`` of each other;
    a shared postcode adds to a similar name, never counts alone."""
    names = {v for k, v, _ in mine if k == Kind.NAME} | {
        evidence.normalise_name(i.display_name) for i in identities if i.display_name
    }
    names.discard("")
    times = [at for _, _, at in mine]
    if not names or not times:
        return
    handles = [i.handle for i in identities if i.platform == Platform.X]
    start, end = min(times) - NAME_WINDOW, max(times) + NAME_WINDOW
    initials = {n[0] for n in names}
    rows = (
        Evidence.objects.filter(kind=Kind.NAME, message__sent_at__range=(start, end))
        .exclude(identity__customer=customer)
        .filter(_starts_with_any(initials))
        .values_list("identity__customer", "value", "identity__platform", "identity__handle")
        .distinct()
    )
    best: dict[int, tuple[float, str, str]] = {}
    for other_id, other_name, platform, other_handle in rows:
        for name in names:
            handle_b = other_handle if platform == Platform.X else ""
            similarity = max(
                [evidence.name_similarity(name, other_name, handle_b=handle_b)]
                + [
                    evidence.name_similarity(name, other_name, handle_a=h, handle_b=handle_b)
                    for h in handles
                ]
            )
            if similarity > best.get(other_id, (0.0, "", ""))[0]:
                best[other_id] = (similarity, name, other_name)
    if not best:
        return
    my_codes = {evidence.outward(v) for k, v, _ in mine if k == Kind.POSTCODE}
    shared_codes: dict[int, set[str]] = defaultdict(set)
    for other_id, value in Evidence.objects.filter(
        kind=Kind.POSTCODE, identity__customer__in=list(best)
    ).values_list("identity__customer", "value"):
        if evidence.outward(value) in my_codes:
            shared_codes[other_id].add(evidence.outward(value))
    for other_id, (similarity, name, other_name) in best.items():
        shown = name if name == other_name else f"{name} ~ {other_name}"
        note(other_id, Kind.NAME, WEIGHTS[Kind.NAME] * similarity, _evidence("name", shown))
        for code in sorted(shared_codes[other_id]):
            note(other_id, Kind.POSTCODE, WEIGHTS[Kind.POSTCODE], _evidence("postcode", code))


def _evidence(kind: str, value: str) -> dict[str, str]:
    return {"kind": kind, "value": value}


def _starts_with_any(initials: Iterable[str]) -> Q:
    q = Q()
    for initial in initials:
        q |= Q(value__startswith=initial)
    return q


def refresh_suggestions(*, customer: Customer) -> list[MergeSuggestion]:
    """Compute this customer's suggestions again and store them; a dismissed or merged pair
    stays as decided. Returns the customer's open suggestions, best first (top
    ``SUGGESTIONS_SHOWN``). Safe to repeat and to race."""
    for other_id, cand in suggestion_candidates(customer=customer).items():
        a, b = sorted((customer.pk, other_id))
        fields = {"score": cand.score, "evidence": sorted(cand.evidence, key=_strength)}
        try:
            with transaction.atomic():
                row, created = MergeSuggestion.objects.select_for_update().get_or_create(
                    customer_a_id=a, customer_b_id=b, defaults=fields
                )
                if not created and row.status == MergeSuggestion.Status.OPEN:
                    MergeSuggestion.objects.filter(pk=row.pk).update(**fields)
        except IntegrityError:
            # A concurrent refresh stored the pair first; its figures are as good as ours.
            continue
    return open_suggestions(customer=customer)[:SUGGESTIONS_SHOWN]


def _strength(shown: dict[str, str]) -> tuple[float, str]:
    return (-WEIGHTS.get(shown["kind"], 0), shown["value"])


def may_merge(user: User | AnonymousUser) -> bool:
    """Whether ``user`` may merge customers: those with the merge permission (supervisors,
    admins) always, agents too when ``CAREINBOX_AGENTS_MAY_MERGE`` is on."""
    if not user.is_authenticated or not user.is_active:
        return False
    if settings.CAREINBOX_AGENTS_MAY_MERGE and user.has_perm("cases.work_case"):
        return True
    return user.has_perm("cases.merge_customer")


def dismiss_suggestion(*, suggestion_id: int, by: User) -> MergeSuggestion:
    """Mark a suggestion dismissed: the pair is never suggested again. Safe to repeat;
    raises ``SuggestionClosed`` if it was merged."""
    with transaction.atomic():
        suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion_id)
        if suggestion.status == MergeSuggestion.Status.MERGED:
            raise SuggestionClosed(
                f"Suggestion {suggestion_id} was already merged; split the customers instead."
            )
        suggestion.status = MergeSuggestion.Status.DISMISSED
        suggestion.decided_by = by
        suggestion.save(update_fields=["status", "decided_by", "updated_at"])
    return suggestion


def confirm_suggestion(*, suggestion_id: int, by: User) -> Customer:
    """Merge the two customers of an open suggestion (the newer into the older), with the
    evidence and ``by`` in the merge event. Returns the merged customer.

    Raises ``MergeNotPermitted`` when ``by`` may not merge (``may_merge``),
    ``SuggestionClosed`` when the suggestion was already decided.
    """
    if not may_merge(by):
        raise MergeNotPermitted(
            f"User {by.get_username()} may not merge customers; ask a supervisor to confirm "
            f"suggestion {suggestion_id}."
        )
    suggestion = MergeSuggestion.objects.get(pk=suggestion_id)
    if suggestion.status != MergeSuggestion.Status.OPEN:
        raise SuggestionClosed(f"Suggestion {suggestion_id} is already {suggestion.status}.")
    a, b = live_customer(suggestion.customer_a_id), live_customer(suggestion.customer_b_id)
    source, target = merge_order(a=a, b=b)
    shown = "; ".join(f"{e['kind']} {e['value']}" for e in suggestion.evidence)
    with transaction.atomic():
        claimed = MergeSuggestion.objects.filter(
            pk=suggestion_id, status=MergeSuggestion.Status.OPEN
        ).update(status=MergeSuggestion.Status.MERGED, decided_by=by)
        if claimed != 1:
            raise SuggestionClosed(f"Suggestion {suggestion_id} was decided meanwhile.")
        if source.pk == target.pk:
            return target
        customer = merge.merge_customers(
            source=source,
            target=target,
            actor=by,
            reason=f"Suggestion {suggestion_id} confirmed by {by.get_username()}: {shown}.",
        )
    refresh_suggestions(customer=customer)
    return customer
