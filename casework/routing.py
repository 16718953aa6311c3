"""Trying a routing rule on recent customer messages, before it is saved (the rule page)."""

from dataclasses import dataclass

from cases.models import Message
from routing.models import RoutingRule
from routing.rules import Outcome, evaluate, load_stores

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
