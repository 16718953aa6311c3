"""Reads for the case page: the timeline of messages and history in time order, the customer
card, the channels a reply can go out on, and the version marker live updates compare."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Sum,
    Value,
)
from django.utils import timezone
from django.utils.functional import cached_property

from cases.inbox import TAG_SEPARATOR
from cases.models import Attachment, CannedResponse, Case, CaseEvent, Message
from cases.selectors import folded_case_ids
from casework.replies import sign_reply
from channels.email.quoting import split_quoted
from channels.facebook.sender import Window, WindowState, messaging_window
from channels.kinds import KINDS, kinds_on
from channels.models import Platform
from channels.x.length import reply_length
from customers.models import Customer, Identity
from sla.models import Priority
from staff.models import Team
from staff.names import display_name, initials
from staff.selectors import case_workers

EARLIER_CASES_SHOWN = 10
# A message body longer than this shows its start, with the rest behind "Show more".
FOLD_LINES = 40
FOLD_CHARS = 3000

# Shown by the messages themselves, so not repeated as history lines.
MESSAGE_EVENTS = {
    CaseEvent.Kind.CREATED,
    CaseEvent.Kind.MESSAGE_RECEIVED,
    CaseEvent.Kind.REPLY_SENT,
    CaseEvent.Kind.NOTE_ADDED,
}
DELIVERY_STATES = [s.value for s in Message.Delivery]
X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
FACEBOOK_USERNAME = re.compile(r"^[A-Za-z0-9.]{5,50}$")


def page_cases() -> QuerySet[Case]:
    """Cases with what the page header shows, their tag names (``tag_names``) included."""
    case_tags: QuerySet[Any] = Case.tags.through.objects.filter(case=OuterRef("pk"))
    names = (
        case_tags.values("case")
        .annotate(names=StringAgg("tag__name", Value(TAG_SEPARATOR)))
        .values("names")
    )
    return Case.objects.select_related(
        "customer", "assignee__agent_profile", "team", "merged_into"
    ).annotate(tag_names=Subquery(names))


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: a message (inbound, outbound or note) or a history event.

    What the template shows is worked out once per entry: it asks for most of it several times.
    """

    at: datetime
    message: Message | None = None
    event: CaseEvent | None = None
    # An event in words, e.g. "Jo Lee handed the case off to Priya Shah".
    summary: str = ""
    # What the author wrote now, and the mail history their client quoted below it.
    body: str = ""
    quoted: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    @cached_property
    def preview(self) -> str:
        """The start of the body shown unfolded: at most FOLD_LINES lines and FOLD_CHARS
        characters; ``rest`` is everything after it."""
        head = self.body[:FOLD_CHARS]
        lines = head.split("\n")
        return "\n".join(lines[:FOLD_LINES]) if len(lines) > FOLD_LINES else head

    @cached_property
    def rest(self) -> str:
        return self.body[len(self.preview) :]

    @cached_property
    def kind(self) -> str:
        return self.message.direction if self.message else "event"

    @cached_property
    def platform(self) -> str:
        kind = KINDS.get(self.message.channel) if self.message else None
        return kind.platform if kind else ""

    @cached_property
    def platform_label(self) -> str:
        return Platform(self.platform).label if self.platform else ""

    @cached_property
    def channel_label(self) -> str:
        kind = KINDS.get(self.message.channel) if self.message else None
        return kind.message_label if kind else ""

    @cached_property
    def author(self) -> str:
        if self.message is None:
            return display_name(self.event.actor) if self.event and self.event.actor else ""
        identity = self.message.author_identity
        if identity is not None:
            return identity.display_name or identity.handle or identity.external_id
        return display_name(self.message.author_user)

    @cached_property
    def author_handle(self) -> str:
        identity = self.message.author_identity if self.message else None
        if identity is None or not identity.handle or identity.platform == Platform.EMAIL:
            return ""
        return f"@{identity.handle}" if identity.platform == Platform.X else identity.handle

    @cached_property
    def initials(self) -> str:
        return initials(self.author)

    @cached_property
    def anchor(self) -> str:
        return f"message-{self.message.pk}" if self.message else f"event-{self.event.pk}"  # type: ignore[union-attr]


def _messages(case: Case) -> list[Message]:
    attachments = Prefetch(
        "attachments", queryset=Attachment.objects.defer("content").order_by("pk")
    )
    return list(
        Message.objects.filter(case=case)
        .select_related("author_identity", "author_user__agent_profile")
        .defer("raw_payload", "full_text")
        .annotate(truncated=ExpressionWrapper(~Q(full_text=""), output_field=BooleanField()))
        .prefetch_related(attachments)
        .order_by("sent_at", "pk")
    )


def _events(case: Case) -> list[CaseEvent]:
    # The history of cases folded into this one by merges belongs to it too.
    events = (
        CaseEvent.objects.filter(case__in=folded_case_ids(case))
        .exclude(kind__in=MESSAGE_EVENTS)
        .select_related("actor__agent_profile")
        .order_by("occurred_at", "pk")
    )
    return _one_per_merge(case, list(events))


def _one_per_merge(case: Case, events: list[CaseEvent]) -> list[CaseEvent]:
    """A merge is recorded on both customers' cases; once they are one case, show it once,
    preferring this case's record (it names the folded case)."""
    kept: dict[tuple, CaseEvent] = {}
    for event in events:
        if event.kind == CaseEvent.Kind.CUSTOMERS_MERGED:
            data = event.data or {}
            key = (event.occurred_at, data.get("source_customer"), data.get("target_customer"))
            if key not in kept or event.case_id == case.pk:
                kept[key] = event
    merges = {e.pk for e in kept.values()}
    return [e for e in events if e.kind != CaseEvent.Kind.CUSTOMERS_MERGED or e.pk in merges]


@dataclass
class CaseTimeline:
    messages: list[Message]
    events: list[CaseEvent]
    entries: list[Entry]
    version: str


def case_timeline(case: Case) -> CaseTimeline:
    """Messages and history events of ``case`` merged in time order, with its version."""
    messages, events = _messages(case), _events(case)
    names = _user_names(events)
    entries = [_message_entry(m) for m in messages] + [
        Entry(at=e.occurred_at, event=e, summary=describe(e, names)) for e in events
    ]
    # At the same moment a message comes before what was done about it.
    entries.sort(key=lambda e: (e.at, e.event is not None, (e.message or e.event).pk))  # type: ignore[union-attr]
    return CaseTimeline(messages, events, entries, _version(case, messages, events))


def _message_entry(message: Message) -> Entry:
    body, quoted = message.text, ""
    if message.channel == "email" and message.direction == Message.Direction.INBOUND:
        body, quoted = split_quoted(message.text)
    return Entry(
        at=message.sent_at,
        message=message,
        body=body,
        quoted=quoted,
        attachments=list(message.attachments.all()),
    )


def _user_names(events: list[CaseEvent]) -> dict[int, str]:
    """Names of the people events mention by id only (the holder a case was released from)."""
    known = {e.actor.pk: display_name(e.actor) for e in events if e.actor}
    wanted = {
        e.data.get("from")
        for e in events
        if e.kind == CaseEvent.Kind.RELEASED and isinstance(e.data.get("from"), int)
    } - set(known)
    if wanted:
        users = get_user_model().objects.filter(pk__in=wanted).select_related("agent_profile")
        known |= {u.pk: display_name(u) for u in users}
    return known


def describe(event: CaseEvent, names: dict[int, str]) -> str:
    """A history event in words for the timeline."""
    actor = display_name(event.actor) if event.actor else "CareInbox"
    data = event.data or {}
    kind = event.kind
    if kind == CaseEvent.Kind.CLAIMED:
        return f"{actor} claimed the case" + (" by replying" if data.get("by_reply") else "")
    if kind == CaseEvent.Kind.RELEASED:
        holder = names.get(data.get("from"))  # type: ignore[arg-type]
        if holder and event.actor and data.get("from") != event.actor.pk:
            return f"{actor} released the case from {holder}"
        return f"{actor} released the case to the queue"
    if kind in (CaseEvent.Kind.HANDED_OFF, CaseEvent.Kind.REASSIGNED):
        verb = (
            "handed the case off" if kind == CaseEvent.Kind.HANDED_OFF else "reassigned the case"
        )
        to = " and ".join(
            filter(
                None, [data.get("to_name"), data.get("team_name") and f"team {data['team_name']}"]
            )
        )
        from_name = data.get("from_name")
        source = f" from {from_name}" if from_name and from_name != actor else ""
        return f"{actor} {verb}{source} to {to or 'the queue'}"
    if kind == CaseEvent.Kind.STATUS_CHANGED:
        change = f"{_label(Case.Status, data.get('from'))} → {_label(Case.Status, data.get('to'))}"
        who = f"{actor} set the status" if event.actor else "Status"
        reason = f" — {data['reason']}" if data.get("reason") else ""
        return f"{who}: {change}{reason}"
    if kind == CaseEvent.Kind.PRIORITY_CHANGED:
        before, after = (
            _label(Case.Priority, data.get("from")),
            _label(Case.Priority, data.get("to")),
        )
        return f"{actor} changed the priority: {before} → {after}"
    if kind == CaseEvent.Kind.TAGS_CHANGED:
        tags_before, tags_after = set(data.get("from", [])), set(data.get("to", []))
        parts = []
        if added := sorted(tags_after - tags_before):
            parts.append("added " + ", ".join(added))
        if removed := sorted(tags_before - tags_after):
            parts.append("removed " + ", ".join(removed))
        return f"{actor} {' and '.join(parts) or 'changed the tags'}"
    if kind == CaseEvent.Kind.CUSTOMERS_MERGED:
        folded = data.get("folded_case")
        text = f"{actor} merged customers" if event.actor else "Customers merged"
        if folded and folded != event.case_id:
            text += f"; case #{folded} was folded into this one"
        return text + (f" — {data['reason']}" if data.get("reason") else "")
    if kind == CaseEvent.Kind.ROUTED:
        return _routed(data)
    if kind == CaseEvent.Kind.AUTO_ASSIGNED:
        return f"Assigned automatically to {data.get('to_name') or 'an agent'}"
    if kind == CaseEvent.Kind.SLA_BREACHED:
        target = str(data.get("target", "")).replace("_", " ")
        policy = f" of {data['policy_name']}" if data.get("policy_name") else ""
        return f"SLA breached: the {target} target{policy} was missed"
    if kind == CaseEvent.Kind.MARKED_SPAM:
        return f"{actor} marked the case as spam"
    if kind == CaseEvent.Kind.UNMARKED_SPAM:
        return f"{actor} marked the case as not spam"
    return str(event.get_kind_display())


def _routed(data: dict) -> str:
    """What routing rules did, naming the rules."""
    done = []
    if team := data.get("team"):
        store = f" (store: {data['store']})" if data.get("store") else ""
        done.append(f"team {team['name']}{store}")
    if priority := data.get("priority"):
        done.append(f"priority {_label(Case.Priority, priority.get('to'))}")
    if tags := data.get("tags"):
        done.append("tags " + ", ".join(tags))
    if reason := data.get("no_reply"):
        done.append(f"no reply needed: {reason}")
    rules = ", ".join(str(r) for r in data.get("rules", []))
    return (
        f"Routing rules ({rules}) set " + "; ".join(done)
        if done
        else f"Routing rules ({rules}) matched"
    )


def _label(choices: type[Case.Status] | type[Priority], value: object) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "—")


def _version(case: Case, messages: list[Message], events: list[CaseEvent]) -> str:
    outbound = [m for m in messages if m.direction == Message.Direction.OUTBOUND]
    return _marker(
        case,
        last_message=max((m.pk for m in messages), default=0),
        message_count=len(messages),
        delivery=[sum(m.delivery_status == s for m in outbound) for s in DELIVERY_STATES],
        attempts=sum(m.delivery_attempts for m in outbound),
        last_event=max((e.pk for e in events), default=0),
    )


def timeline_version(case: Case) -> str:
    """What ``case_timeline(case).version`` would be, in two aggregate queries: the live page
    polls with it and is answered "nothing new" while it is unchanged."""
    outbound = Q(direction=Message.Direction.OUTBOUND)
    states = {s: Count("pk", filter=outbound & Q(delivery_status=s)) for s in DELIVERY_STATES}
    m = Message.objects.filter(case=case).aggregate(
        last=Max("pk"),
        count=Count("pk"),
        attempts=Sum("delivery_attempts", filter=outbound),
        **states,
    )
    last_event = (
        CaseEvent.objects.filter(case__in=folded_case_ids(case))
        .exclude(kind__in=MESSAGE_EVENTS)
        .aggregate(last=Max("pk"))["last"]
    )
    return _marker(
        case,
        last_message=m["last"] or 0,
        message_count=m["count"],
        delivery=[m[s] for s in DELIVERY_STATES],
        attempts=m["attempts"] or 0,
        last_event=last_event or 0,
    )


def _marker(
    case: Case,
    *,
    last_message: int,
    message_count: int,
    delivery: list[int],
    attempts: int,
    last_event: int,
) -> str:
    # A reply's delivery changes no id (queued, sending, failed, retried), so its counts are
    # part of the marker; so is the header's state, which events also record.
    parts = [
        last_message,
        message_count,
        *delivery,
        attempts,
        last_event,
        case.status,
        case.assignee_id,
        case.team_id,
        case.priority,
        case.spam,
        case.merged_into_id,
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def shown_handle(identity: Identity) -> str:
    """How agents recognise an identity: @handle on X, the address for email."""
    if identity.platform == Platform.EMAIL:
        return identity.external_id
    if identity.platform == Platform.X and identity.handle:
        return f"@{identity.handle}"
    return identity.handle or identity.display_name or identity.external_id


@dataclass(frozen=True)
class IdentityCard:
    identity: Identity

    @property
    def platform_label(self) -> str:
        return Platform(self.identity.platform).label

    @property
    def shown_handle(self) -> str:
        return shown_handle(self.identity)

    @property
    def followers(self) -> str:
        count = self.identity.follower_count
        if count is None:
            return ""
        return f"{count:,} follower{'s' if count != 1 else ''}"

    @property
    def profile_url(self) -> str:
        """The public profile, built from the handle where the platform has one."""
        i = self.identity
        if i.platform == Platform.X and X_HANDLE.match(i.handle):
            return f"https://x.com/{i.handle}"
        if i.platform == Platform.FACEBOOK and FACEBOOK_USERNAME.match(i.handle):
            return f"https://www.facebook.com/{i.handle}"
        if i.platform == Platform.EMAIL:
            return f"mailto:{quote(i.external_id, safe='@.+-_')}"
        return ""


@dataclass(frozen=True)
class CustomerCard:
    customer: Customer
    identities: list[IdentityCard]
    earlier_cases: list[Case]

    @property
    def initials(self) -> str:
        return initials(self.customer.display_name)


def customer_card(case: Case) -> CustomerCard:
    """Who the customer is on every platform, and their other cases, newest first."""
    customer = case.customer
    identities = Identity.objects.filter(customer=customer).order_by("platform", "-last_seen_at")
    earlier = (
        Case.objects.filter(customer=customer, merged_into__isnull=True)
        .exclude(pk=case.pk)
        .order_by("-opened_at", "-pk")[:EARLIER_CASES_SHOWN]
    )
    return CustomerCard(customer, [IdentityCard(i) for i in identities], list(earlier))


@dataclass(frozen=True)
class ReplyChannel:
    """A channel the customer used on the case, answered by replying to their latest message
    there."""

    message: Message
    window: Window | None

    @property
    def label(self) -> str:
        kind = KINDS.get(self.message.channel)
        label = kind.reply_label if kind else self.message.channel
        identity = self.message.author_identity
        return f"{label} to {shown_handle(identity)}" if identity else label

    @property
    def closed(self) -> bool:
        return self.window is not None and self.window.state is WindowState.CLOSED


def reply_channels(messages: list[Message]) -> list[ReplyChannel]:
    """One option per channel (and identity) the customer wrote on, latest first, so the first
    is the default: where they wrote last. Automated mail is not answered."""
    latest: dict[tuple[str, int | None], Message] = {}
    for m in messages:
        if m.direction == Message.Direction.INBOUND and not m.automated:
            latest[(m.channel, m.author_identity_id)] = m  # messages come in time order
    now = timezone.now()
    options = sorted(latest.values(), key=lambda m: (m.sent_at, m.pk), reverse=True)
    return [
        ReplyChannel(
            m, messaging_window(m.sent_at, now) if m.channel == "facebook.message" else None
        )
        for m in options
    ]


def latest_inbound(messages: list[Message]) -> Message | None:
    inbound = [m for m in messages if m.direction == Message.Direction.INBOUND]
    return inbound[-1] if inbound else None


@dataclass(frozen=True)
class ComposerStatus:
    """What the composer tells the agent about the reply being written."""

    channel: str = ""
    length: int | None = None
    limit: int | None = None
    signature: str = ""
    window: Window | None = None

    @property
    def over(self) -> bool:
        return self.length is not None and self.limit is not None and self.length > self.limit

    @property
    def left(self) -> int:
        return (self.limit or 0) - (self.length or 0)


def composer_status(*, answering: Message | None, text: str, agent: User) -> ComposerStatus:
    """X's count of the signed reply on X channels, and Messenger's window on Messenger."""
    if answering is None:
        return ComposerStatus()
    channel = answering.channel
    text = text.replace("\r\n", "\n")
    if channel in kinds_on(Platform.X):
        signed = sign_reply(text=text, channel=channel, agent=agent)
        profile = getattr(agent, "agent_profile", None)
        signature = profile.signature if profile else ""
        length, limit = reply_length(signed, channel=channel)
        return ComposerStatus(channel, length, limit, signature)
    if channel == "facebook.message":
        return ComposerStatus(channel, window=messaging_window(answering.sent_at, timezone.now()))
    return ComposerStatus(channel)


def answering_message(case: Case, answering_id: str | None) -> Message | None:
    """The customer message a composer answers: the one chosen, else the latest."""
    messages = Message.objects.filter(
        case=case, direction=Message.Direction.INBOUND, automated=""
    ).select_related("author_identity")
    chosen = None
    if answering_id and answering_id.isdigit() and len(answering_id) < 19:
        chosen = messages.filter(pk=int(answering_id)).first()
    return chosen or messages.order_by("-sent_at", "-pk").first()


def hand_off_notice(case: Case, user: User, events: list[CaseEvent]) -> CaseEvent | None:
    """The hand-off (or reassignment) that gave ``user`` this case, while they hold it."""
    if case.assignee_id != user.pk:
        return None
    for event in reversed(events):
        if event.kind in (CaseEvent.Kind.HANDED_OFF, CaseEvent.Kind.REASSIGNED):
            return event if event.data.get("to") == user.pk else None
        if event.kind == CaseEvent.Kind.CLAIMED:
            return None
    return None


def colleagues() -> list[User]:
    """Active users who work cases, by name: who a case can be handed off to."""
    users = case_workers().select_related("agent_profile")
    return sorted(users, key=lambda u: display_name(u).lower())


def teams() -> list[Team]:
    return list(Team.objects.order_by("name"))


def canned_responses() -> list[CannedResponse]:
    return list(CannedResponse.objects.only("pk", "title"))


class CasePage:
    """Everything the case page shows, each part read once and only when a template asks for
    it, so a fragment costs only its own queries."""

    def __init__(self, case: Case, user: User, *, answering_id: str | None = None) -> None:
        self.case = case
        self.user = user
        self._answering_id = answering_id

    @cached_property
    def timeline(self) -> CaseTimeline:
        return case_timeline(self.case)

    @property
    def entries(self) -> list[Entry]:
        return self.timeline.entries

    @property
    def version(self) -> str:
        return self.timeline.version

    @cached_property
    def card(self) -> CustomerCard:
        return customer_card(self.case)

    @cached_property
    def reply_channels(self) -> list[ReplyChannel]:
        return reply_channels(self.timeline.messages)

    @cached_property
    def answering(self) -> ReplyChannel | None:
        """The channel the composer answers on: the agent's choice, else where the customer
        wrote last."""
        for option in self.reply_channels:
            if str(option.message.pk) == self._answering_id:
                return option
        return self.reply_channels[0] if self.reply_channels else None

    @cached_property
    def status(self) -> ComposerStatus:
        return composer_status(
            answering=self.answering.message if self.answering else None, text="", agent=self.user
        )

    @cached_property
    def latest_inbound(self) -> Entry | None:
        message = latest_inbound(self.timeline.messages)
        return next((e for e in self.entries if e.message is message), None) if message else None

    @cached_property
    def hand_off_notice(self) -> CaseEvent | None:
        return hand_off_notice(self.case, self.user, self.timeline.events)

    @cached_property
    def can_work(self) -> bool:
        return self.case.merged_into_id is None and self.user.has_perm("cases.work_case")

    @cached_property
    def can_reassign(self) -> bool:
        return self.can_work and self.user.has_perm("cases.reassign_case")

    @property
    def held_by_other(self) -> bool:
        return self.case.assignee_id is not None and self.case.assignee_id != self.user.pk

    @property
    def may_act(self) -> bool:
        """Whether the holder's actions (release, resolve, spam) are offered to this user."""
        return self.can_work and (not self.held_by_other or self.can_reassign)

    @property
    def assignee_name(self) -> str:
        return display_name(self.case.assignee) if self.case.assignee else ""

    @property
    def hand_off_by(self) -> str:
        notice = self.hand_off_notice
        return display_name(notice.actor) if notice and notice.actor else "A supervisor"

    @cached_property
    def colleagues(self) -> list[tuple[int, str]]:
        """(id, name) of everyone else a case can be passed to."""
        return [(u.pk, display_name(u)) for u in colleagues() if u.pk != self.user.pk]

    @cached_property
    def teams(self) -> list[Team]:
        return teams()

    @cached_property
    def canned(self) -> list[CannedResponse]:
        return canned_responses()

    @property
    def priorities(self) -> list[tuple[str, str]]:
        return Case.Priority.choices

    @cached_property
    def tag_names(self) -> list[str]:
        if not hasattr(self.case, "tag_names"):  # a case not read through page_cases()
            return sorted(self.case.tags.values_list("name", flat=True))
        return sorted(self.case.tag_names.split(TAG_SEPARATOR)) if self.case.tag_names else []
