"""Routing at ingest: the enabled rules run on each new customer message, and what they decide
is applied to its case (see ``routing.rules`` for what rules may decide)."""

from dataclasses import dataclass

from cases import history
from cases.models import Case, CaseEvent, Message, Tag
from routing.models import RoutingRule
from routing.rules import Outcome, enabled_rules, evaluate, load_stores


def route(*, message: Message) -> Outcome:
    """Run the enabled rules on a new customer message and mark it if it needs no reply.
    Call before the message changes the case's status; ``apply`` the outcome after its
    history event. One query without rules, up to three with."""
    rules = enabled_rules()
    if not rules:
        return Outcome()
    stores = load_stores() if any(r.names_store or r.team_from_store for r in rules) else []
    outcome = evaluate(rules, message, stores=stores)
    if outcome.no_reply_reason:
        message.needs_reply, message.no_reply_reason = False, outcome.no_reply_reason[:300]
        message.save(update_fields=["needs_reply", "no_reply_reason"])
    return outcome


def apply(*, case: Case, message: Message, outcome: Outcome) -> None:
    """Set the team (of a case without one), raise the priority and add the tags the rules
    chose, and write one "Routed by rules" history event naming the rules and the changes."""
    if not outcome.rules:
        return
    data: dict[str, object] = {"rules": outcome.rules}
    changed = []
    if outcome.team is not None and case.team_id is None:
        case.team = outcome.team
        changed.append("team")
        data["team"] = {"id": outcome.team.pk, "name": outcome.team.name}
        if outcome.store is not None:
            data["store"] = str(outcome.store)
    rank = Case.Priority.values.index
    if outcome.priority and rank(outcome.priority) > rank(case.priority):
        data["priority"] = {"from": case.priority, "to": outcome.priority}
        case.priority = outcome.priority
        changed.append("priority")
    if changed:
        case.save(update_fields=changed)
    if outcome.tags:
        have = set(case.tags.values_list("name", flat=True))
        added = [t for t in outcome.tags if t not in have]
        case.tags.add(*(Tag.objects.get_or_create(name=t)[0] for t in added))
        data["tags"] = added
    if outcome.no_reply_reason:
        data["no_reply"] = outcome.no_reply_reason
    history.record(
        case=case,
        kind=CaseEvent.Kind.ROUTED,
        at=message.sent_at,
        message=message,
        data=data,
    )


# Managing rules (tickets/views/rules.py).


PREVIEW_MESSAGES = 200


PREVIEW_MAX_MESSAGES = 2000


@dataclass(frozen=True)
class PreviewRow:
    message: Message
    outcome: Outcome


def preview(rule: RoutingRule, *, last: int = PREVIEW_MESSAGES) -> tuple[int, list[PreviewRow]]:
    """Which of the ``last`` customer messages (newest first) ``rule``, saved or not, matches
    on its own, and what it would do to each. Returns (messages looked at, matches). Three
    queries whatever ``last`` is."""
    messages = list(
        Message.objects.filter(direction=Message.Direction.INBOUND, automated="")
        .select_related("channel_account", "case")
        .prefetch_related("attachments")
        .order_by("-pk")[: max(1, min(last, PREVIEW_MAX_MESSAGES))]
    )
    stores = load_stores() if rule.names_store or rule.team_from_store else []
    rows = []
    for message in messages:
        outcome = evaluate([rule], message, stores=stores)
        if outcome.rules:
            rows.append(PreviewRow(message=message, outcome=outcome))
    return len(messages), rows
