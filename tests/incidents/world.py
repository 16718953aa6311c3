"""An incident over messages polled from the platform sandbox: the latest mention, DM and
mail of the sample traffic, each on its own case."""

import io

from django.core.management import call_command
from django.utils import timezone

from cases.models import Message
from channels.models import ChannelAccount
from demo.sandbox import mail
from incidents.models import Incident, IncidentMessage

LINKED = ("x.mention", "x.dm", "email")
# Eight tweets about one Leeds broadband outage, in the words customers use.
SPIKE = [
    "@acme_care no internet in Leeds since 7am, router flashing red",
    "@acme_care is broadband down in Leeds? nothing since this morning",
    "@acme_care internet down again in Leeds, what's going on",
    "@acme_care Leeds broadband outage? no connection at all",
    "@acme_care no internet here in Leeds either, router light is red",
    "@acme_care broadband down in Leeds, working from home and stuck",
    "@acme_care still no internet in Leeds, any update on the outage",
    "@acme_care Leeds internet not working at all since 7",
]


def connect_and_poll(sandbox, lines) -> dict[str, ChannelAccount]:
    """The sandbox showing ``lines`` (moved to the past week, so Messenger's window is still
    open), the brand's accounts connected to it and polled once; the accounts by platform."""
    sandbox.state.load(lines, rebase_to=timezone.now())
    mail.deliver_visible(sandbox)
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    call_command("poll", once=True, stdout=io.StringIO())
    return {a.platform: a for a in ChannelAccount.objects.all()}


def latest(channel, *, besides=()) -> Message:
    return (
        Message.objects.filter(direction="inbound", channel=channel, automated="")
        .exclude(case__in=besides)
        .select_related("case__customer", "author_identity")
        .latest("sent_at")
    )


def link(incident, *messages) -> None:
    IncidentMessage.objects.bulk_create(
        IncidentMessage(incident=incident, message=m, added_at=timezone.now()) for m in messages
    )


def linked_incident() -> tuple[Incident, dict[str, Message]]:
    """A proposed incident holding the latest message of each of ``LINKED``, and those."""
    now = timezone.now()
    incident = Incident.objects.create(
        title="Card payments failing", created_at=now, first_message_at=now, last_message_at=now
    )
    picked: list[Message] = []
    for channel in LINKED:
        picked.append(latest(channel, besides=[m.case_id for m in picked]))
    link(incident, *picked)
    return incident, {m.channel: m for m in picked}
