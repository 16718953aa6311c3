"""Reads of incidents: the inbox banner's live ones, the list, and one incident's cases and
messages."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet

from cases.models import Case, Message
from channels.kinds import label_of
from incidents.models import Incident, IncidentMessage

LIVE = (Incident.Status.PROPOSED, Incident.Status.OPEN)
# The list shows the latest incidents; older ones stay reachable by their address.
LIST_SIZE = 200


def _counted(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return incidents.annotate(
        message_count=Count("links"),
        customer_count=Count("links__message__case__customer", distinct=True),
        case_count=Count("links__message__case", distinct=True),
    )


def live_incidents() -> list[Incident]:
    """Proposed and open incidents, latest activity first, each with ``message_count`` and
    ``customer_count``: one query."""
    return list(_counted(Incident.objects.filter(status__in=LIVE)).order_by("-last_message_at"))


def channel_label(channel: str) -> str:
    """A message's channel in words ("X mention", "Email")."""
    return label_of(channel)


@dataclass
class IncidentRow:
    incident: Incident
    channels: list[str]


def incident_list() -> list[IncidentRow]:
    """The latest incidents (none merged away), live ones first, with their counts and the
    channels their messages came on: two queries."""
    incidents = list(
        _counted(Incident.objects.exclude(status=Incident.Status.MERGED)).order_by(
            # Live incidents first, then by their latest message.
            ExpressionWrapper(Q(status__in=LIVE), output_field=BooleanField()).desc(),
            "-last_message_at",
            "-pk",
        )[:LIST_SIZE]
    )
    channels: dict[int, set[str]] = defaultdict(set)
    for incident_id, channel in (
        IncidentMessage.objects.filter(incident__in=[i.pk for i in incidents])
        .values_list("incident_id", "message__channel")
        .distinct()
    ):
        channels[incident_id].add(channel_label(channel))
    return [IncidentRow(incident, sorted(channels[incident.pk])) for incident in incidents]


@dataclass(frozen=True)
class LinkedMessage:
    message: Message
    channel: str  # in words


@dataclass
class LinkedCase:
    case: Case
    messages: list[LinkedMessage] = field(default_factory=list)


@dataclass
class IncidentDetail:
    incident: Incident
    cases: list[LinkedCase]
    message_times: list[datetime]
    customer_count: int
    channels: list[tuple[str, int]]  # each channel in words, with its number of messages
    # Other live incidents, which this one could take in.
    others: list[Incident]

    @property
    def message_count(self) -> int:
        return len(self.message_times)


def incident_detail(*, incident: Incident) -> IncidentDetail:
    """The incident's linked cases, each with its linked messages in time order (the case
    with the earliest message first), and what they add up to: three queries."""
    messages = list(
        Message.objects.filter(incident_link__incident=incident)
        .select_related("case__customer")
        .order_by("sent_at", "pk")
    )
    cases: dict[int, LinkedCase] = {}
    per_channel: dict[str, int] = defaultdict(int)
    for message in messages:
        channel = channel_label(message.channel)
        linked = cases.setdefault(message.case_id, LinkedCase(message.case))
        linked.messages.append(LinkedMessage(message, channel))
        per_channel[channel] += 1
    others = list(Incident.objects.filter(status__in=LIVE).exclude(pk=incident.pk).order_by("-pk"))
    return IncidentDetail(
        incident=incident,
        cases=list(cases.values()),
        message_times=[m.sent_at for m in messages],
        customer_count=len({m.case.customer_id for m in messages}),
        channels=sorted(per_channel.items(), key=lambda item: (-item[1], item[0])),
        others=others,
    )
