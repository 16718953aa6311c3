"""Ingest: customer messages attached to their customers' cases, a batch at a time.

``ingest_batch`` runs the named ``STAGES`` over the whole batch. The stages that read do so
once per batch (identities, customers, stored messages, threads, rules, policies, agents);
the decisions are made in memory in platform-time order, with the same rules a message
ingested alone follows; ``write`` then stores everything with a constant number of
statements, each touched case written once. A single message is a batch of one.

The batch runs in one transaction, holding its customers' row locks (taken in id order, as
merges take them) from ``lock_customers`` to the commit. Identity linking runs after the
commit, as a task.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, NamedTuple

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from cases import history
from cases.bulk import RowMaker, insert_rows, update_rows
from cases.clocks import apply_due_times, due_times, pauses_of
from cases.models import (
    ORPHAN_REPLIES,
    Attachment,
    Case,
    CaseEvent,
    Message,
    SpamBlock,
    Survey,
    Tag,
)
from cases.sanitise import sanitise_html
from cases.selectors import live_case
from cases.services import set_status
from casework import closers, hiding, spam
from casework.assignment import ASSIGNABLE_STATUSES, available_agents, held_counts
from casework.linking import name_evidence
from casework.tasks import hide_spam_task, link_customers_task, send_praise_task
from channels.email.quoting import split_quoted
from channels.inbound import InboundAuthor, InboundMessage
from channels.models import ChannelAccount
from customers.models import Customer, Evidence, Identity
from incidents import detection
from incidents.models import Incident, IncidentMessage
from notifications.models import Notification
from routing.praise import Praise, StaffName, asks_something, has_praise_signal
from routing.praise import find_praise as read_praise
from routing.rules import Outcome, enabled_rules, evaluate, load_stores, message_text
from routing.sentiment import NEUTRAL, sentiment
from routing.survey_answers import read_score
from sla.calendar import Hours, hours_of
from sla.models import BusinessCalendar, SLAPolicy
from staff.models import AgentProfile, Team
from staff.selectors import holders_of, staff_with_teams

SUBJECT_FROM_TEXT_CHARS = 120
PROFILE_FIELDS = ["handle", "display_name", "follower_count", "avatar_url"]

# The private channels a satisfaction survey goes on, and so may be answered on.
SURVEY_CHANNELS = frozenset({"x.dm", "facebook.message", "email"})
# A survey's time is our clock's, an answer's the platform's (to the second on X): an answer
# may seem to come a little before the question.
SURVEY_CLOCK_SKEW = timedelta(minutes=1)

REOPEN_REASONS = {
    "reopened": "The customer wrote again within the reopen window.",
    "thread_reopened": "The customer replied in the thread of this resolved case.",
}

# What ingest may change on a case that already exists, written once per batch.
CASE_FIELDS = [
    "status",
    "closed_at",
    "resolved_at",
    "first_inbound_at",
    "last_inbound_at",
    "opened_at",
    "subject",
    "team",
    "priority",
    "assignee",
    "awaiting_reply_since",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_policy",
    "spam",
]


@dataclass(frozen=True)
class IngestResult:
    message: Message
    duplicate: bool


@dataclass
class Item:
    """One platform message on its way through the stages."""

    account: ChannelAccount
    inbound: InboundMessage
    identity: Identity | None = None
    # Set once the message is known: stored earlier (a duplicate) or stored by this batch.
    message: Message | None = None
    duplicate: bool = False
    repeat_of: "Item | None" = None  # the same message earlier in the batch
    outcome: Outcome = field(default_factory=Outcome)
    sentiment: str = ""  # "neg", "neu", "pos"; "" when not scored
    parent: Message | None = None
    case: Case | None = None
    how: str = ""
    praise: Praise | None = None
    asks: bool = False  # asks for something besides passing praise on
    spam_reason: str = ""  # why it is spam or a bot's ("" when it is not)
    # The satisfaction survey this message answers, and the score it gives (1-5).
    survey: Survey | None = None
    survey_score: int = 0

    @property
    def key(self) -> tuple[int, str]:
        return (self.account.pk, self.inbound.external_id)

    @cached_property
    def words(self) -> list[str]:
        """The text's words as the repeat rules compare them (``spam.normalise``)."""
        return spam.normalise(self.inbound.text, email=self.inbound.channel == "email")


@dataclass
class Batch:
    """What the stages share: the items, what was read once for all of them, and the rows
    the decisions produce, in the order a message-by-message ingest would write them."""

    items: list[Item]
    now: datetime = field(default_factory=lambda: timezone.now())
    customers: dict[int, Customer] = field(default_factory=dict)
    # Each live customer's case that is not closed, and their latest case of any status.
    active: dict[int, Case | None] = field(default_factory=dict)
    latest: dict[int, Case | None] = field(default_factory=dict)
    quoted: dict[int, Case] = field(default_factory=dict)
    # Messages stored before that this batch's messages reply to, by (account, platform id).
    parents: dict[tuple[Any, Any], Message] = field(default_factory=dict)
    # The tags of the cases that existed before, by case id, and those this batch adds.
    stored_tags: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    new_cases: list[Case] = field(default_factory=list)
    touched: dict[int, Case] = field(default_factory=dict)  # by id(case), in touch order
    events: list[CaseEvent] = field(default_factory=list)
    notices: list["Notice"] = field(default_factory=list)
    tags: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    status_changes: dict[int, list[tuple[datetime, dict]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    profiles: dict[int, AgentProfile] = field(default_factory=dict)
    # Supervisors by team and users' email addresses, read when the batch holds praise; the
    # praise mails to send after the commit: (case, subject, body given the number, to).
    supervisors: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    emails: dict[int, str] = field(default_factory=dict)
    praise_mails: list[tuple[Case, Callable[[int], tuple[str, str]], list[str]]] = field(
        default_factory=list
    )
    # Each case's earliest customer message in platform order, (sent at, channel, platform
    # id), by id(case): its subject is that message's, whatever arrived first.
    firsts: dict[int, tuple[datetime, str, str]] = field(default_factory=dict)
    # Messages stored before that a repeat in this batch shows were spam too.
    retro_spam: list[Message] = field(default_factory=list)
    # The cases stored before whose first customer message may be one of this batch's: their
    # roll-up's channel may change (``cases.rollup``).
    earlier_firsts: set[int] = field(default_factory=set)
    # Incidents found by this batch, the links of messages to incidents, and the incidents
    # that gained messages.
    incidents: list[Incident] = field(default_factory=list)
    incident_links: list[IncidentMessage] = field(default_factory=list)
    grown_incidents: list[Incident] = field(default_factory=list)
    # Surveys this batch's messages answer.
    answered_surveys: list[Survey] = field(default_factory=list)

    @property
    def fresh(self) -> list[Item]:
        """The items this batch stores: not stored before, not repeated in the batch."""
        return [item for item in self.items if not item.duplicate]

    def touch(self, case: Case) -> Case:
        self.touched.setdefault(id(case), case)
        return case

    def record(
        self,
        case: Case,
        kind: str,
        *,
        at: datetime,
        message: Message | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """A history event, written with the others once the cases and messages exist."""
        event = history.event(case=case, kind=kind, at=at, message=message, data=data)
        self.events.append(event)
        if kind == CaseEvent.Kind.STATUS_CHANGED:
            self.status_changes[id(case)].append((at, event.data))


@dataclass
class Notice:
    """A notification about a case that may not have its number yet."""

    recipient_id: int
    kind: str
    case: Case
    text: Callable[[int], str]  # given the case number

    def row(self) -> Notification:
        return Notification(
            recipient_id=self.recipient_id,
            kind=self.kind,
            case=self.case,
            text=self.text(self.case.pk)[:300],
        )


# Reading.


def drop_repeats(batch: Batch) -> None:
    """A message delivered twice in one batch is stored once; the later copy is a duplicate."""
    first: dict[tuple[int, str], Item] = {}
    for item in batch.items:
        if item.key in first:
            item.duplicate, item.repeat_of = True, first[item.key]
        else:
            first[item.key] = item


def resolve_identities(batch: Batch) -> None:
    """Find every author's identity with one query; create the missing ones, each with a new
    customer, in bulk. An identity another worker created meanwhile is the one used."""
    wanted: dict[tuple[str, str], Item] = {
        (i.inbound.platform, i.inbound.author.external_id): i for i in batch.fresh
    }
    # The earliest message of a new author names the customer, as it would alone.
    for item in reversed(batch.fresh):
        wanted[(item.inbound.platform, item.inbound.author.external_id)] = item
    found = _identities(wanted)
    # New customers are numbered in the order their first messages were sent, as one at a
    # time would number them; their identities go in in one order every worker shares.
    missing = sorted(
        (key for key in wanted if key not in found), key=lambda k: _platform_order(wanted[k])
    )
    if missing:
        now = timezone.now()
        authors = {key: wanted[key].inbound for key in missing}
        customers = dict(
            zip(
                missing,
                Customer.objects.bulk_create(
                    [
                        Customer(
                            display_name=_customer_name(authors[k].author),
                            # A customer since their first message, not since we stored it;
                            # never later than now, whatever a platform's clock says.
                            created_at=min(authors[k].sent_at, now),
                        )
                        for k in missing
                    ]
                ),
                strict=True,
            )
        )
        Identity.objects.bulk_create(
            [
                Identity(
                    customer=customers[platform, external_id],
                    platform=platform,
                    external_id=external_id,
                    last_seen_at=authors[platform, external_id].sent_at,
                    **_profile(authors[platform, external_id].author),
                )
                for platform, external_id in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        found = _identities(wanted)
        unused = {c.pk for c in customers.values()} - {i.customer_id for i in found.values()}
        if unused:  # lost a race for the identity: the customer made for it is not needed
            Customer.objects.filter(pk__in=unused).delete()
    for item in batch.fresh:
        item.identity = found[(item.inbound.platform, item.inbound.author.external_id)]


def _identities(keys: dict[tuple[str, str], Item]) -> dict[tuple[str, str], Identity]:
    match = _any_of("platform", "external_id", keys)
    return {(i.platform, i.external_id): i for i in Identity.objects.filter(match)}


def _any_of(group: str, name: str, pairs: Iterable[tuple[Any, str]]) -> Q:
    """Rows whose (``group``, ``name``) is one of ``pairs``: one list of names per group,
    which the database plans far faster than a condition per pair."""
    names: dict[Any, list[str]] = defaultdict(list)
    for key, value in pairs:
        names[key].append(value)
    match = Q(pk__in=[])
    for key, values in names.items():
        match |= Q(**{group: key, f"{name}__any": values})
    return match


def _customer_name(author: InboundAuthor | Identity) -> str:
    return author.display_name or author.handle or author.external_id


def _profile(author: InboundAuthor | Identity) -> dict[str, Any]:
    return {name: getattr(author, name) for name in PROFILE_FIELDS}


def _later(profile: dict[str, Any], than: dict[str, Any]) -> bool:
    """An arbitrary but fixed order of profiles, for messages sent at the same moment."""
    return [repr(v) for v in profile.values()] > [repr(v) for v in than.values()]


def lock_customers(batch: Batch) -> None:
    """Lock the authors' live customers in one statement, in id order, as merges do. The
    locks serialise everything that touches these customers' cases until the commit."""
    identities = {i.identity.pk: i.identity for i in batch.fresh if i.identity}
    while identities:
        wanted = {identity.customer_id for identity in identities.values()}
        locked = Customer.objects.select_for_update().filter(pk__any=wanted).order_by("pk")
        batch.customers.update({c.pk: c for c in locked})
        # A merge that committed while this batch waited moved its identities on.
        merged = {
            i.pk for i in identities.values() if batch.customers[i.customer_id].merged_into_id
        }
        identities = {i.pk: i for i in Identity.objects.filter(pk__in=merged)}
        for item in batch.fresh:
            if item.identity and item.identity.pk in identities:
                item.identity = identities[item.identity.pk]


def drop_stored(batch: Batch) -> None:
    """Messages stored before, found with one query under the customers' locks, are
    duplicates (the unique key on the message is the backstop)."""
    match = _any_of("channel_account", "external_id", (item.key for item in batch.fresh))
    stored = {(m.channel_account_id, m.external_id): m for m in Message.objects.filter(match)}
    for item in batch.fresh:
        if item.key in stored:
            item.message, item.duplicate = stored[item.key], True


def refresh_profiles(batch: Batch) -> None:
    """Each identity shows the profile of its newest message, whatever the arrival order (of
    messages sent at the same moment, the profile that sorts last), and so does a customer
    still named after it."""
    changed: dict[int, Identity] = {}
    renamed: dict[int, Customer] = {}
    for item in batch.fresh:  # in platform-time order: the last change is the newest
        identity = item.identity
        assert identity is not None
        at, profile = item.inbound.sent_at, _profile(item.inbound.author)
        newer = at > identity.last_seen_at
        if newer or (at == identity.last_seen_at and _later(profile, _profile(identity))):
            customer = batch.customers.get(identity.customer_id)
            # A customer named after this identity keeps its name in step with it.
            name = _customer_name(item.inbound.author)
            if customer and customer.display_name == _customer_name(identity) != name:
                customer.display_name = name
                renamed[customer.pk] = customer
            identity.last_seen_at = at
            for name, value in profile.items():
                setattr(identity, name, value)
            changed[identity.pk] = identity
    if changed:
        update_rows(Identity, list(changed.values()), ["last_seen_at", *PROFILE_FIELDS])
    if renamed:
        update_rows(Customer, list(renamed.values()), ["display_name"])


def load_threads(batch: Batch) -> None:
    """The customers' active and latest cases, the messages replied to, and the cases quoted
    by number: what choosing a case reads."""
    customer_ids = {i.identity.customer_id for i in batch.fresh if i.identity}
    for case in Case.objects.filter(customer__any=customer_ids).exclude(status=Case.Status.CLOSED):
        batch.active[case.customer_id] = case
    lonely_machines = {
        i.identity.customer_id
        for i in batch.fresh
        if i.identity and i.inbound.automated and i.identity.customer_id not in batch.active
    }
    if lonely_machines:
        for case in Case.objects.filter(customer__any=lonely_machines).order_by(
            "customer_id", "opened_at", "pk"
        ):
            batch.latest[case.customer_id] = case
    numbers = {i.inbound.case_reference for i in batch.fresh if i.inbound.case_reference}
    if numbers:
        batch.quoted = {c.pk: c for c in Case.objects.filter(pk__any=numbers)}
    replied_to = [(i.account.pk, ref) for i in batch.fresh for ref in i.inbound.in_reply_to]
    if replied_to:
        match = _any_of("channel_account", "external_id", replied_to)
        parents = Message.objects.filter(match).select_related("case")
        batch.parents = {(m.channel_account_id, m.external_id): m for m in parents}
    known = {c.pk: c for c in [*batch.active.values(), *batch.latest.values()] if c}
    if known:
        # Only messages at a case's first time can tie with a new one.
        firsts = Message.objects.filter(
            case__any=known,
            direction=Message.Direction.INBOUND,
            sent_at=F("case__first_inbound_at"),
        )
        for case_id, at, channel, external_id in firsts.values_list(
            "case", "sent_at", "channel", "external_id"
        ):
            key, case = (at, channel, external_id or ""), known[case_id]
            batch.firsts[id(case)] = min(batch.firsts.get(id(case), key), key)
    cases = list(known)
    tagged = Case.tags.through.objects.filter(case__any=cases)
    for case_id, name in tagged.values_list("case", "tag__name"):
        batch.stored_tags[case_id].add(name)


def _first_of(found: dict, account_id: int, references: Sequence[str]) -> Message | None:
    return next((found[account_id, r] for r in references if (account_id, r) in found), None)


def score_sentiment(batch: Batch) -> None:
    """The sentiment of every message stored by this batch (``routing.sentiment``), from its
    text alone: no statements. It runs before ``route`` so rules can match on it. A machine's
    message (an auto-reply, a bounce) carries nobody's mood: it is neutral."""
    for item in batch.fresh:
        inbound = item.inbound
        if inbound.automated:
            item.sentiment = NEUTRAL
            continue
        text = f"{inbound.subject}\n{inbound.text}" if inbound.subject else inbound.text
        item.sentiment = sentiment(text)


def route(batch: Batch) -> None:
    """Run the enabled routing rules on every message, reading the rules and stores once.
    What they decide is applied as each message is recorded."""
    rules = enabled_rules()
    if not rules:
        return
    stores = load_stores() if any(r.names_store or r.team_from_store for r in rules) else []
    for item in batch.fresh:
        item.outcome = evaluate(rules, _unstored(item), stores=stores)


def _unstored(item: Item) -> "_Unstored":
    inbound = item.inbound
    return _Unstored(
        text=inbound.text,
        subject=inbound.subject,
        channel=inbound.channel,
        sentiment=item.sentiment,
        channel_account_id=item.account.pk,
        channel_account=item.account,
        attachments=_Present(bool(inbound.attachments)),
    )


def find_praise(batch: Batch) -> None:
    """Find the person, store or team each customer message praises. Only a batch with a
    warm word in it reads anything: who works cases (names, teams, email, who supervises),
    the stores and the teams, once each."""
    texts = {
        id(item): message_text(_unstored(item))
        for item in batch.fresh
        if not item.inbound.automated
    }
    warm = [item for item in batch.fresh if has_praise_signal(texts.get(id(item), ""))]
    if not warm:
        return
    staff: dict[int, StaffName] = {}
    for user_id, name, email, works, supervises, team_id, team_name in staff_with_teams():
        if email:
            batch.emails[user_id] = email
        if supervises and team_id is not None:
            batch.supervisors[team_id].add(user_id)
        if works:
            member = staff.get(user_id) or StaffName(user_id=user_id, display_name=name)
            if team_id is not None:
                member = StaffName(
                    user_id=user_id,
                    display_name=name,
                    team_ids=(*member.team_ids, team_id),
                    team_names=(*member.team_names, team_name),
                )
            staff[user_id] = member
    stores = load_stores()
    teams = list(Team.objects.order_by("pk"))
    for item in warm:
        text = texts[id(item)]
        item.praise = read_praise(
            text, staff_names=list(staff.values()), stores=stores, teams=teams
        )
        item.asks = item.praise is not None and asks_something(text)


@dataclass(frozen=True)
class _Unstored:
    """A message not stored yet, as the routing rules read one."""

    text: str
    subject: str
    channel: str
    sentiment: str
    channel_account_id: int
    channel_account: ChannelAccount
    attachments: "_Present"


@dataclass(frozen=True)
class _Present:
    present: bool

    def exists(self) -> bool:
        return self.present


def find_spam(batch: Batch) -> None:
    """Set the reason on each message that is spam (``casework.spam``): the spam list, then
    the content rules, then repeats. Reads the spam list, and in one query the authors'
    messages of the last week, anyone's of the last day with the same words as a message
    that promotes something (by fingerprint: only such a text can be a campaign) and the
    messages of the customers' open cases. An author's
    earlier copies still unanswered are marked too, and a case left with nothing but spam
    moves to the Spam queue."""
    items = [i for i in batch.fresh if not i.inbound.automated and i.identity is not None]
    if not items:
        return
    spam_list = spam.SpamList(SpamBlock.objects.all())
    promoting = [spam.promotes(i.inbound.text) for i in items]
    start = min(i.inbound.sent_at for i in items)
    end = max(i.inbound.sent_at for i in items)
    open_cases = {c.pk: c for c in batch.active.values() if c is not None and c.pk}
    answered = Message.objects.filter(
        case=OuterRef("case"),
        direction=Message.Direction.OUTBOUND,
        sent_at__gte=OuterRef("sent_at"),
    )
    window, day = spam.SAME_AUTHOR_WINDOW, spam.MANY_AUTHORS_WINDOW
    recent = (
        Message.objects.filter(direction=Message.Direction.INBOUND)
        .filter(
            Q(
                author_identity__any={i.identity.pk for i in items if i.identity},
                sent_at__range=(start - window, end + window),
            )
            | Q(
                text_fingerprint__any={
                    spam.fingerprint(i.words) for i, p in zip(items, promoting, strict=True) if p
                }
                - {""},
                sent_at__range=(start - day, end + day),
            )
            | Q(case__any=list(open_cases))
        )
        .annotate(
            answered=Exists(answered),
            # The text only for a message stored before its words were kept.
            unread_text=models.Case(
                When(text_words__isnull=True, then=F("text")),
                default=Value(""),
                output_field=models.TextField(),
            ),
        )
        .values_list(*_StoredMessage._fields)
    )
    # Read as plain rows: most are only compared, and a model instance each would cost more
    # than the comparing.
    stored = {row[0]: _StoredMessage(*row) for row in recent}
    trust: dict[int, bool] = {}
    posts: list[spam.Post] = []
    shingled = spam.Shingler()
    for m in stored.values():
        if m.automated or m.author_identity_id is None:
            continue
        if m.author_identity_id not in trust:
            trust[m.author_identity_id] = spam_list.trusted(
                m.author_identity__platform or "",
                m.author_identity__external_id or "",
                m.author_identity__handle or "",
            )
        posts.append(
            spam.Post(
                ("stored", m.pk),
                m.author_identity_id,
                m.sent_at,
                shingled(
                    m.text_words
                    if m.text_words is not None
                    else " ".join(spam.normalise(m.unread_text, email=m.channel == "email"))
                ),
                stored=True,
                settled=bool(m.spam_reason) or m.answered,
                trusted=trust[m.author_identity_id],
            )
        )
    trusted_items = set()
    for n, item in enumerate(items):
        identity = item.identity
        assert identity is not None
        if spam_list.trusted(identity.platform, identity.external_id, item.inbound.author.handle):
            trusted_items.add(n)
        posts.append(
            spam.Post(
                ("item", n),
                identity.pk,
                item.inbound.sent_at,
                shingled(" ".join(item.words)),
                trusted=n in trusted_items,
                promotes=promoting[n],
            )
        )
    repeated = spam.repeats(posts)
    for n, item in enumerate(items):
        inbound_author, text = item.inbound.author, item.inbound.text
        item.spam_reason = spam_list.reason(
            item.inbound.platform, inbound_author.external_id, inbound_author.handle, text
        )
        if item.spam_reason or n in trusted_items:
            continue
        item.spam_reason = (
            spam.content_reason(text)
            or spam.impersonation_reason(
                text,
                display_name=inbound_author.display_name,
                handle=inbound_author.handle,
                account_name=item.account.name,
            )
            or repeated.get(("item", n), "")
        )
    _mark_stored_spam(batch, stored, repeated, open_cases)


class _StoredMessage(NamedTuple):
    """A customer message stored before, as ``find_spam`` reads it."""

    pk: int
    case_id: int
    channel: str  # the channel and account say whether it is hidden on its platform
    channel_account_id: int | None
    text_words: str | None
    unread_text: str
    sent_at: datetime
    spam_reason: str
    needs_reply: bool
    automated: bool
    author_identity_id: int | None
    author_identity__platform: str | None
    author_identity__external_id: str | None
    author_identity__handle: str | None
    answered: bool  # an agent replied in its case since


def _mark_stored_spam(
    batch: Batch,
    stored: dict[int, _StoredMessage],
    repeated: dict,
    open_cases: dict[int, Case],
) -> None:
    """An author's earlier copies, stored before, are spam too: no reply needed, and their
    open case's clock and queue follow (written with the batch)."""
    marked = {pk for kind, pk in repeated if kind == "stored"}
    for pk in sorted(marked):
        row = stored[pk]
        reason = repeated["stored", pk]
        message = Message(
            pk=pk,
            case_id=row.case_id,
            channel=row.channel,
            channel_account_id=row.channel_account_id,
            spam_reason=reason,
            needs_reply=False,
            no_reply_reason=f"Spam: {reason}"[:300],
        )
        batch.retro_spam.append(message)
        case = open_cases.get(message.case_id)
        if case is not None:
            batch.record(
                case,
                CaseEvent.Kind.MARKED_SPAM,
                at=batch.now,
                message=message,
                data={"reason": reason, "by": "ingest"},
            )
    touched = {stored[pk].case_id for pk in marked} & open_cases.keys()
    inbound_of: dict[int, list[_StoredMessage]] = defaultdict(list)
    for m in stored.values():
        if m.case_id in touched and not m.automated and m.pk not in marked:
            inbound_of[m.case_id].append(m)
    for case_id in touched:
        case = open_cases[case_id]
        live = [m for m in inbound_of[case_id] if not m.spam_reason]
        waiting = [m.sent_at for m in live if m.needs_reply and not m.answered]
        case.awaiting_reply_since = min(waiting, default=None)
        if not live and not case.spam:
            case.spam = True
        batch.touch(case)


def find_survey_answers(batch: Batch) -> None:
    """Read a short reply that is only a rating ("5", "4 out of 5", "⭐⭐⭐⭐", "muy bien") as the
    answer to its customer's unanswered survey sent on the same private channel and account
    within ``CAREINBOX_SURVEY_ANSWER_DAYS`` before it. Reads the surveys once, and only for a
    batch holding such a reply; a message that is no rating is handled as usual."""
    scored = []
    for item in batch.fresh:
        inbound = item.inbound
        if inbound.automated or item.spam_reason or item.identity is None:
            continue
        if inbound.channel not in SURVEY_CHANNELS:
            continue
        text = split_quoted(inbound.text)[0] if inbound.channel == "email" else inbound.text
        score = read_score(text)
        if score is not None:
            scored.append((item, score))
    if not scored:
        return
    window = timedelta(days=settings.CAREINBOX_SURVEY_ANSWER_DAYS)
    start = min(item.inbound.sent_at for item, _ in scored) - window
    open_surveys = list(
        Survey.objects.filter(
            customer__any={item.identity.customer_id for item, _ in scored if item.identity},
            answered_at__isnull=True,
            sent_at__gte=start,
            case__merged_into__isnull=True,
        )
        .select_related("case")
        .order_by("-sent_at", "-pk")
    )
    for item, score in scored:  # in platform-time order: the first rating answers
        assert item.identity is not None
        at = item.inbound.sent_at
        survey = next(
            (
                s
                for s in open_surveys
                if s.answered_at is None
                and s.customer_id == item.identity.customer_id
                and s.channel == item.inbound.channel
                and s.channel_account_id == item.account.pk
                and s.sent_at - SURVEY_CLOCK_SKEW <= at <= s.sent_at + window
            ),
            None,
        )
        if survey is not None:
            survey.answered_at, survey.score = at, score
            item.survey, item.survey_score = survey, score
            batch.answered_surveys.append(survey)


# Deciding, in platform-time order.


def record_messages(batch: Batch) -> None:
    """Choose each message's case and record what it does to it, message by message in
    platform-time order, exactly as ingesting them one at a time would."""
    # The messages stored by now, as each message would find them alone: the ones replied to
    # that were stored before, and this batch's as it goes.
    stored = dict(batch.parents)
    auto_teams = set(Team.objects.filter(auto_assign=True).values_list("pk", flat=True))
    assigner = _Assigner(batch, auto_teams)
    for item in batch.fresh:
        assert item.identity is not None
        customer = batch.customers[item.identity.customer_id]
        item.parent = _first_of(stored, item.account.pk, item.inbound.in_reply_to)
        item.case, item.how = _choose_case(batch, item, customer)
        item.message = _message(item)
        stored[item.key] = item.message
        _record_inbound(batch, item, assigner)


def _choose_case(batch: Batch, item: Item, customer: Customer) -> tuple[Case, str]:
    """The case the message joins and how it was chosen: "joined", "created", "reopened",
    "thread_reopened" (a reply in the thread of a resolved case reopens it whatever its age),
    "automated" or "survey_answer" (the surveyed case, reopened by nothing). A reply to
    another customer's message never joins their case."""
    inbound = item.inbound
    active = batch.active.get(customer.pk)
    if inbound.automated:
        # An auto-reply or bounce joins the case the customer is in, or their latest one.
        case = active or batch.latest.get(customer.pk)
        return (case, "automated") if case else (_open_case(batch, item, customer), "created")
    if item.survey is not None:
        # An answer joins the surveyed case as it is: it reopens nothing.
        surveyed = item.survey.case_id
        known = (c for c in (active, batch.latest.get(customer.pk)) if c and c.pk == surveyed)
        return next(known, None) or item.survey.case, "survey_answer"
    if active is None:
        return _open_case(batch, item, customer), "created"
    if active.status != Case.Status.RESOLVED:
        return active, "joined"
    if item.parent is not None:
        thread: Case | None = item.parent.case  # one of this batch's cases, or stored
    else:
        quoted = batch.quoted.get(inbound.case_reference or 0)
        thread = quoted if quoted and quoted.customer_id == customer.pk else None
    if thread is not None and _same(live_case(thread), active):
        return active, "thread_reopened"
    if active.resolved_at is None or inbound.sent_at - active.resolved_at <= (
        settings.CAREINBOX_REOPEN_WINDOW
    ):
        return active, "reopened"
    _change_status(
        batch,
        active,
        Case.Status.CLOSED,
        reason="The reopen window passed before the customer wrote again.",
        at=batch.now,
    )
    return _open_case(batch, item, customer), "created"


def _same(a: Case, b: Case) -> bool:
    return a is b or (a.pk is not None and a.pk == b.pk)


def _open_case(batch: Batch, item: Item, customer: Customer) -> Case:
    case = Case(customer=customer, opened_at=item.inbound.sent_at)
    batch.new_cases.append(case)
    batch.active[customer.pk] = batch.touch(case)
    batch.latest[customer.pk] = case
    return case


def _cut_text(text: str, *, limit: int) -> str:
    """``text`` as stored when it is over ``limit`` characters: cut at the last line break
    near the limit, else the last word break (mid-word only for a text without either), then
    a visible marker."""
    head = text[:limit]
    for brk in (head.rfind("\n"), head.rfind(" ")):
        if brk > limit * 0.9:
            head = head[:brk]
            break
    head = head.rstrip()
    return (
        f"{head}\n\n[Truncated: the first {len(head):,} of {len(text):,} characters "
        "are shown. Show all downloads the whole message.]"
    )


_new_message = RowMaker(Message)


def _message(item: Item) -> Message:
    inbound = item.inbound
    limit = settings.CAREINBOX_MESSAGE_TEXT_LIMIT
    over = len(inbound.text) > limit
    return _new_message(
        case=item.case,
        direction=Message.Direction.INBOUND,
        channel_account=item.account,
        channel=inbound.channel,
        external_id=inbound.external_id,
        in_reply_to_external_id=inbound.in_reply_to[0] if inbound.in_reply_to else "",
        parent=item.parent,
        author_identity=item.identity,
        text=_cut_text(inbound.text, limit=limit) if over else inbound.text,
        full_text=inbound.text if over else "",
        praise_for=item.praise.text[:200] if item.praise else "",
        html=sanitise_html(inbound.html),
        subject=inbound.subject,
        context=inbound.context,
        automated=inbound.automated,
        sentiment=item.sentiment,
        text_fingerprint="" if inbound.automated else spam.fingerprint(item.words),
        text_words="" if inbound.automated else " ".join(item.words),
        sent_at=inbound.sent_at,
        raw_payload=inbound.raw,
    )


def _change_status(
    batch: Batch,
    case: Case,
    status: str,
    *,
    reason: str,
    at: datetime,
    message: Message | None = None,
) -> None:
    """``cases.services.change_status`` for a case of the batch: written with the batch, its
    clocks set once at the end."""
    data = set_status(case, status, at=at, reason=reason)
    batch.touch(case)
    batch.record(case, CaseEvent.Kind.STATUS_CHANGED, at=at, message=message, data=data)


def _record_inbound(batch: Batch, item: Item, assigner: "_Assigner") -> None:
    """Update the case's clocks and status for a new customer message and write its history."""
    case, message, how = item.case, item.message, item.how
    assert case is not None and message is not None
    at = message.sent_at
    # A message after its case's first from a person (first_inbound_at) is not its first.
    if case.pk is not None and (case.first_inbound_at is None or at <= case.first_inbound_at):
        batch.earlier_firsts.add(case.pk)
    if how == "created":
        batch.record(case, CaseEvent.Kind.CREATED, at=at, message=message)
    elif how == "automated":
        batch.record(
            case,
            CaseEvent.Kind.MESSAGE_RECEIVED,
            at=at,
            message=message,
            data={"channel": message.channel, "automated": message.automated},
        )
        return  # no clock, status or subject changes: nobody needs to answer a machine
    if how == "survey_answer":
        message.needs_reply = False
        message.no_reply_reason = f"Answer to the satisfaction survey: {item.survey_score} of 5"
        batch.record(
            case,
            CaseEvent.Kind.MESSAGE_RECEIVED,
            at=at,
            message=message,
            data={"channel": message.channel, "survey_score": item.survey_score},
        )
        return  # no clock, status or subject changes
    batch.touch(case)
    if item.spam_reason:
        # Stored, shown with its reason, but no clock, no reopening, no notice: a new case
        # it opens goes to the Spam queue; a case it joins stays where it is.
        message.spam_reason = item.spam_reason[:300]
        message.needs_reply, message.no_reply_reason = False, f"Spam: {item.spam_reason}"[:300]
        batch.record(
            case,
            CaseEvent.Kind.MARKED_SPAM,
            at=at,
            message=message,
            data={"reason": message.spam_reason, "by": "ingest"},
        )
        if how != "created":
            batch.record(
                case,
                CaseEvent.Kind.MESSAGE_RECEIVED,
                at=at,
                message=message,
                data={"channel": message.channel},
            )
            return
        case.spam = True
    outcome = item.outcome
    if message.needs_reply:  # spam has had its reason given
        _find_no_reply(item, message, outcome)
    # A message that needs no reply (a closing "thanks!") leaves the status as it is.
    if how in REOPEN_REASONS and message.needs_reply:
        _change_status(
            batch, case, Case.Status.OPEN, reason=REOPEN_REASONS[how], message=message, at=at
        )
    elif case.status == Case.Status.PENDING and message.needs_reply:
        _change_status(
            batch, case, Case.Status.OPEN, reason="The customer answered.", message=message, at=at
        )
    batch.record(
        case,
        CaseEvent.Kind.MESSAGE_RECEIVED,
        at=at,
        message=message,
        data={"channel": message.channel},
    )
    _apply_routing(batch, case, message, outcome)
    if item.praise is not None and not message.spam_reason:
        _pass_on_praise(batch, item, case, message, item.praise)
    if case.assignee_id is not None and not message.spam_reason:
        author = item.identity
        assert author is not None
        name, text = author.display_name or author.handle, message.text[:120]
        batch.notices.append(
            Notice(
                recipient_id=case.assignee_id,
                kind=Notification.Kind.NEW_MESSAGE,
                case=case,
                text=lambda number: f"{name} wrote on case #{number}: {text}",
            )
        )
    # Clocks and subject take the extremes of the platform times (and the subject the first
    # message in platform order, ties included), so messages that arrive out of order leave
    # the same case behind as messages that arrive in order.
    key = (at, message.channel, message.external_id or "")
    first = batch.firsts.get(id(case))
    if case.first_inbound_at is None or at < case.first_inbound_at or (first and key < first):
        case.first_inbound_at = at
        case.subject = _subject_of(message)
        batch.firsts[id(case)] = key
    case.opened_at = min(case.opened_at, at)
    case.last_inbound_at = max(case.last_inbound_at or at, at)
    waiting = case.awaiting_reply_since
    if message.needs_reply and (waiting is None or at < waiting):
        case.awaiting_reply_since = at
    assigner.offer(case)


def _pass_on_praise(
    batch: Batch, item: Item, case: Case, message: Message, praise: Praise
) -> None:
    """Tag the case "praise"; tell the person praised and their teams' supervisors in the
    app and by email, or email the store named when the person is not a user."""
    added = batch.tags[id(case)]
    if "praise" not in added and "praise" not in batch.stored_tags.get(case.pk, set()):
        added.append("praise")
    author = item.identity
    customer = (author.display_name or author.handle) if author else "A customer"
    target, text = praise.text, message.text[:1000]
    recipients: list[int] = []
    if praise.staff is not None:
        person = praise.staff.user_id
        recipients.append(person)
        batch.notices.append(
            Notice(
                recipient_id=person,
                kind=Notification.Kind.PRAISED,
                case=case,
                text=lambda number: f"{customer} praised you on case #{number}: {text[:150]}",
            )
        )
        supervisors = sorted(
            {s for team in praise.staff.team_ids for s in batch.supervisors.get(team, ())}
            - {person}
        )
        for supervisor in supervisors:
            recipients.append(supervisor)
            batch.notices.append(
                Notice(
                    recipient_id=supervisor,
                    kind=Notification.Kind.PRAISED,
                    case=case,
                    text=lambda number: (
                        f"{customer} praised {target} on case #{number}: {text[:150]}"
                    ),
                )
            )
        to = [batch.emails[r] for r in recipients if batch.emails.get(r)]
    else:
        store = praise.store
        to = [store.contact_email] if store is not None and store.contact_email else []
    if to:
        batch.praise_mails.append(
            (
                case,
                lambda number: (
                    f"Praise for {target} from a customer (case #{number})",
                    f"{customer} wrote on case #{number}:\n\n{text}\n\nPlease pass it on.",
                ),
                to,
            )
        )


def _find_no_reply(item: Item, message: Message, outcome: Outcome) -> None:
    """Whether the message needs no reply, and why: a routing rule's decision first, then
    praise closing a conversation (a new post of praise gets the brand's thanks, as does
    praise that asks for something), then what ``casework.closers`` finds."""
    reason = outcome.no_reply_reason
    closing = item.how != "created" or item.parent is not None
    if not reason and item.praise is not None and not item.asks and closing:
        reason = f"Praise for {item.praise.text}"
    if not reason and not item.inbound.attachments:  # sent for us to look at
        reason = closers.no_reply_reason(
            closers.new_text(message),
            answers_another_customer=_answers_another_customer(item),
            sentiment=item.sentiment,
        )
    if reason:
        message.needs_reply, message.no_reply_reason = False, reason[:300]


def _answers_another_customer(item: Item) -> bool:
    parent = item.parent
    return (
        parent is not None
        and parent.direction == Message.Direction.INBOUND
        and item.identity is not None
        and parent.author_identity_id != item.identity.pk
    )


def _apply_routing(batch: Batch, case: Case, message: Message, outcome: Outcome) -> None:
    """Set the team (of a case without one), raise the priority and add the tags the rules
    chose, and write one "Routed by rules" history event naming the rules and the changes."""
    if not outcome.rules:
        return
    data: dict[str, object] = {"rules": outcome.rules}
    if outcome.team is not None and case.team_id is None:
        case.team = outcome.team
        data["team"] = {"id": outcome.team.pk, "name": outcome.team.name}
        if outcome.store is not None:
            data["store"] = str(outcome.store)
    rank = Case.Priority.values.index
    if outcome.priority and rank(outcome.priority) > rank(case.priority):
        data["priority"] = {"from": case.priority, "to": outcome.priority}
        case.priority = outcome.priority
    if outcome.tags:
        added = batch.tags[id(case)]
        have = batch.stored_tags.get(case.pk, set()) | set(added)
        new_tags = [t for t in outcome.tags if t not in have]
        data["tags"] = new_tags
        added += new_tags
    if outcome.no_reply_reason:
        data["no_reply"] = outcome.no_reply_reason
    batch.record(case, CaseEvent.Kind.ROUTED, at=message.sent_at, message=message, data=data)


def _subject_of(message: Message) -> str:
    if message.subject:
        return message.subject[:300]
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else ""
    if len(first_line) <= SUBJECT_FROM_TEXT_CHARS:
        return first_line
    return first_line[: SUBJECT_FROM_TEXT_CHARS - 1].rstrip() + "…"


class _Assigner:
    """Automatic assignment within a batch: each auto-assigning team's available agents are
    locked and counted once, then cases go round them in message order."""

    def __init__(self, batch: Batch, auto_teams: set[int]) -> None:
        self.batch, self.auto_teams = batch, auto_teams
        self.agents: dict[int, list[AgentProfile]] = {}
        self.loads: dict[int, int] = {}

    def offer(self, case: Case) -> None:
        if not (
            case.team_id in self.auto_teams
            and case.assignee_id is None
            and not case.spam
            and case.merged_into_id is None
            and case.status in ASSIGNABLE_STATUSES
            and case.awaiting_reply_since is not None
        ):
            return
        agents = self._agents(case.team_id)
        available = [p for p in agents if self.loads.get(p.user_id, 0) < p.max_active_cases]
        if not available:
            return
        chosen = min(
            available, key=lambda p: (p.assignment_turn, self.loads.get(p.user_id, 0), p.pk)
        )
        chosen.assignment_turn = max(p.assignment_turn for p in agents) + 1
        self.batch.profiles[chosen.pk] = chosen
        self.loads[chosen.user_id] = self.loads.get(chosen.user_id, 0) + 1
        now = self.batch.now
        case.assignee = chosen.user
        if case.status == Case.Status.NEW:
            _change_status(
                self.batch, case, Case.Status.OPEN, reason="Assigned automatically.", at=now
            )
        self.batch.record(
            case,
            CaseEvent.Kind.AUTO_ASSIGNED,
            at=now,
            data={
                "to": chosen.user_id,
                "to_name": chosen.display_name,
                "team": case.team_id,
                "held": self.loads[chosen.user_id],
                "capacity": chosen.max_active_cases,
            },
        )
        ending = f": {case.subject}" if case.subject else "."
        self.batch.notices.append(
            Notice(
                recipient_id=chosen.user_id,
                kind=Notification.Kind.ASSIGNED,
                case=case,
                text=lambda number: f"Case #{number} was assigned to you automatically{ending}",
            )
        )

    def _agents(self, team_id: int) -> list[AgentProfile]:
        if team_id not in self.agents:
            agents = available_agents(team_id=team_id, now=self.batch.now)
            self.agents[team_id] = agents
            self.loads.update(held_counts([p.user_id for p in agents]))
        return self.agents[team_id]


# Writing.


def find_incidents(batch: Batch) -> None:
    """Join this batch's customer messages to the live incidents they are about, and propose
    an incident when many customers write about the same problem at once: the live incidents'
    messages and the window's customer messages in no incident, read once for the batch
    (whoever may reassign cases, too, when an incident is proposed). Written by ``write``.
    Runs only with ``CAREINBOX_INCIDENTS`` on."""
    if not settings.CAREINBOX_INCIDENTS:
        return
    new = [
        item
        for item in batch.fresh
        if item.message is not None and item.case is not None and not item.spam_reason
    ]
    if not new:
        return
    thresholds = detection.Thresholds(
        min_messages=settings.CAREINBOX_INCIDENT_MIN_MESSAGES,
        min_customers=settings.CAREINBOX_INCIDENT_MIN_CUSTOMERS,
        window=timedelta(minutes=settings.CAREINBOX_INCIDENT_WINDOW_MINUTES),
        quiet=timedelta(hours=settings.CAREINBOX_INCIDENT_QUIET_HOURS),
    )
    since = min(item.inbound.sent_at for item in new) - thresholds.window
    incidents: dict[int, Incident] = {}
    members: dict[int, list[detection.Post]] = defaultdict(list)
    links = IncidentMessage.objects.filter(
        incident__status__in=[Incident.Status.PROPOSED, Incident.Status.OPEN],
        incident__last_message_at__gte=since - thresholds.quiet,
    ).select_related("incident", "message__case")
    for link in links.only(
        "incident", "message__text", "message__sent_at", "message__case__customer"
    ):
        incidents[link.incident_id] = link.incident
        members[link.incident_id].append(
            detection.Post(
                key=("stored", link.message_id),
                customer=link.message.case.customer_id,
                at=link.message.sent_at,
                text=link.message.text,
            )
        )
    posts: list[detection.Post] = [
        detection.Post(key=("stored", pk), customer=customer, at=at, text=text)
        for pk, customer, at, text in Message.objects.filter(
            direction=Message.Direction.INBOUND,
            sent_at__gte=since,
            spam_reason="",
            incident_link__isnull=True,
        ).values_list("pk", "case__customer", "sent_at", "text")
    ]
    messages: dict[Any, tuple[Message, Case]] = {}
    for item in new:
        assert item.message is not None and item.case is not None
        key = ("new", id(item))
        messages[key] = (item.message, item.case)
        customer = batch.customers[item.identity.customer_id] if item.identity else None
        posts.append(
            detection.Post(
                key=key,
                customer=customer.pk if customer else key,
                at=item.inbound.sent_at,
                text=item.message.full_text or item.message.text,
            )
        )
    live = [
        detection.Live(key=pk, last_at=incident.last_message_at, members=members[pk])
        for pk, incident in incidents.items()
    ]
    found = detection.find(posts, live, thresholds=thresholds)
    for key, incident_pk in found.joins.items():
        incident = incidents[incident_pk]
        if key in messages:
            message = messages[key][0]
            incident.last_message_at = max(incident.last_message_at, message.sent_at)
            link = IncidentMessage(incident=incident, message=message, added_at=batch.now)
        else:
            link = IncidentMessage(incident=incident, message_id=key[1], added_at=batch.now)
        batch.incident_links.append(link)
        if incident not in batch.grown_incidents:
            batch.grown_incidents.append(incident)
    if not found.proposals:
        return
    supervisors = list(holders_of("cases.reassign_case").values_list("pk", flat=True))
    for proposal in found.proposals:
        incident = Incident(
            title=proposal.title,
            created_at=batch.now,
            first_message_at=proposal.posts[0].at,
            last_message_at=proposal.posts[-1].at,
            places=proposal.places,
            terms=proposal.terms,
        )
        batch.incidents.append(incident)
        stored = [post.key[1] for post in proposal.posts if post.key[0] == "stored"]
        batch.incident_links += [
            IncidentMessage(incident=incident, message_id=pk, added_at=batch.now) for pk in stored
        ]
        batch.incident_links += [
            IncidentMessage(incident=incident, message=messages[post.key][0], added_at=batch.now)
            for post in proposal.posts
            if post.key in messages
        ]
        latest = next(messages[p.key][1] for p in reversed(proposal.posts) if p.key in messages)
        count = len(proposal.posts)
        people = len({post.customer for post in proposal.posts})
        text = f"Possible incident: {proposal.title} ({count} messages from {people} customers)"
        batch.notices += [
            Notice(
                recipient_id=user,
                kind=Notification.Kind.INCIDENT,
                case=latest,
                text=_always(text),
            )
            for user in supervisors
        ]


def _always(text: str) -> Callable[[int], str]:
    return lambda _number: text


def write(batch: Batch) -> None:
    """Store the batch's decisions: the touched cases (each once), the new cases, messages,
    attachments, evidence, history, notifications and tags, in a constant number of
    statements."""
    _set_clocks(batch)
    new = {id(case) for case in batch.new_cases}
    existing = [c for key, c in batch.touched.items() if key not in new]
    update_rows(Case, existing, CASE_FIELDS)
    fresh = batch.fresh
    messages = [item.message for item in fresh if item.message is not None]
    # A new case's first message (they go in in platform order) names its channel now, as its
    # roll-up will: the roll-up's refresh then has no case row to write again.
    for message in reversed(messages):
        if id(message.case) in new:
            message.case.first_channel = message.channel
    insert_rows(Case, batch.new_cases)
    update_rows(Message, batch.retro_spam, ["spam_reason", "needs_reply", "no_reply_reason"])
    insert_rows(Message, messages, linked_by="parent")  # a reply may answer one of the batch
    _write_attachments(fresh)
    for item in fresh:
        if item.survey is not None:
            item.survey.answer = item.message
    update_rows(Survey, batch.answered_surveys, ["answered_at", "score", "answer"])
    insert_rows(
        Evidence,
        [
            row
            for item in fresh
            if item.message is not None
            for row in name_evidence(message=item.message, inbound=item.inbound)
        ],
        ignore_conflicts=True,
    )
    _write_incidents(batch)
    history.record_all(batch.events, rollups_of=batch.earlier_firsts)
    insert_rows(Notification, [notice.row() for notice in batch.notices])
    _write_tags(batch)
    _adopt_orphans(batch)
    # Rows other workers' batches write too, last and in id order: locked for as little of
    # the batch as may be, and in one order by all. (A batch that assigns a case has locked
    # its team's agents already, to count their cases: ``available_agents``.)
    update_rows(Incident, sorted(batch.grown_incidents, key=_pk), ["last_message_at"])
    update_rows(AgentProfile, sorted(batch.profiles.values(), key=_pk), ["assignment_turn"])


def _pk(row: models.Model) -> Any:
    return row.pk


def _write_incidents(batch: Batch) -> None:
    if batch.incidents:
        Incident.objects.bulk_create(batch.incidents)
    for link in batch.incident_links:
        link.incident_id = link.incident.pk
        if link.message_id is None:
            link.message_id = link.message.pk
    # Another worker's batch may have linked a message of the window meanwhile: it keeps it.
    IncidentMessage.objects.bulk_create(batch.incident_links, ignore_conflicts=True)


def _set_clocks(batch: Batch) -> None:
    """Each touched case's SLA policy and due times, from its final state and status history;
    policies, calendars and past status changes read once for the batch."""
    policies = list(SLAPolicy.objects.select_related("calendar"))
    calendars = {p.calendar_id for p in policies if p.calendar_id}
    hours: dict[int, Hours] = {
        c.pk: hours_of(c) for c in BusinessCalendar.objects.filter(pk__in=calendars)
    }
    existing = [c.pk for c in batch.touched.values() if c.pk]
    past: dict[int, list[tuple[datetime, dict]]] = defaultdict(list)
    changes = CaseEvent.objects.filter(case__any=existing, kind=CaseEvent.Kind.STATUS_CHANGED)
    for case_id, occurred_at, data in changes.order_by("pk").values_list(
        "case", "occurred_at", "data"
    ):
        past[case_id].append((occurred_at, data))
    for key, case in batch.touched.items():
        policy = None if case.status == Case.Status.CLOSED else _policy_for(policies, case)
        pauses = pauses_of([*past.get(case.pk, []), *batch.status_changes.get(key, [])])
        calendar = hours.get(policy.calendar_id) if policy and policy.calendar_id else None
        dues = due_times(case, policy, hours=calendar, pauses=pauses)
        apply_due_times(case, policy, dues)


def _policy_for(policies: list[SLAPolicy], case: Case) -> SLAPolicy | None:
    """``sla.selectors.policy_for`` over policies already read."""
    candidates = [
        p
        for p in policies
        if (p.team_id is None or p.team_id == case.team_id) and p.priority in ("", case.priority)
    ]
    return min(candidates, key=lambda p: (p.team_id is None, p.priority == "", p.pk), default=None)


def _write_attachments(items: list[Item]) -> None:
    limit = settings.CAREINBOX_ATTACHMENT_MAX_BYTES
    insert_rows(
        Attachment,
        [
            Attachment(
                message=item.message,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                content=a.content if a.size <= limit else b"",
                skipped_reason="" if a.size <= limit else f"Larger than the {limit}-byte limit.",
            )
            for item in items
            for a in item.inbound.attachments
        ],
    )


def _write_tags(batch: Batch) -> None:
    wanted = {name for names in batch.tags.values() for name in names}
    if not wanted:
        return
    Tag.objects.bulk_create([Tag(name=n) for n in sorted(wanted)], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=wanted).values_list("name", "pk"))
    Case.tags.through.objects.bulk_create(
        [
            Case.tags.through(case_id=batch.touched[key].pk, tag_id=tag_ids[name])
            for key, names in batch.tags.items()
            for name in names
        ],
        ignore_conflicts=True,
    )


def _adopt_orphans(batch: Batch) -> None:
    """Replies stored before the message they answer (a poll pages newest first) point at it
    now: one statement per channel account."""
    by_account: dict[int, list[str]] = defaultdict(list)
    for item in batch.fresh:
        by_account[item.account.pk].append(item.inbound.external_id)
    for account_id, external_ids in by_account.items():
        answered = Message.objects.filter(
            channel_account=account_id, external_id=OuterRef("in_reply_to_external_id")
        )
        Message.objects.filter(
            ORPHAN_REPLIES, channel_account=account_id, in_reply_to_external_id__any=external_ids
        ).update(parent=Subquery(answered.values("pk")[:1]))


STAGES: tuple[Callable[[Batch], None], ...] = (
    drop_repeats,
    resolve_identities,
    lock_customers,
    drop_stored,
    refresh_profiles,
    load_threads,
    score_sentiment,
    route,
    find_spam,
    find_praise,
    find_survey_answers,
    record_messages,
    find_incidents,
    write,
)


def ingest_batch(
    *, arrivals: Sequence[tuple[ChannelAccount, InboundMessage]]
) -> list[IngestResult]:
    """Attach platform messages to their customers' cases, in one transaction. Safe to
    repeat, in any order and split into any batches: the messages are taken in platform-time
    order. Returns a result per arrival, in the order given."""
    items = [Item(account=account, inbound=inbound) for account, inbound in arrivals]
    batch = Batch(items=sorted(items, key=_platform_order))
    with transaction.atomic():
        for stage in STAGES:
            stage(batch)
        stored = [item.message.pk for item in batch.fresh if item.message]
        if stored:
            transaction.on_commit(lambda: link_customers_task.delay(stored), robust=True)
        mails = [[*mail(case.pk), to] for case, mail, to in batch.praise_mails]
        if mails:
            transaction.on_commit(lambda: send_praise_task.delay(mails), robust=True)
        spam = [*(item.message for item in batch.fresh if item.message), *batch.retro_spam]
        hide = hiding.to_hide(spam, {item.account.pk: item.account for item in items})
        if hide:
            transaction.on_commit(lambda: hide_spam_task.delay(hide), robust=True)
    results = []
    for item in items:
        message = item.repeat_of.message if item.repeat_of else item.message
        assert message is not None
        results.append(IngestResult(message=message, duplicate=item.duplicate))
    return results


def _platform_order(item: Item) -> tuple[datetime, str, str]:
    return (item.inbound.sent_at, item.inbound.channel, item.inbound.external_id)


def ingest_message(*, account: ChannelAccount, inbound: InboundMessage) -> IngestResult:
    """Attach one customer message to its customer's case: a batch of one."""
    return ingest_batch(arrivals=[(account, inbound)])[0]
