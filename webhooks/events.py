"""The events an endpoint may subscribe to, and the case history kinds they come from."""

from cases.models import Case, CaseEvent

Kind = CaseEvent.Kind

# Each history kind that some webhook event reports, and the event's name. A status change
# becomes ``case.resolved`` only when it resolves the case (``event_name``).
EVENT_BY_KIND: dict[str, str] = {
    Kind.CREATED: "case.created",
    Kind.MESSAGE_RECEIVED: "message.received",
    Kind.REPLY_SENT: "reply.sent",
    Kind.CLAIMED: "case.assigned",
    Kind.REASSIGNED: "case.assigned",
    Kind.AUTO_ASSIGNED: "case.assigned",
    Kind.HANDED_OFF: "case.handed_off",
    Kind.STATUS_CHANGED: "case.resolved",
    Kind.SLA_BREACHED: "case.sla_breached",
}

EVENT_NAMES: list[str] = list(dict.fromkeys(EVENT_BY_KIND.values()))


def event_name(event: CaseEvent) -> str | None:
    """The webhook event ``event`` is, or None when it is none."""
    if event.kind == Kind.STATUS_CHANGED and event.data.get("to") != Case.Status.RESOLVED:
        return None
    return EVENT_BY_KIND.get(event.kind)
