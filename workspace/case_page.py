"""Reads for the case page: the timeline of messages and history in time order, the customer
card, the channels a reply can go out on, and the version marker live updates compare."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Sum,
    Value,
)
from django.template.defaultfilters import linebreaksbr, urlize
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from careinbox.prepared import PreparedRead, columns, instance
from cases import visibility
from cases.canned import CannedChoice, best_fitting
from cases.inbox import TAG_SEPARATOR
from cases.models import Attachment, CannedResponse, Case, CaseEvent, Message
from cases.selectors import folded_case_ids
from casework.replies import reply_subject, sign_reply
from channels.email.quoting import split_quoted
from channels.facebook.sender import Window, WindowState, messaging_window
from channels.kinds import KINDS, kinds_on
from channels.models import Platform
from channels.x.length import reply_length
from customers.models import Customer, Identity
from customers.selectors import shown_handle
from sla.models import Priority
from staff.models import Team
from staff.names import display_name, initials
from staff.selectors import case_workers, user_columns, user_from
from workspace.mentions import colleagues_named, mention_html

EARLIER_CASES_SHOWN = 10
# What a message answers is shown cut to this many characters, the whole behind a fold.
CONTEXT_CHARS = 140
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
STATUS_LABELS: dict[str, str] = dict(Case.Status.choices)
X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
FACEBOOK_USERNAME = re.compile(r"^[A-Za-z0-9.]{5,50}$")


def _case_row(case_id: int) -> QuerySet[Case, dict[str, Any]]:
    case_tags: QuerySet[Any] = Case.tags.through.objects.filter(case=OuterRef("pk"))
    names = (
        case_tags.values("case")
        .annotate(names=StringAgg("tag__name", Value(TAG_SEPARATOR)))
        .values("names")
    )
    return (
        Case.objects.filter(pk=case_id)
        .annotate(tag_names=Subquery(names))
        .values(
            *columns(Case),
            *columns(Customer, "customer__"),
            *columns(Team, "team__"),
            *user_columns("assignee__"),
            "tag_names",
        )
    )


# The page's reads are compiled once: compiling them cost more than running them.
CASE = PreparedRead(_case_row, case_id=int)


def page_case(case_id: int) -> Case | None:
    """The case with what the page header shows: its customer, assignee (with profile), team
    and tag names (``tag_names``); None if there is no such case. One query."""
    rows = CASE.rows(case_id=case_id)
    if not rows:
        return None
    row = rows[0]
    case = instance(Case, row)
    assert case is not None
    case.customer = instance(Customer, row, "customer__")  # type: ignore[assignment]
    case.team = instance(Team, row, "team__")
    case.assignee = user_from(row, "assignee__")
    case.tag_names = row["tag_names"]  # type: ignore[attr-defined]
    return case


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: a message (inbound, outbound or note) or a history event,
    with what the template prints worked out here, once: the timeline is the page's longest
    part, and a template's lookups and filters cost more than this does."""

    at: datetime
    message: Message | None = None
    event: CaseEvent | None = None
    # An event in words, e.g. "Jo Lee handed the case off to Priya Shah".
    summary: str = ""
    # What the author wrote now, and the mail history their client quoted below it.
    body: str = ""
    quoted: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    kind: str = "event"  # "inbound", "outbound", "note" or "event"
    anchor: str = ""
    author: str = ""
    author_handle: str = ""
    initials: str = ""
    platform: str = ""
    platform_label: str = ""
    channel_label: str = ""
    # The time as the timeline shows it ("3 Nov, 09:14"), in its title and for machines.
    when: str = ""
    when_full: str = ""
    when_iso: str = ""
    # The texts as HTML: escaped, links made, line breaks kept. A long body shows its start
    # (body_html) with the rest (rest_html) folded.
    body_html: str = ""
    rest_html: str = ""
    quoted_html: str = ""
    # The whole text's download, for a message stored cut at CAREINBOX_MESSAGE_TEXT_LIMIT.
    full_text_url: str = ""
    note_html: str = ""  # an event's note (hand-offs)
    # What a message answers, above it: "On the page's post" or "In reply to Jo Lee", the
    # text cut short, and the whole as HTML when the short text is cut ("" when it is not).
    context_label: str = ""
    context_short: str = ""
    context_html: str = ""
    # A customer message's sentiment as found at ingest ("neg", "neu", "pos") and its label;
    # "" for our replies, notes and messages not scored.
    sentiment: str = ""
    sentiment_label: str = ""


def _times(at: datetime) -> dict[str, Any]:
    """``at`` as the timeline prints it: ``when``, ``when_full`` and ``when_iso``, as the date
    filter would ("j M, H:i" and "j M Y, H:i:s"), in the current time zone."""
    local = timezone.localtime(at)
    return {
        "at": at,
        "when": SafeString(f"{local.day} {local:%b, %H:%M}"),
        "when_full": SafeString(f"{local.day} {local:%b %Y, %H:%M:%S}"),
        "when_iso": SafeString(at.isoformat()),
    }


def _event_entry(event: CaseEvent, names: dict[int, str]) -> Entry:
    note = (event.data or {}).get("note")
    return Entry(
        event=event,
        summary=describe(event, names),
        anchor=f"event-{event.pk}",
        author=display_name(event.actor) if event.actor else "",
        note_html=linebreaksbr(note, autoescape=True) if note else "",
        **_times(event.occurred_at),
    )


def _author(message: Message) -> tuple[str, str]:
    """The author's name and, on X and Facebook, their handle as shown."""
    identity = message.author_identity
    if identity is None:
        return display_name(message.author_user), ""
    name = identity.display_name or identity.handle or identity.external_id
    if not identity.handle or identity.platform == Platform.EMAIL:
        return name, ""
    return name, f"@{identity.handle}" if identity.platform == Platform.X else identity.handle


MESSAGES = PreparedRead(
    lambda case_id: (
        Message.objects.filter(case_id=case_id)
        .values(
            *columns(Message, leave_out=["raw_payload", "full_text"]),
            *columns(Identity, "author_identity__"),
            *user_columns("author_user__"),
            truncated=ExpressionWrapper(~Q(full_text=""), output_field=BooleanField()),
        )
        .order_by("sent_at", "pk")
    ),
    case_id=int,
)
ATTACHMENTS = PreparedRead(
    lambda case_id: (
        Attachment.objects.filter(message__case_id=case_id)
        .values(*columns(Attachment, leave_out=["content"]))
        .order_by("pk")
    ),
    case_id=int,
)


def _messages(case: Case) -> tuple[list[Message], dict[int, list[Attachment]]]:
    """The case's messages in time order with their authors, and their attachments (without
    their content) by message."""
    messages = []
    for row in MESSAGES.rows(case_id=case.pk):
        message = instance(Message, row, leave_out=["raw_payload", "full_text"])
        assert message is not None
        message.author_identity = instance(Identity, row, "author_identity__")
        message.author_user = user_from(row, "author_user__")
        message.truncated = row["truncated"]  # type: ignore[attr-defined]
        messages.append(message)
    attachments: dict[int, list[Attachment]] = {}
    for row in ATTACHMENTS.rows(case_id=case.pk):
        attachment = instance(Attachment, row, leave_out=["content"])
        assert attachment is not None
        attachment.download_url = attachment_url(attachment.pk)  # type: ignore[attr-defined]
        attachments.setdefault(attachment.message_id, []).append(attachment)
    return messages, attachments


# The history of cases folded into this one by merges belongs to it too.
EVENTS = PreparedRead(
    lambda case_id: (
        CaseEvent.objects.filter(case__in=folded_case_ids(Case(pk=case_id)))
        .exclude(kind__in=MESSAGE_EVENTS)
        .values(*columns(CaseEvent), *user_columns("actor__"))
        .order_by("occurred_at", "pk")
    ),
    case_id=int,
)


def _events(case: Case) -> list[CaseEvent]:
    events = []
    for row in EVENTS.rows(case_id=case.pk):
        event = instance(CaseEvent, row)
        assert event is not None
        event.actor = user_from(row, "actor__")
        events.append(event)
    return _one_per_merge(case, events)


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
    (messages, attachments), events = _messages(case), _events(case)
    names = _user_names(events)
    colleagues = colleagues_named(
        m.text for m in messages if m.direction == Message.Direction.NOTE
    )
    by_pk = {m.pk: m for m in messages}
    entries = [
        _message_entry(m, attachments.get(m.pk, []), colleagues=colleagues, on_case=by_pk)
        for m in messages
    ] + [_event_entry(e, names) for e in events]
    # At the same moment a message comes before what was done about it.
    entries.sort(key=lambda e: (e.at, e.event is not None, (e.message or e.event).pk))  # type: ignore[union-attr]
    return CaseTimeline(messages, events, entries, _version(case, messages, events))


def _message_entry(
    message: Message,
    attachments: list[Attachment],
    *,
    colleagues: dict[str, str],
    on_case: dict[int, Message],
) -> Entry:
    """``on_case``: the case's messages by id, for the one a comment answers."""
    body, quoted = message.text, ""
    if message.channel == "email" and message.direction == Message.Direction.INBOUND:
        body, quoted = split_quoted(message.text)
    kind = KINDS.get(message.channel)
    author, handle = _author(message)
    shown, rest = _fold(body)
    # Colleagues are named in notes; a customer's message or a reply holds X handles.
    named = colleagues if message.direction == Message.Direction.NOTE else None
    scored = message.direction == Message.Direction.INBOUND and message.sentiment
    return Entry(
        message=message,
        body=body,
        quoted=quoted,
        attachments=attachments,
        kind=message.direction,
        anchor=f"message-{message.pk}",
        author=author,
        author_handle=handle,
        initials=initials(author),
        platform=kind.platform if kind else "",
        platform_label=Platform(kind.platform).label if kind else "",
        channel_label=kind.message_label if kind else "",
        body_html=mention_html(shown, colleagues=named),
        rest_html=mention_html(rest, colleagues=named) if rest else "",
        quoted_html=linebreaksbr(quoted, autoescape=True) if quoted else "",
        sentiment=message.sentiment if scored else "",
        sentiment_label=message.get_sentiment_display() if scored else "",
        full_text_url=reverse("workspace:message-full-text", args=[message.pk])
        if message.truncated  # type: ignore[attr-defined]
        else "",
        **_context(message, on_case),
        **_times(message.sent_at),
    )


def _context(message: Message, on_case: dict[int, Message]) -> dict[str, Any]:
    """What a Facebook comment answers: the comment it replies to when that is on the case,
    else the page's post it was written under, when its text came with it."""
    if message.channel != "facebook.comment":
        return {}
    parent = on_case.get(message.parent_id) if message.parent_id else None
    if parent is not None and parent.channel == "facebook.comment":
        label, text = f"In reply to {_author(parent)[0]}", parent.text
    elif message.context:
        label, text = "On the page's post", message.context
    else:
        return {}
    short = Truncator(" ".join(text.split())).chars(CONTEXT_CHARS)
    return {
        "context_label": label,
        "context_short": short,
        "context_html": _html(text) if short != " ".join(text.split()) else "",
    }


def _fold(body: str) -> tuple[str, str]:
    """The start of a body shown unfolded (at most FOLD_LINES lines and FOLD_CHARS
    characters) and the rest."""
    head = body[:FOLD_CHARS]
    lines = head.split("\n")
    if len(lines) > FOLD_LINES:
        head = "\n".join(lines[:FOLD_LINES])
    return head, body[len(head) :]


def _html(text: str) -> str:
    return linebreaksbr(urlize(text, autoescape=True), autoescape=True)


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
        if data.get("by") == "ingest":
            return f"A message was found to be spam: {data.get('reason') or 'no reason given'}"
        return f"{actor} marked the case as spam"
    if kind == CaseEvent.Kind.UNMARKED_SPAM:
        return f"{actor} marked the case as not spam"
    if kind == CaseEvent.Kind.ERASED:
        return f"{actor} erased the customer's data"
    if kind == CaseEvent.Kind.HIDDEN:
        return (
            f"The spam message was hidden on {str(data.get('platform', 'the platform')).title()}"
        )
    if kind == CaseEvent.Kind.INCIDENT_UPDATE:
        what = "the closing update" if data.get("kind") == "closing" else "an update"
        title = f" “{data['title']}”" if data.get("title") else ""
        return f"{actor} sent {what} on incident #{data.get('incident')}{title}"
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


@dataclass(frozen=True)
class IdentityCard:
    """How the customer appears on one platform, ready to print."""

    platform: str
    platform_label: str
    shown_handle: str
    # Their name there, unless it is what the handle shows already.
    other_name: str
    followers: str  # "1,204 followers", or ""
    # The public profile, built from the handle where the platform has one; or "".
    profile_url: str

    @classmethod
    def of(cls, identity: Identity) -> "IdentityCard":
        handle = shown_handle(identity)
        name = identity.display_name
        count = identity.follower_count
        return cls(
            platform=identity.platform,
            platform_label=Platform(identity.platform).label,
            shown_handle=handle,
            other_name=name if name and name != handle else "",
            followers="" if count is None else f"{count:,} follower{'s' if count != 1 else ''}",
            profile_url=_profile_url(identity),
        )


def _profile_url(i: Identity) -> str:
    if i.platform == Platform.X and X_HANDLE.match(i.handle):
        return f"https://x.com/{i.handle}"
    if i.platform == Platform.FACEBOOK and FACEBOOK_USERNAME.match(i.handle):
        return f"https://www.facebook.com/{i.handle}"
    if i.platform == Platform.EMAIL:
        return f"mailto:{quote(i.external_id, safe='@.+-_')}"
    return ""


@dataclass(frozen=True)
class EarlierCase:
    """Another case of the customer's, as the card lists it."""

    url: str
    number: int
    subject: str  # at most 60 characters; "(no subject)" for none
    status_label: str
    opened: str  # "3 Nov 2026"


@dataclass(frozen=True)
class CustomerCard:
    customer: Customer
    identities: list[IdentityCard]
    earlier_cases: list[EarlierCase]

    @property
    def initials(self) -> str:
        return initials(self.customer.display_name)


IDENTITIES = PreparedRead(
    lambda customer_id: (
        Identity.objects.filter(customer_id=customer_id)
        .values(*columns(Identity))
        .order_by("platform", "-last_seen_at")
    ),
    customer_id=int,
)


def _earlier_cases(customer_id: int, case_id: int, viewer: int | None = None) -> QuerySet:
    cases = Case.objects.filter(customer_id=customer_id, merged_into__isnull=True)
    if viewer is not None:
        cases = cases.filter(visibility.visible_to(viewer))
    return (
        cases.exclude(pk=case_id)
        .values("id", "subject", "status", "opened_at")
        .order_by("-opened_at", "-pk")[:EARLIER_CASES_SHOWN]
    )


EARLIER_CASES = PreparedRead(_earlier_cases, customer_id=int, case_id=int)
# The same among the cases a user whose view is narrowed to their teams may see.
EARLIER_VISIBLE_CASES = PreparedRead(_earlier_cases, customer_id=int, case_id=int, viewer=int)


def customer_card(case: Case, user: User) -> CustomerCard:
    """Who the customer is on every platform, and their other cases that ``user`` may see,
    newest first."""
    identities = [instance(Identity, row) for row in IDENTITIES.rows(customer_id=case.customer_id)]
    earlier = []
    if visibility.scoped(user):
        rows = EARLIER_VISIBLE_CASES.rows(
            customer_id=case.customer_id, case_id=case.pk, viewer=user.pk
        )
    else:
        rows = EARLIER_CASES.rows(customer_id=case.customer_id, case_id=case.pk)
    for row in rows:
        opened = timezone.localtime(row["opened_at"])
        earlier.append(
            EarlierCase(
                url=case_url("detail", row["id"]),
                number=row["id"],
                subject=Truncator(row["subject"] or "(no subject)").chars(60),
                status_label=STATUS_LABELS[row["status"]],
                opened=f"{opened.day} {opened:%b %Y}",
            )
        )
    return CustomerCard(
        case.customer, [IdentityCard.of(i) for i in identities if i is not None], earlier
    )


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
    return list(CannedResponse.objects.only("pk", "title", "text"))


# A case's links and form actions, by URL name (without "case-"): the URLs reversed once
# with a stand-in id, then given each case's own.
CASE_URLS = [
    "case-detail",
    "case-timeline",
    "case-presence",
    "case-claim",
    "case-release",
    "case-reply",
    "case-reply-length",
    "case-reply-email-fields",
    "case-canned",
    "case-canned-picker",
    "case-note",
    "case-hand-off",
    "case-hand-off-fields",
    "case-reassign",
    "case-reassign-fields",
    "case-status",
    "case-details",
    "case-spam",
]
STAND_IN_ID = 987654321


@cache
def _url_forms(script_prefix: str) -> dict[str, str]:
    return {
        name.removeprefix("case-").replace("-", "_"): reverse(
            f"workspace:{name}", kwargs={"case_id": STAND_IN_ID}
        )
        for name in CASE_URLS
    }


def case_url(name: str, case_id: int) -> SafeString:
    """The URL ``name`` ("claim", "hand_off_fields") of ``case_id``, as ``reverse`` gives it,
    without reversing; a path of the URL patterns and an id, with nothing to escape."""
    url = _url_forms(get_script_prefix())[name].replace(f"/{STAND_IN_ID}/", f"/{case_id}/")
    return SafeString(url)


def case_urls(case_id: int) -> dict[str, SafeString]:
    """Every URL of ``CASE_URLS`` of ``case_id``, by name."""
    return {name: case_url(name, case_id) for name in _url_forms(get_script_prefix())}


class CasePage:
    """Everything the case page shows, each part read once and only when a template asks for
    it, so a fragment costs only its own queries."""

    def __init__(self, case: Case, user: User, *, answering_id: str | None = None) -> None:
        self.case = case
        self.user = user
        self._answering_id = answering_id

    @cached_property
    def urls(self) -> dict[str, SafeString]:
        return case_urls(self.case.pk)

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
        return customer_card(self.case, self.user)

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

    @property
    def email_reply(self) -> bool:
        """Whether the composer answers an email: then it has a subject, Cc and attachments."""
        return self.answering is not None and self.answering.message.channel == "email"

    @property
    def attachment_max_bytes(self) -> int:
        return settings.CAREINBOX_REPLY_ATTACHMENT_MAX_BYTES

    @cached_property
    def reply_subject(self) -> str:
        """The subject an email reply gets unless the agent edits it."""
        return reply_subject(self.case, self.answering.message) if self.answering else ""

    @cached_property
    def status(self) -> ComposerStatus:
        return composer_status(
            answering=self.answering.message if self.answering else None, text="", agent=self.user
        )

    @cached_property
    def latest_inbound(self) -> Entry | None:
        """The customer's latest message, repeated above the composer; None when it is the
        timeline's last message anyway, just above."""
        message = latest_inbound(self.timeline.messages)
        if message is None or message is self.timeline.messages[-1]:
            return None
        return next((e for e in self.entries if e.message is message), None)

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
    def shortcut_refusals(self) -> list[tuple[str, str]]:
        """(key, sentence): what a case shortcut with nothing to press here says instead."""
        case = self.case
        if case.merged_into_id is not None:
            into = case.merged_into_id
            merged = f"Case #{case.pk} was merged into case #{into}; work on that one."
            return [(key, merged) for key in "crnhe"]
        if not self.can_work:
            reader = f"You may read case #{case.pk}, but not work on it."
            return [(key, reader) for key in "crnhe"]
        refusals = []
        if self.held_by_other:
            holder = self.assignee_name
            then = (
                "Reassign it, or release it from them."
                if self.can_reassign
                else "Ask them, or a supervisor, to hand it over."
            )
            doings = [("c", "claim it"), ("r", "reply to it"), ("h", "hand it off")]
            if not self.may_act:
                doings.append(("e", "resolve it"))
            refusals += [
                (key, f"{holder} has case #{case.pk}, so you cannot {doing}. {then}")
                for key, doing in doings
            ]
        if case.status == Case.Status.RESOLVED:
            refusals.append(("e", f"Case #{case.pk} is resolved already."))
        elif case.status == Case.Status.CLOSED:
            refusals.append(
                ("e", f"Case #{case.pk} is closed; the customer's next message opens a new one.")
            )
        return refusals

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
    def canned(self) -> CannedChoice:
        """The canned responses, those fitting the message being answered first."""
        answering = self.answering.message if self.answering else None
        return best_fitting(
            canned_responses(), answering.text if answering else "", tags=self.tag_names
        )

    @property
    def priorities(self) -> list[tuple[str, str]]:
        return Case.Priority.choices

    @cached_property
    def tag_names(self) -> list[str]:
        if not hasattr(self.case, "tag_names"):  # a case not read through page_cases()
            return sorted(self.case.tags.values_list("name", flat=True))
        return sorted(self.case.tag_names.split(TAG_SEPARATOR)) if self.case.tag_names else []


def download_key(attachment_id: int) -> str:
    """The key in an attachment's link, which only the server can make: ids run in order,
    so without it anyone signed in could walk through every customer's files."""
    return salted_hmac(
        "careinbox.attachment-download", str(attachment_id), algorithm="sha256"
    ).hexdigest()[:32]


def attachment_url(attachment_id: int) -> str:
    return reverse(
        "workspace:attachment-download",
        kwargs={"attachment_id": attachment_id, "download_key": download_key(attachment_id)},
    )
