"""The inbox's reads: queues and their counts, filters, search and cursor pages of cases."""

import base64
import binascii
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, TypedDict

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import (
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Left, NullIf
from django.utils import timezone
from django.utils.safestring import SafeString

from careinbox.prepared import PreparedRead
from cases import clocks, visibility
from cases.models import Case, CaseCount, CaseEvent, Message, Sentiment, Tag
from channels.kinds import kinds_on
from channels.models import Platform
from customers.models import Customer, Identity
from staff.models import Team
from staff.names import initials
from staff.selectors import case_workers

# What the queues show, on the kept counts (``CaseCount``, which count only cases not merged
# into another) and on cases.
LIVE_COUNTED = Q(spam=False) & ~Q(status=Case.Status.CLOSED)
SPAM_COUNTED = Q(spam=True)
LIVE = Q(merged_into__isnull=True) & LIVE_COUNTED
SPAM = Q(merged_into__isnull=True) & SPAM_COUNTED
# Every case of any status that is neither spam nor folded into another: what search finds.
EVERY_STATUS = Q(merged_into__isnull=True, spam=False)

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
SNIPPET_CHARS = 160
SEARCH_WORDS = 5
# Between tag names aggregated in SQL: a character no one types into a tag.
TAG_SEPARATOR = "\x1f"
AVATAR_TONES = 6

# Cases without an SLA due time sort after every due one.
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

PLATFORM_CHANNELS: dict[str, list[str]] = {platform: kinds_on(platform) for platform in Platform}


class UnknownQueue(LookupError):
    """The queue key names no queue this user has."""


class InvalidCursor(ValueError):
    """A page cursor that was not made by ``inbox_page`` for this sort order."""


@dataclass(frozen=True)
class Queue:
    # "unassigned", "mine", "team:<id>", "sla", "all", "pending", "resolved", "spam", and
    # "everything", which the top bar searches and the side bar does not list.
    key: str
    label: str
    section: str  # the side bar's heading over it
    # Which cases: among the live ones (or the spam), those meeting ``where(**params)``, a
    # condition on fields that cases and their kept counts share. A function of the module, so
    # that a page's statement prepared for one queue serves it again with other values.
    where: Callable[..., Q]
    params: tuple[tuple[str, Any], ...] = ()
    spam: bool = False
    # Closed cases too (the live ones are all but closed): "everything", never counted.
    closed_too: bool = False
    # Counted from the kept counts (``CaseCount``); not a queue that depends on the clock.
    counted: bool = True
    # Whose cases it shows when what they see is narrowed to their teams (cases.visibility).
    viewer: int | None = None

    @property
    def condition(self) -> Q:
        """The queue's cases, on cases."""
        scope = SPAM if self.spam else EVERY_STATUS if self.closed_too else LIVE
        return scope & self.visible()

    def visible(self) -> Q:
        """The queue's own condition and the viewer's, on fields cases and counts share."""
        q = self.where(**dict(self.params))
        return q if self.viewer is None else q & visibility.visible_to(self.viewer)


@dataclass(frozen=True)
class QueueCount:
    queue: Queue
    count: int


@dataclass(frozen=True)
class Sort:
    key: str
    label: str
    # The ORDER BY expression, id breaking ties. Nulls are folded into a value so one
    # comparison pages through every case; the inbox indexes hold the same expressions.
    expression: Callable[[], Coalesce]
    descending: bool


def _waiting_since() -> Coalesce:
    # A case opened by an automated message only has no customer message to wait on.
    return Coalesce("last_inbound_at", "opened_at")


def _sla_due() -> Coalesce:
    return Coalesce("next_response_due_at", Value(FAR_FUTURE, output_field=DateTimeField()))


SORTS = {
    sort.key: sort
    for sort in [
        Sort("waiting", "Oldest waiting", _waiting_since, descending=False),
        Sort("sla", "SLA due", _sla_due, descending=False),
        Sort("newest", "Newest", _waiting_since, descending=True),
    ]
}
DEFAULT_SORT = "waiting"


@dataclass(frozen=True)
class InboxFilters:
    """Narrowing within a queue; empty values filter nothing."""

    platform: str = ""
    status: str = ""
    priority: str = ""
    tag: int | None = None
    team: int | None = None
    assignee: int | None = None
    # Words searched in message text and customer names, handles and addresses.
    q: str = ""


@dataclass(frozen=True)
class HandOff:
    """The latest hand-off or reassignment of a case to the reader."""

    kind: str
    by: str
    note: str


class InboxRow(TypedDict):
    """One case as the inbox lists it, every value ready to print: text escaped as HTML
    (``SafeString``), made here once, so the template neither looks anything up nor escapes
    it. A dict, which a template reads fastest: the list is long and polled."""

    id: SafeString
    customer: SafeString
    initials: SafeString
    tone: SafeString  # which of the avatar colours
    platforms: list[tuple[str, SafeString]]  # (value, label) of each platform the case used
    snippet: SafeString  # "No message text" for a message without
    snippet_outbound: bool  # the latest message is our reply, not the customer's
    # The latest customer message's sentiment ("neg", "neu", "pos") and its label ("Negative");
    # "" when it was not scored.
    sentiment: SafeString
    sentiment_label: SafeString
    waiting: SafeString  # "12m", "3h", "2d"
    waiting_title: SafeString  # "Last customer message 3 Nov 2026, 09:14"
    status: SafeString
    status_note: SafeString  # the status where the queue does not already say it
    priority: SafeString
    priority_label: SafeString
    assignee_label: SafeString  # "You", "Jo Lee · Social", "Unassigned"
    assignee_class: SafeString  # " is-unassigned" when nobody holds it
    sla_label: SafeString  # "SLA 3 Nov 2026, 17:14", or ""
    sla_class: SafeString  # " is-overdue" once due
    tags: list[SafeString]
    hand_off: HandOff | None


@dataclass(frozen=True)
class InboxPage:
    queue: Queue
    sort: str
    filters: InboxFilters
    size: int
    rows: list[InboxRow]
    cursor: str | None  # this page's; None on the first
    next_cursor: str | None  # None on the last page


def inbox_queues(*, user: User) -> list[Queue]:
    """The queues ``user`` sees, in side bar order. One query (the teams they see), none when
    this user object has read its teams already (``visibility.teams_of``).

    Agents see their own teams; whoever may reassign cases sees every team, unless what
    they see is narrowed to their teams (``cases.visibility``).
    """
    teams = [_team_queue(team) for team in _visible_teams(user)]
    first, last = _fixed_queues(user)
    return [_for_viewer(q, user) for q in [*first, *teams, *last]]


def _for_viewer(queue: Queue, user: User) -> Queue:
    return replace(queue, viewer=user.pk) if visibility.scoped(user) else queue


def home_queue_key(*, user: User) -> str:
    """Where the inbox opens: the unclaimed work for those who work cases, else all open."""
    return "unassigned" if user.has_perm("cases.work_case") else "all"


def inbox_queue(*, user: User, key: str | None = None) -> Queue:
    """The queue ``key`` names (by default the user's home queue). A team queue costs one
    query. Raises ``UnknownQueue`` for a key this user has no queue for."""
    key = key or home_queue_key(user=user)
    if key == EVERYTHING.key:
        return _for_viewer(EVERYTHING, user)
    if key.startswith("team:"):
        team_id = key.removeprefix("team:")
        team = next((t for t in _visible_teams(user) if str(t.pk) == team_id), None)
        if team is not None:
            return _for_viewer(_team_queue(team), user)
    first, last = _fixed_queues(user)
    for queue in [*first, *last]:
        if queue.key == key:
            return _for_viewer(queue, user)
    raise UnknownQueue(f"There is no queue {key!r} for {user.get_username()}; pick one listed.")


def queue_counts(*, user: User) -> list[QueueCount]:
    """Every queue of ``user`` with its number of cases, in three queries whatever the number
    of queues and cases: the user's teams, the kept counts (``CaseCount``: one row per
    combination of status, team and assignee, not one per case), and the cases due soon,
    read from the index of their soonest due time."""
    queues = inbox_queues(user=user)
    counted = [q for q in queues if q.counted]
    shapes = tuple((q.where, _kinds(q.params), q.spam, q.viewer is not None) for q in counted)
    values = {f"q{n}_{name}": value for n, q in enumerate(counted) for name, value in q.params}
    values |= {f"q{n}_viewer": q.viewer for n, q in enumerate(counted) if q.viewer is not None}
    groups = _counts_read(shapes).rows(**values)
    numbers = iter(sum(group[f"n{n}"] for group in groups) for n in range(len(counted)))
    return [
        QueueCount(q, next(numbers) if q.counted else Case.objects.filter(q.condition).count())
        for q in queues
    ]


@lru_cache(maxsize=256)
def _counts_read(
    shapes: tuple[tuple[Callable[..., Q], tuple[tuple[str, type], ...], bool, bool], ...],
) -> PreparedRead:
    """The sums of the kept counts for queues of these ``where``, parameters, spam flag and
    whether they are narrowed to a viewer's teams: one statement for each set of queues in
    use (each agent's teams), the agent's and the teams' ids its parameters. Grouped by the
    spam flag so that it is a ``values()`` query: two rows at most."""

    def sums(**values: Any) -> QuerySet[Any, Any]:
        conditions = [
            (SPAM_COUNTED if spam else LIVE_COUNTED)
            & Queue(
                "",
                "",
                "",
                where,
                tuple((name, values[f"q{i}_{name}"]) for name, _ in kinds),
                viewer=values[f"q{i}_viewer"] if scoped else None,
            ).visible()
            for i, (where, kinds, spam, scoped) in enumerate(shapes)
        ]
        return (
            # The team and the assignee as the cases hold them: none is NULL, not 0.
            CaseCount.objects.annotate(
                team=NullIf("team_key", 0), assignee=NullIf("assignee_key", 0)
            )
            .values("spam")
            .annotate(
                **{
                    f"n{n}": Coalesce(Sum("delta", filter=condition), 0)
                    for n, condition in enumerate(conditions)
                }
            )
            .order_by()
        )

    kinds = {f"q{i}_{n}": kind for i, (_, params, _, _) in enumerate(shapes) for n, kind in params}
    kinds |= {f"q{i}_viewer": int for i, (_, _, _, scoped) in enumerate(shapes) if scoped}
    return PreparedRead(sums, **kinds)


def _visible_teams(user: User) -> list[Team]:
    """Every team for whoever may reassign cases, unless they see only their own teams."""
    if user.has_perm("cases.reassign_case") and not visibility.scoped(user):
        return list(Team.objects.order_by("name", "pk"))
    return visibility.teams_of(user)


def _team_queue(team: Team) -> Queue:
    return Queue(f"team:{team.pk}", team.name, "Teams", _of_team, (("team_id", team.pk),))


def _fixed_queues(user: User) -> tuple[list[Queue], list[Queue]]:
    """The queues before and after the team queues."""
    work = [Queue("unassigned", "Unassigned", "Queues", _unassigned)]
    if user.has_perm("cases.work_case"):
        work.append(Queue("mine", "Mine", "Queues", _assigned_to, (("user_id", user.pk),)))
    horizon = clocks.at_risk_horizon(timezone.now())
    work.append(
        Queue("sla", "SLA at risk", "Queues", _due_by, (("horizon", horizon),), counted=False)
    )
    by_status = [
        Queue("all", "All open", "By status", _open),
        Queue("pending", "Pending on customer", "By status", _pending),
        Queue("resolved", "Resolved", "By status", _resolved),
        Queue("spam", "Spam", "By status", _every, spam=True),
    ]
    return work, by_status


# What the queues hold besides being live (or spam).


def _unassigned() -> Q:
    return Q(assignee__isnull=True)


def _assigned_to(user_id: int) -> Q:
    # Unresolved: a resolved case is done with (the Resolved queue, filtered by assignee,
    # lists them).
    return Q(assignee=user_id) & ~Q(status=Case.Status.RESOLVED)


def _of_team(team_id: int) -> Q:
    return Q(team=team_id)


def _due_by(horizon: datetime) -> Q:
    return clocks.due_by_q(horizon)


def _open() -> Q:
    return Q(status__in=[Case.Status.NEW, Case.Status.OPEN])


def _pending() -> Q:
    return Q(status=Case.Status.PENDING)


def _resolved() -> Q:
    return Q(status=Case.Status.RESOLVED)


def _every() -> Q:
    return Q()


# What the top bar searches: every case the user may see, whatever its status.
EVERYTHING = Queue("everything", "All cases", "Search", _every, counted=False, closed_too=True)


def inbox_version() -> str:
    """Changes whenever a queue may have changed: every change to a case appends a history
    event. The minute is part of it so that waiting times shown stay current. One query."""
    latest = CaseEvent.objects.aggregate(latest=Max("pk"))["latest"] or 0
    return f"{latest}.{int(timezone.now().timestamp()) // 60}"


def inbox_page(
    *,
    user: User,
    queue: str | Queue | None = None,
    filters: InboxFilters | None = None,
    sort: str = DEFAULT_SORT,
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> InboxPage:
    """One page of a queue's cases, after ``cursor`` (from ``next_cursor`` of the page
    before). Page N costs what page 1 does: the cursor is a position in the sort order,
    not an offset. Two or three queries whatever the page size (three in Mine).

    Raises ``UnknownQueue``, ``InvalidCursor``, and ``KeyError`` for an unknown sort.
    """
    if not isinstance(queue, Queue):
        queue = inbox_queue(user=user, key=queue)
    filters = filters or InboxFilters()
    order = SORTS[sort]
    size = max(1, min(size, MAX_PAGE_SIZE))

    after = _decode_cursor(cursor, sort) if cursor is not None else None
    if filters.q:
        # What search words make of the SQL depends on the words: built for each search.
        where = [queue.condition, *_filter_conditions(filters)]
        where += _after(order, *after) if after else []
        found = list(_inbox_rows(sort).filter(*where)[: size + 1])
    else:
        chosen = {
            name: value for name in FILTERED if (value := getattr(filters, name)) not in ("", None)
        }
        read = _page_read(
            queue.where,
            _kinds(queue.params),
            queue.spam,
            queue.closed_too,
            queue.viewer is not None,
            filters.platform,
            _kinds(tuple(chosen.items())),
            sort,
            after is not None,
            size,
        )
        cursor_values = {"after_key": after[0], "after_pk": after[1]} if after else {}
        viewer = {"viewer": queue.viewer} if queue.viewer is not None else {}
        found = read.rows(**dict(queue.params), **chosen, **cursor_values, **viewer)

    rows = found[:size]
    next_cursor = None
    if len(found) > size:
        next_cursor = _encode_cursor(sort, rows[-1]["inbox_key"], rows[-1]["pk"])
    ids = [row["pk"] for row in rows]
    hand_offs = _hand_offs_to(user, ids) if queue.key == "mine" else {}
    now = timezone.localtime()
    return InboxPage(
        queue=queue,
        sort=sort,
        filters=filters,
        size=size,
        rows=[_row(row, user, now, hand_offs) for row in rows],
        cursor=cursor,
        next_cursor=next_cursor,
    )


def _after(order: Sort, key: datetime, pk: int) -> list[Q]:
    """Cases after the one at (``key``, ``pk``) in ``order``. The bound alone is an index
    range condition; the OR only trims the range's start."""
    if order.descending:
        return [Q(inbox_key__lte=key), Q(inbox_key__lt=key) | Q(inbox_key=key, pk__lt=pk)]
    return [Q(inbox_key__gte=key), Q(inbox_key__gt=key) | Q(inbox_key=key, pk__gt=pk)]


# The filters whose values are parameters of a page's prepared statement; the platform picks
# the statement (a list of channels), and search words are not prepared.
FILTERED = ["status", "priority", "tag", "team", "assignee"]


def _kinds(params: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, type], ...]:
    return tuple((name, type(value)) for name, value in params)


@lru_cache(maxsize=512)
def _page_read(
    where: Callable[..., Q],
    where_kinds: tuple[tuple[str, type], ...],
    spam: bool,
    closed_too: bool,
    scoped: bool,
    platform: str,
    filter_kinds: tuple[tuple[str, type], ...],
    sort: str,
    paged: bool,
    size: int,
) -> PreparedRead:
    """A page of a queue's rows as one prepared statement (careinbox.prepared): compiling it
    took longer than running it. One for each queue, sort, set of filters and page size in
    use; the ids, statuses, times and the cursor are its parameters."""

    def rows(**values: Any) -> QuerySet[Case, dict[str, Any]]:
        params = tuple((n, values[n]) for n, _ in where_kinds)
        viewer = values["viewer"] if scoped else None
        queue = Queue("", "", "", where, params, spam, closed_too=closed_too, viewer=viewer)
        filters = InboxFilters(platform=platform, **{n: values[n] for n, _ in filter_kinds})
        conditions = [queue.condition, *_filter_conditions(filters)]
        if paged:
            conditions += _after(SORTS[sort], values["after_key"], values["after_pk"])
        return _inbox_rows(sort).filter(*conditions)[: size + 1]

    cursor_kinds = {"after_key": datetime, "after_pk": int} if paged else {}
    viewer_kinds = {"viewer": int} if scoped else {}
    return PreparedRead(
        rows, **dict(where_kinds), **dict(filter_kinds), **cursor_kinds, **viewer_kinds
    )


ROW_FIELDS = [
    "pk",
    "inbox_key",
    "spam",
    "customer_id",
    "customer__display_name",
    "status",
    "priority",
    "last_inbound_at",
    "opened_at",
    "next_response_due_at",
    "assignee_id",
    "assignee__username",
    "assignee__agent_profile__display_name",
    "team__name",
]


# Built once: these querysets are the same on every page, and building them is a good part
# of a page's Python time. Each use works on a clone.
@cache
def _inbox_rows(sort: str) -> QuerySet[Case, dict[str, Any]]:
    """Every case as a row of the inbox in ``sort`` order, to be filtered and sliced."""
    order = SORTS[sort]
    annotations = {"inbox_key": order.expression(), **_row_annotations()}
    ordering = [F("inbox_key").desc(), F("pk").desc()] if order.descending else ["inbox_key", "pk"]
    return (
        Case.objects.annotate(**annotations).order_by(*ordering).values(*ROW_FIELDS, *annotations)
    )


def _row_annotations() -> dict[str, Any]:
    # The conversation's latest message: not a note, nor a message sent by itself (a survey).
    latest = Message.objects.filter(
        Q(case=OuterRef("pk"))
        & ~Q(direction=Message.Direction.NOTE)
        & ~Q(direction=Message.Direction.OUTBOUND, automated__gt="")
    ).order_by("-sent_at", "-pk")
    latest_inbound = Message.objects.filter(
        case=OuterRef("pk"), direction=Message.Direction.INBOUND
    ).order_by("-sent_at", "-pk")
    case_tags: QuerySet[Any] = Case.tags.through.objects.filter(case=OuterRef("pk"))
    tags = (
        case_tags.values("case")
        .annotate(names=StringAgg("tag__name", Value(TAG_SEPARATOR)))
        .values("names")
    )
    return {
        # "<direction> <start of text>": one lookup of the latest message gives both.
        "snippet": Subquery(
            latest.values(start=Concat("direction", Value(" "), Left("text", SNIPPET_CHARS)))[:1]
        ),
        # "<sentiment> <spam reason>" of the customer's latest message, whoever wrote last:
        # their mood, and on a spam case why it is spam, in one lookup.
        "latest_inbound": Subquery(
            latest_inbound.values(read=Concat("sentiment", Value(" "), "spam_reason"))[:1]
        ),
        "tag_names": Subquery(tags),
        **{f"on_{platform}": _on_platform(platform) for platform in Platform},
    }


@cache
def _on_platform(platform: str) -> Exists:
    return Exists(
        Message.objects.filter(case=OuterRef("pk"), channel__in=PLATFORM_CHANNELS[platform])
    )


def _filter_conditions(filters: InboxFilters) -> list[Q | Exists]:
    where: list[Q | Exists] = []
    if filters.platform:
        where.append(_on_platform(filters.platform))
    if filters.status:
        where.append(Q(status=filters.status))
    if filters.priority:
        where.append(Q(priority=filters.priority))
    if filters.tag is not None:
        where.append(
            Exists(Case.tags.through.objects.filter(case=OuterRef("pk"), tag=filters.tag))
        )
    if filters.team is not None:
        where.append(Q(team=filters.team))
    if filters.assignee is not None:
        where.append(Q(assignee=filters.assignee))
    if filters.q:
        where += _matching(filters.q)
    return where


def _matching(text: str) -> list[Q]:
    """Cases in which each word appears: in one of their messages, the customer's name, or
    one of their handles, names or addresses.

    On PostgreSQL a word matches as the start of a word in full-text terms ("refun" finds
    "refund", "AH-2093" finds "AH-20931-UK"), answered by the GIN indexes of migration 0008;
    elsewhere it is looked for as is, anywhere. The page walks its queue in order and tests
    each case against the matches (hashed once), so a common word soon fills a page; a rare
    one walks the whole queue, which costs what the queue's size does, never more.
    """
    words = [word for word in text.split() if re.search(r"\w", word)][:SEARCH_WORDS]
    full_text = connection.vendor == "postgresql"
    conditions = []
    for word in words:
        messages, customers, identities = _documents_matching(
            word if full_text else word.removeprefix("@"), full_text=full_text
        )
        conditions.append(
            Q(pk__in=messages.values("case_id"))
            | Q(customer__in=customers.values("pk"))
            | Q(customer__in=identities.values("customer_id"))
        )
    return conditions


def _documents_matching(word: str, *, full_text: bool) -> tuple[QuerySet[Any], ...]:
    """Messages, customers and identities in which ``word`` appears."""
    if full_text:
        query = SearchQuery(_prefix_query(word), search_type="raw", config="simple")
        return (
            Message.objects.alias(document=message_document()).filter(document=query),
            Customer.objects.alias(document=customer_document()).filter(document=query),
            Identity.objects.alias(document=identity_document()).filter(document=query),
        )
    return (
        Message.objects.filter(text__icontains=word),
        Customer.objects.filter(display_name__icontains=word),
        Identity.objects.filter(
            Q(handle__icontains=word)
            | Q(display_name__icontains=word)
            | Q(external_id__icontains=word)
        ),
    )


def _prefix_query(word: str) -> str:
    """A tsquery matching what the document parser makes of ``word``, each part a prefix.

    Quoted whole, the word is split as the documents were ("ann.lee@example.com" stays one
    email token; "AH-20931" becomes "ah" followed by "-20931"), and nothing in it is read as
    an operator.
    """
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "':*"


# The documents searched. Migration 0008 indexes these very expressions; PostgreSQL uses an
# expression index only for a query with the identical expression.
def message_document() -> SearchVector:
    return SearchVector("text", config="simple")


def customer_document() -> SearchVector:
    return SearchVector("display_name", config="simple")


def identity_document() -> SearchVector:
    return SearchVector("handle", "display_name", "external_id", config="simple")


def _hand_offs_to(user: User, case_ids: list[int]) -> dict[int, HandOff]:
    """The latest hand-off or reassignment to ``user`` of each case."""
    found: dict[int, HandOff] = {}
    events = (
        CaseEvent.objects.filter(
            case__in=case_ids,
            kind__in=[CaseEvent.Kind.HANDED_OFF, CaseEvent.Kind.REASSIGNED],
            data__to=user.pk,
        )
        .order_by("case_id", "-occurred_at", "-pk")
        .values_list(
            "case_id",
            "kind",
            "data__note",
            "actor__agent_profile__display_name",
            "actor__username",
        )
    )
    for case_id, kind, note, by_name, by_username in events:
        if case_id not in found:
            found[case_id] = HandOff(kind=kind, by=by_name or by_username or "", note=note or "")
    return found


def _html(text: str) -> SafeString:
    """``text`` escaped as a template would escape it."""
    return SafeString(html.escape(text))


NOTHING = SafeString("")
NO_TEXT = SafeString("No message text")
UNASSIGNED = SafeString(" is-unassigned")
OVERDUE = SafeString(" is-overdue")


# Plain dicts: looking labels up through the enums costs more than the rest of a row.
STATUS_LABELS = {value: _html(label) for value, label in Case.Status.choices}
PRIORITY_LABELS = {value: _html(label) for value, label in Case.Priority.choices}
PLATFORM_COLUMNS = [(f"on_{value}", value, _html(label)) for value, label in Platform.choices]
SENTIMENT_LABELS = {value: _html(label) for value, label in Sentiment.choices}
STATUSES_UNSAID = {Case.Status.NEW.value, Case.Status.OPEN.value}


def _row(
    row: dict[str, Any],
    user: User,
    now: datetime,
    hand_offs: dict[int, HandOff],
) -> InboxRow:
    waiting_since = row["last_inbound_at"] or row["opened_at"]
    name = row["customer__display_name"]
    direction, _, text = (row["snippet"] or "").partition(" ")
    status, sla_due, team = row["status"], row["next_response_due_at"], row["team__name"] or ""
    assignee = row["assignee__agent_profile__display_name"] or row["assignee__username"] or ""
    holder = "You" if row["assignee_id"] == user.pk else assignee or "Unassigned"
    tag_names = row["tag_names"]
    sentiment, _, spam_reason = (row["latest_inbound"] or "").partition(" ")
    snippet = " ".join(text.split())
    if row["spam"] and spam_reason:
        # A bot's text stays folded on the case page; the row says why it is spam.
        direction, snippet = "inbound", f"Spam: {spam_reason}"
    # Ids, times, ages and the enums' labels hold nothing to escape.
    return {
        "id": SafeString(row["pk"]),
        "customer": _html(name),
        "initials": _html(initials(name)),
        "tone": SafeString(row["customer_id"] % AVATAR_TONES),
        "platforms": [(value, label) for column, value, label in PLATFORM_COLUMNS if row[column]],
        "snippet": _html(snippet) if snippet else NO_TEXT,
        "snippet_outbound": direction == "outbound",
        "sentiment": SafeString(sentiment),
        "sentiment_label": SENTIMENT_LABELS.get(sentiment, NOTHING),
        "waiting": SafeString(_age(now - waiting_since)),
        "waiting_title": SafeString(f"Last customer message {_when(waiting_since, now)}"),
        "status": SafeString(status),
        "status_note": NOTHING if status in STATUSES_UNSAID else STATUS_LABELS[status],
        "priority": SafeString(row["priority"]),
        "priority_label": PRIORITY_LABELS[row["priority"]],
        "assignee_label": _html(f"{holder} · {team}" if team else holder),
        "assignee_class": NOTHING if assignee else UNASSIGNED,
        "sla_label": SafeString(f"SLA {_when(sla_due, now)}") if sla_due else NOTHING,
        "sla_class": OVERDUE if sla_due is not None and sla_due < now else NOTHING,
        "tags": [_html(tag) for tag in sorted(tag_names.split(TAG_SEPARATOR), key=str.lower)]
        if tag_names
        else [],
        "hand_off": hand_offs.get(row["pk"]),
    }


def _when(moment: datetime, now: datetime) -> str:
    """``moment`` in the zone of ``now`` (the current time zone's local time)."""
    local = moment.astimezone(now.tzinfo)
    return f"{local.day} {local:%b %Y, %H:%M}"


def _age(elapsed: timedelta) -> str:
    minutes = max(0, int(elapsed.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // (24 * 60)}d"


def _encode_cursor(sort: str, key: datetime, pk: int) -> str:
    raw = json.dumps([sort, key.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, key, pk = json.loads(raw)
        when = datetime.fromisoformat(key)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor(f"Page cursor {cursor[:40]!r} is damaged; start from page 1.") from exc
    if made_for != sort or not isinstance(pk, int) or when.tzinfo is None:
        raise InvalidCursor(f"Page cursor {cursor[:40]!r} is for another list; start from page 1.")
    return when, pk


@dataclass(frozen=True)
class InboxFilterChoices:
    """What the filter bar offers, as (id, name)."""

    teams: list[tuple[int, str]]
    tags: list[tuple[int, str]]
    assignees: list[tuple[int, str]]  # everyone who may work cases


def inbox_filter_choices() -> InboxFilterChoices:
    """The teams, tags and people to filter by, in one query."""
    found: dict[str, list[tuple[int, str]]] = {"teams": [], "tags": [], "assignees": []}
    for row in FILTER_CHOICES.rows():
        found[row["kind"]].append((row["pk"], row["label"]))
    return InboxFilterChoices(
        **{kind: sorted(rows, key=lambda row: row[1].lower()) for kind, rows in found.items()}
    )


def _filter_choices() -> QuerySet[Any, tuple[int, str, str]]:
    """(id, name, kind) of every team, tag and person who may work cases."""
    people = case_workers().annotate(
        label=Coalesce(NullIf("agent_profile__display_name", Value("")), "username"),
        kind=Value("assignees"),
    )
    teams = Team.objects.annotate(label=F("name"), kind=Value("teams"))
    tags = Tag.objects.annotate(label=F("name"), kind=Value("tags"))
    return teams.values_list("pk", "label", "kind").union(
        tags.values_list("pk", "label", "kind"),
        people.values_list("pk", "label", "kind"),
        all=True,
    )


# Compiled once (careinbox.prepared): compiling the union cost more than running it.
FILTER_CHOICES = PreparedRead(_filter_choices)
