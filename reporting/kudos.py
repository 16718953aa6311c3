"""Kudos: the praise customers wrote in the last days, grouped by the person, team and store
praised, for managers to pass on and recognise."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cases.models import Message

KUDOS_DAYS = 30
_STORE = re.compile(r"\b(?:store|shop|branch|outlet)\b", re.IGNORECASE)


@dataclass
class Group:
    name: str
    messages: list[Message] = field(default_factory=list)


def _person(praise_for: str) -> str:
    """ "Lindsey (Leeds store)" names Lindsey; "delivery team" names nobody."""
    if " (" in praise_for:
        return praise_for.split(" (")[0]
    return "" if re.search(r"\b(?:team|store|shop|branch)$", praise_for, re.I) else praise_for


def _context(praise_for: str) -> str:
    if " (" in praise_for:
        return praise_for.split(" (", 1)[1].rstrip(")")
    return "" if _person(praise_for) else praise_for


def kudos(*, now: datetime, days: int = KUDOS_DAYS) -> dict[str, list[Group]]:
    """The praise of the last ``days`` by person, team and store, most praised first; one
    query."""
    messages = (
        Message.objects.filter(sent_at__gte=now - timedelta(days=days))
        .exclude(praise_for="")
        .select_related("case__team", "author_identity")
        .order_by("-sent_at")
    )
    groups: dict[str, dict[str, Group]] = {"person": {}, "team": {}, "store": {}}
    for message in messages:
        person, context = _person(message.praise_for), _context(message.praise_for)
        keys = defaultdict(str)
        if person:
            keys["person"] = message.praise_for
        if context and _STORE.search(context):
            keys["store"] = context
        elif context and not person:
            keys["team"] = context
        elif message.case.team is not None:
            keys["team"] = message.case.team.name
        for kind, key in keys.items():
            groups[kind].setdefault(key.lower(), Group(name=key)).messages.append(message)
    return {
        kind: sorted(found.values(), key=lambda g: (-len(g.messages), g.name.lower()))
        for kind, found in groups.items()
    }
