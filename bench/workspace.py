"""Agent workspace pages on PostgreSQL: server time next to the bare SQL behind each page.

On a generated data set (by default 200,000 cases and 1,000,000 messages) measures, through
Django itself, the pages an agent works in: the inbox's first page, a deep page reached by
following the keyset cursor, a filtered queue, full-text search, the case page and the side
bar's queue counts. For each page it prints the median time of the whole request (the test
client with a signed-in agent: middleware, sessions, view, templates), the part of it spent
executing SQL, the median time of the bare SQL behind it, their ratio, and the number of SQL
statements. Target: every page within 3x its bare SQL and under 15 statements. For a page
that misses it, it prints EXPLAIN ANALYZE of its slowest statement and where a profiled
request spends its time (``--explain``: for every page).

The bare SQL of a page is every statement the request ran, session and permission lookups
included, captured (the shortest of three captures) and replayed as the exact strings the
driver sent, on a plain psycopg2 cursor, fetching every row. Each round requests every page
once and replays its SQL right after, so both figures see the same machine; the ratio is the
median of the rounds' ratios. Compare ratios within a run: absolute times move with the
machine's load.

    DATABASE_URL=postgres://careinbox:careinbox@127.0.0.1:5432/careinbox \\
        .venv/bin/python -m bench.workspace --cases 200000 --messages 1000000 --keep

The URL gives the server and the role. The data set lives in the database named after it
with ``_bench_ws`` appended (the role needs CREATEDB); the database the URL names is never
touched. The data is written straight into the tables with COPY, indexes and foreign keys
rebuilt afterwards, then VACUUM ANALYZE. Without ``--keep`` the database is dropped at the
end; with it, it is kept, and the next run with the same sizes and seed reuses it (migrating
it first).
"""

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import re
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

from bench import PRODUCT_CODE
from bench.ingest import (
    PROJECT,
    BenchmarkFailed,
    _server_connection,
    bench_url,
    drop_database,
    postgres_config,
    server_version,
    setup_django,
)
from careinbox.progress import progress

DATABASE_SUFFIX = "_ws"  # after bench_url's "_bench"
TARGET_RATIO = 3.0
TARGET_QUERIES = 15
COPY_CHUNK_ROWS = 50_000
MAX_EXPLAIN_LINES = 40
PROFILE_TOP = 6
STATEMENT_CHARS = 140  # of each statement listed for a page over the query target


def _words(text: str, sep: str = " ") -> tuple[str, ...]:
    return tuple(text.split(sep))


# The data set's shape.
CASES_PER_CUSTOMER = 1.25  # a fifth of the customers have an earlier, closed case
SECOND_IDENTITY_SHARE = 0.2  # customers who also wrote on a second platform
HISTORY_DAYS = 180
SPAM_SHARE = 0.01
PLATFORM_WEIGHTS = {"x": 40, "facebook": 30, "email": 30}
CHANNELS = {
    "x": (("x.mention", 60), ("x.dm", 40)),
    "facebook": (("facebook.comment", 55), ("facebook.message", 45)),
    "email": (("email", 100),),
}
PRIORITY_WEIGHTS = {"low": 20, "normal": 55, "high": 18, "urgent": 7}
# Status of a customer's latest case by its age: recent cases are still being worked on, and a
# backlog of older ones is open, pending or resolved. Earlier cases are always closed.
STATUS_WEIGHTS_BY_AGE = (
    (7, {"new": 30, "open": 35, "pending": 20, "resolved": 15}),
    (30, {"new": 5, "open": 25, "pending": 15, "resolved": 25, "closed": 30}),
    (HISTORY_DAYS, {"new": 3, "open": 17, "pending": 10, "resolved": 15, "closed": 55}),
)
TEAMS = ("Social", "Email", "Escalations")
AGENTS_PER_TEAM = 8
AGENT_LOGIN = "agent1"  # the pages are measured as this agent, of the Social team
TAGS = _words(
    "refund delivery damaged complaint praise billing warranty returns account vip press follow-up"
)
TAG_COUNT_WEIGHTS = (40, 35, 18, 7)  # 0, 1, 2 or 3 tags on a case

FIRST_NAMES = _words(
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence "
    "Emily Ella Poppy Evie Elsie Charlotte Noah Muhammad Oliver George Leo Arthur Oscar Harry "
    "Archie Jack Henry Charlie Freddie Theodore Thomas Finley Theo Alfie Jacob William Priya "
    "Aisha Sven Lena Marta Tomasz Yusuf Chen Wei Hana Kenji Amara Kofi Ines Mateo Sofia Lucas"
)
LAST_NAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Robinson Thompson "
    "Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner "
    "Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris "
    "Khan Scott Watson Davis Parker James Bennett Young Phillips Richardson Mitchell Bailey "
    "Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Hussain Marshall"
)
# Products and problems follow Zipf's law, so a search term finds anything from a few dozen
# to tens of thousands of messages; the order references are nearly unique.
PRODUCTS = _words(
    "order parcel delivery kettle toaster sofa mattress fridge washer lamp dishwasher blender "
    "microwave vacuum duvet pillow curtains rug wardrobe bookcase desk chair table bed oven "
    "hob extractor freezer dryer iron heater fan radiator shower tap sink toilet mirror "
    "cabinet drawer shelf hinge handle cushion throw towel bathmat kettlebell airfryer "
    "slowcooker mixer grinder scales candle vase planter doormat lightbulb dimmer doorbell "
    "thermostat"
)
PROBLEMS = _words(
    "late missing broken damaged cracked leaking scratched wrong faulty noisy dented stained "
    "overcharged refunded cancelled delayed lost returned smashed torn rusty loose wobbly "
    "overheating sparking smelly mouldy incomplete unopened replaced stuck jammed flickering "
    "tripping dead dripping peeling faded warped shrunk"
)
WORDS = _words(
    "still nobody week today yesterday again please help urgent waiting days since arrived "
    "box driver courier tracking number says delivered neighbour door photo attached refund "
    "replacement exchange collection engineer visit booked rebooked missed slot morning "
    "afternoon evening weekend store branch online app website account password email phone "
    "call chat hold hour minutes promised told twice three times manager complaint review "
    "stars disappointed frustrated furious happy thanks brilliant great quick kind sorted "
    "quality cheap expensive price voucher discount code sale warranty guarantee receipt "
    "invoice payment card bank charged twice pending credit balance address postcode flat "
    "house upstairs assembly instructions screws parts panel leg cover lid plug cable "
    "battery charger remote filter seal glass door drawer shelf colour size fit measure "
    "small large heavy light new old first last next every"
)
OPENINGS = _words(
    "hi|hello|hey|dear team|good morning|excuse me|help|hiya|morning all|to whom it may concern",
    sep="|",
)
CLOSINGS = _words(
    "thanks|thank you|cheers|please sort this|regards|kind regards|many thanks|"
    "not impressed|fix it|waiting to hear back",
    sep="|",
)
REPLIES = (
    "sorry to hear the {p} arrived {q}, could you send us your order number",
    "thanks for waiting, we have booked a replacement {p} for you",
    "we are sorry about the {p}, a refund is on its way",
    "could you send us a photo of the {p} so we can look into it",
    "we have asked the courier about your {p} and will be back in touch",
    "the engineer visit for your {p} is booked, you will get a text the day before",
)
NOTES = (
    "checked with the warehouse, the {p} was {q} on dispatch",
    "customer called too, same {p} issue, see the earlier case",
    "@supervisor please approve the refund for the {p}",
    "courier confirmed the {p} was left with a neighbour",
)


@dataclass(frozen=True)
class Sizes:
    cases: int
    messages: int
    seed: int

    @property
    def customers(self) -> int:
        return max(1, round(self.cases / CASES_PER_CUSTOMER))


@dataclass(frozen=True)
class Page:
    name: str
    url: str


@dataclass
class PageTimes:
    page: Page
    statements: list[str]
    server_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    # Of server_ms, the time spent in the driver's execute: what Django waited on SQL.
    in_sql_ms: list[float] = field(default_factory=list)
    statement_ms: list[list[float]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # statements run by each timed request

    @property
    def queries(self) -> int:
        """The most statements a timed request ran (some write now and then, e.g. an agent's
        last-seen time)."""
        return max(self.counts)

    @property
    def queries_shown(self) -> str:
        fewest = min(self.counts)
        return str(fewest) if fewest == self.queries else f"{fewest}-{self.queries}"

    @property
    def server(self) -> float:
        return statistics.median(self.server_ms)

    @property
    def sql(self) -> float:
        return statistics.median(self.sql_ms)

    @property
    def in_sql(self) -> float:
        return statistics.median(self.in_sql_ms)

    @property
    def ratio(self) -> float:
        return statistics.median(s / q for s, q in zip(self.server_ms, self.sql_ms, strict=True))

    @property
    def meets_target(self) -> bool:
        return self.ratio <= TARGET_RATIO and self.queries < TARGET_QUERIES

    def slowest_statement(self) -> tuple[str, float]:
        medians = [statistics.median(times) for times in zip(*self.statement_ms, strict=True)]
        slowest = max(range(len(medians)), key=medians.__getitem__)
        return self.statements[slowest], medians[slowest]


# COPY text format.


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
            value = value.replace(raw, escaped)
    return value


# By exact type: a dispatch table is several times faster than a chain of isinstance, and the
# generator formats tens of millions of values. A str given for a JSON column is its JSON.
_COPY_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _copy_text,
    int: str,
    float: str,
    bool: lambda value: "t" if value else "f",
    type(None): lambda value: "\\N",
    datetime: datetime.isoformat,
    dict: lambda value: _copy_text(json.dumps(value)),
    list: lambda value: _copy_text(json.dumps(value)),
    bytes: lambda value: "\\\\x" + value.hex(),
}


def copy_value(value: Any) -> str:
    """``value`` in COPY's text format."""
    return _COPY_FORMATS[type(value)](value)


class CopyTable:
    """Rows for one model's table, sent with COPY in chunks.

    Rows give the fields named in order; every other stored column gets the model field's default,
    so columns added to the model later are filled as the ORM would fill them.
    """

    def __init__(self, cursor, model, fields: str) -> None:
        """``fields``: the names the rows give, separated by spaces."""
        meta = model._meta
        fields = fields.split()
        given = [meta.get_field(name) for name in fields]
        rest = [
            f
            for f in meta.concrete_fields
            if f.name not in fields and not getattr(f, "generated", False)
        ]
        self.cursor = cursor
        self.table = meta.db_table
        self.copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.table),
            sql.SQL(", ").join(sql.Identifier(f.column) for f in [*given, *rest]),
        )
        self.suffix = "".join("\t" + copy_value(f.get_default()) for f in rest) + "\n"
        self.lines: list[str] = []
        self.rows = 0

    def add(self, *values: Any) -> None:
        formats = _COPY_FORMATS
        self.lines.append("\t".join([formats[type(v)](v) for v in values]) + self.suffix)
        if len(self.lines) >= COPY_CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.cursor.copy_expert(self.copy, io.StringIO("".join(self.lines)))
            self.rows += len(self.lines)
            self.lines = []


# The data set.


@dataclass
class Staff:
    """The agents and what the generator needs of them."""

    team_ids: dict[str, int]
    agents_by_team: dict[str, list[int]]
    tag_ids: list[int]
    accounts: dict[str, int]


class Texts:
    """Customer messages, replies and notes with Zipf-distributed words."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.products = _zipf(PRODUCTS)
        self.problems = _zipf(PROBLEMS)
        self.words = _zipf(WORDS)

    def _pick(self, table: tuple[Sequence[str], list[float]], k: int = 1) -> list[str]:
        words, cumulative = table
        return self.rng.choices(words, cum_weights=cumulative, k=k)

    def topic(self) -> tuple[str, str]:
        return self._pick(self.products)[0], self._pick(self.problems)[0]

    def inbound(self, product: str, problem: str) -> str:
        rng = self.rng
        parts = [rng.choice(OPENINGS), "my", product, "is", problem]
        parts += self._pick(self.words, rng.randint(4, 18))
        if rng.random() < 0.3:
            parts.insert(rng.randint(2, len(parts)), self._pick(self.problems)[0])
        if rng.random() < 0.25:
            parts.append(f"order AH-{rng.randint(100_000, 999_999)}")
        parts.append(rng.choice(CLOSINGS))
        return " ".join(parts)

    def reply(self, product: str, problem: str, signature: str) -> str:
        return self.rng.choice(REPLIES).format(p=product, q=problem) + " " + signature

    def note(self, product: str, problem: str) -> str:
        return self.rng.choice(NOTES).format(p=product, q=problem)


def _zipf(words: Sequence[str]) -> tuple[Sequence[str], list[float]]:
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    return words, cumulative


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _customer_case_counts(sizes: Sizes, rng: random.Random) -> list[int]:
    counts = [1] * sizes.customers
    for customer in rng.sample(range(sizes.customers), sizes.cases - sizes.customers):
        counts[customer] += 1
    return counts


def _message_counts(sizes: Sizes, rng: random.Random) -> list[int]:
    """Messages per case: at least one each, the rest spread at random (about Poisson)."""
    counts = [1] * sizes.cases
    randrange = rng.randrange
    for _ in range(sizes.messages - sizes.cases):
        counts[randrange(sizes.cases)] += 1
    return counts


def _status(rng: random.Random, age: timedelta) -> str:
    for days, weights in STATUS_WEIGHTS_BY_AGE:
        if age <= timedelta(days=days):
            return _weighted(rng, weights)
    return "closed"


def create_staff(now: datetime) -> Staff:
    """Teams, agents (with profiles and roles), a supervisor, tags and the channel accounts,
    through the ORM: a few dozen rows."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from cases.models import Tag
    from demo import sample
    from staff import roles
    from staff.models import AgentProfile, Team

    user_model = get_user_model()
    password = make_password(None)
    groups = {name: Group.objects.get(name=name) for name in (roles.AGENT, roles.SUPERVISOR)}
    teams = {name: Team.objects.create(name=name) for name in TEAMS}
    agents_by_team: dict[str, list[int]] = {name: [] for name in TEAMS}
    number = 0
    for team_name, team in teams.items():
        for _ in range(AGENTS_PER_TEAM):
            number += 1
            first, last = FIRST_NAMES[number], LAST_NAMES[number]
            user = user_model.objects.create(
                username=f"agent{number}", password=password, date_joined=now
            )
            user.groups.add(groups[roles.AGENT])
            profile = AgentProfile.objects.create(
                user=user,
                display_name=f"{first} {last}",
                signature=f"^{first[0]}{last[0]}",
                sign_off=f"Best wishes,\n{first} {last}\nAcme Home care team",
            )
            profile.teams.add(team)
            agents_by_team[team_name].append(user.pk)
    supervisor = user_model.objects.create(username="supervisor", password=password)
    supervisor.groups.add(groups[roles.SUPERVISOR])
    AgentProfile.objects.create(user=supervisor, display_name="Sam Ortiz", signature="^SO")
    tags = [Tag.objects.create(name=name) for name in TAGS]
    return Staff(
        team_ids={name: team.pk for name, team in teams.items()},
        agents_by_team=agents_by_team,
        tag_ids=[tag.pk for tag in tags],
        accounts={platform: account.pk for platform, account in sample.accounts().items()},
    )


class Generator:
    """Writes customers, identities, cases, tags, messages and history with COPY.

    Times are naive UTC (formatted twice as fast as aware ones); the loading session's time
    zone is UTC.
    """

    def __init__(self, cursor, sizes: Sizes, staff: Staff, now: datetime) -> None:
        from cases.models import Case, CaseEvent, Message
        from customers.models import Customer, Identity

        self.rng = random.Random(sizes.seed)
        self.sizes, self.staff, self.now = sizes, staff, now
        self.texts = Texts(self.rng)
        self.signatures = _signatures()
        self.customers = CopyTable(cursor, Customer, "id display_name created_at")
        self.identities = CopyTable(
            cursor,
            Identity,
            "id customer platform external_id handle display_name follower_count created_at "
            "last_seen_at",
        )
        self.cases = CopyTable(
            cursor,
            Case,
            "id customer status assignee team priority subject spam created_at opened_at "
            "first_inbound_at last_inbound_at first_response_at resolved_at closed_at "
            "first_response_due_at next_response_due_at resolution_due_at awaiting_reply_since",
        )
        self.case_tags = CopyTable(cursor, Case.tags.through, "id case tag")
        self.messages = CopyTable(
            cursor,
            Message,
            "id case direction channel_account channel external_id in_reply_to_external_id "
            "parent author_identity author_user text html subject sent_at received_at "
            "delivery_status",
        )
        self.events = CopyTable(
            cursor,
            CaseEvent,
            "id case kind occurred_at recorded_at actor message data",
        )
        self.tables = [
            self.customers,
            self.identities,
            self.cases,
            self.case_tags,
            self.messages,
            self.events,
        ]
        self.ids = dict.fromkeys(("identity", "case", "case_tag", "message", "event"), 0)

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def run(self) -> None:
        rng = self.rng
        case_counts = _customer_case_counts(self.sizes, rng)
        self.message_counts = iter(_message_counts(self.sizes, rng))
        platforms = list(PLATFORM_WEIGHTS)
        customers = progress(
            enumerate(case_counts, start=1),
            total=len(case_counts),
            unit="customer",
            desc="  generating",
        )
        for customer_id, cases in customers:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            own = rng.choices(platforms, weights=list(PLATFORM_WEIGHTS.values()))
            if rng.random() < SECOND_IDENTITY_SHARE:
                own.append(rng.choice([p for p in platforms if p != own[0]]))
            # The latest case opens at any time in the history; earlier ones before it.
            latest = self.now - timedelta(seconds=rng.uniform(3600, HISTORY_DAYS * 86400))
            openings = sorted(
                latest - timedelta(seconds=rng.uniform(3 * 86400, 60 * 86400))
                for _ in range(cases - 1)
            )
            openings.append(latest)
            self.customers.add(customer_id, name, openings[0])
            identities = {
                platform: self._identity(customer_id, platform, first, last, openings[0])
                for platform in own
            }
            for number, opened_at in enumerate(openings):
                status = _status(rng, self.now - opened_at) if number == cases - 1 else "closed"
                self._case(customer_id, identities, own, status, opened_at)
        for table in self.tables:
            table.flush()

    def _identity(
        self, customer_id: int, platform: str, first: str, last: str, seen: datetime
    ) -> int:
        identity_id = self._next("identity")
        rng = self.rng
        if platform == "email":
            external_id = handle = f"{first}.{last}{identity_id}@mail.example".lower()
            followers = None
        else:
            external_id = str(9_000_000_000 + identity_id)
            handle = f"{first}{last}{identity_id}".lower()
            followers = int(rng.paretovariate(1.2) * 40) if platform == "x" else None
        self.identities.add(
            identity_id,
            customer_id,
            platform,
            external_id,
            handle,
            f"{first} {last}",
            followers,
            seen,
            seen,
        )
        return identity_id

    def _case(
        self,
        customer_id: int,
        identities: dict[str, int],
        own: list[str],
        status: str,
        opened_at: datetime,
    ) -> None:
        rng, staff = self.rng, self.staff
        case_id = self._next("case")
        platform = own[0]
        channel = rng.choices(*zip(*CHANNELS[platform], strict=True))[0]
        priority = _weighted(rng, PRIORITY_WEIGHTS)
        team = "Email" if platform == "email" else "Social"
        if priority == "urgent" and rng.random() < 0.5:
            team = "Escalations"
        assigned = status != "new" and rng.random() < 0.9
        assignee = rng.choice(staff.agents_by_team[team]) if assigned else None
        product, problem = self.texts.topic()
        subject = f"{product.title()} {problem}" if platform == "email" else ""

        messages = next(self.message_counts)
        at = opened_at
        first_inbound = last_inbound = first_response = awaiting = None
        last_inbound_external = ""
        last_inbound_id: int | None = None
        previous_direction = None
        claimed = False
        for number in range(messages):
            if number == 0 or assignee is None:
                direction = "inbound"
            else:
                direction = rng.choices(
                    ("inbound", "outbound", "note"),
                    weights=(50, 40, 10) if previous_direction != "outbound" else (75, 10, 15),
                )[0]
            if direction != "inbound" and not claimed:
                claimed = True
                at += timedelta(minutes=rng.uniform(1, 30))
                self.events.add(
                    self._next("event"), case_id, "claimed", at, at, assignee, None,
                    f'{{"to": {assignee}}}',
                )  # fmt: skip
            message_id = self._next("message")
            parent, in_reply_to = None, ""
            if direction == "inbound":
                # Now and then the customer writes on their other platform, into the same case.
                on = own[1] if len(own) > 1 and rng.random() < 0.15 else platform
                on_channel = channel if on == platform else CHANNELS[on][0][0]
                external_id = f"{on}-{message_id}"
                if previous_direction == "outbound":
                    parent, in_reply_to = message_id - 1, f"{platform}-out-{message_id - 1}"
                self.messages.add(
                    message_id, case_id, "inbound", staff.accounts[on], on_channel,
                    external_id, in_reply_to, parent, identities[on], None,
                    self.texts.inbound(product, problem),
                    "" if on != "email" else "<p>Please see below.</p>",
                    subject if on == "email" else "", at, at, "",
                )  # fmt: skip
                self.events.add(
                    self._next("event"), case_id, "created" if number == 0 else
                    "message_received", at, at, None, message_id,
                    "{}" if number == 0 else f'{{"channel": "{on_channel}"}}',
                )  # fmt: skip
                first_inbound = first_inbound or at
                last_inbound = at
                awaiting = awaiting or at
                last_inbound_external, last_inbound_id = external_id, message_id
            elif direction == "outbound":
                text = self.texts.reply(product, problem, self.signatures[assignee])
                external_id = f"{platform}-out-{message_id}"
                self.messages.add(
                    message_id, case_id, "outbound", staff.accounts[platform], channel,
                    external_id, last_inbound_external, last_inbound_id, None, assignee,
                    text, "", f"Re: {subject}" if subject else "", at, at, "sent",
                )  # fmt: skip
                self.events.add(
                    self._next("event"), case_id, "reply_sent", at, at, assignee, message_id,
                    f'{{"channel": "{channel}", "external_id": "{external_id}"}}',
                )  # fmt: skip
                first_response = first_response or at
                awaiting = None
            else:
                self.messages.add(
                    message_id, case_id, "note", None, "", None, "", None, None, assignee,
                    self.texts.note(product, problem), "", "", at, at, "",
                )  # fmt: skip
                self.events.add(
                    self._next("event"), case_id, "note_added", at, at, assignee, message_id,
                    '{"mentioned": []}',
                )  # fmt: skip
            previous_direction = direction
            at = min(at + timedelta(seconds=rng.expovariate(1 / 21600)), self.now)

        if assignee is not None and not claimed:
            self.events.add(
                self._next("event"), case_id, "claimed", at, at, assignee, None,
                f'{{"to": {assignee}}}',
            )  # fmt: skip
        resolved_at = closed_at = None
        if status in ("resolved", "closed"):
            resolved_at = min(at + timedelta(hours=rng.uniform(1, 48)), self.now)
        if status == "closed":
            closed_at = min(resolved_at + timedelta(days=7), self.now)
        active = status not in ("resolved", "closed")
        first_due = opened_at + timedelta(hours=4) if active and not first_response else None
        next_due = last_inbound + timedelta(hours=8) if active and last_inbound else None
        resolution_due = opened_at + timedelta(days=3) if active else None
        self.cases.add(
            case_id, customer_id, status, assignee, staff.team_ids[team], priority, subject,
            self.rng.random() < SPAM_SHARE, opened_at, opened_at, first_inbound, last_inbound,
            first_response, resolved_at, closed_at, first_due, next_due, resolution_due,
            awaiting if status in ("new", "open") else None,
        )  # fmt: skip
        for tag in rng.sample(staff.tag_ids, rng.choices((0, 1, 2, 3), TAG_COUNT_WEIGHTS)[0]):
            self.case_tags.add(self._next("case_tag"), case_id, tag)


def _signatures() -> dict[int | None, str]:
    from staff.models import AgentProfile

    return {p.user_id: p.signature for p in AgentProfile.objects.all()}


# The database.


def _database_comment(sizes: Sizes) -> str:
    return json.dumps({"bench": "workspace", **asdict(sizes)})


def reusable(config: dict[str, Any], sizes: Sizes) -> bool:
    """Whether the bench database holds a complete data set of these sizes."""
    connection = _server_connection(config)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [config["NAME"]],
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    return row is not None and row[0] == _database_comment(sizes)


def create_database(config: dict[str, Any]) -> None:
    drop_database(config)
    connection = _server_connection(config)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    finally:
        connection.close()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _loaded_tables() -> list[str]:
    from cases.models import Case, CaseEvent, Message
    from customers.models import Customer, Identity

    return [
        m._meta.db_table for m in (Customer, Identity, Case, Case.tags.through, Message, CaseEvent)
    ]


def _drop_for_loading(cursor, tables: Sequence[str]) -> list[str]:
    """Drop the foreign keys and the indexes that back no constraint on ``tables``; return
    the statements that restore them exactly."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
        [list(tables)],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for table, name, _ in foreign_keys:
        cursor.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table.strip('"')), sql.Identifier(name)
            )
        )
    for name, _ in indexes:
        cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name.strip('"'))))
    return [definition for _, definition in indexes] + [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}")
        .format(sql.Identifier(table.strip('"')), sql.Identifier(name), sql.SQL(definition))
        .as_string(cursor)
        for table, name, definition in foreign_keys
    ]


def generate(config: dict[str, Any], sizes: Sizes) -> None:
    """Create, migrate and fill the bench database; VACUUM ANALYZE comes after."""
    from django.db import connection as django_connection
    from django.utils import timezone

    create_database(config)
    migrate()
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    staff = create_staff(now)
    django_connection.close()
    started = time.monotonic()
    connection = psycopg2.connect(
        dbname=config["NAME"],
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET TIME ZONE 'UTC'")
            tables = _loaded_tables()
            restore = _drop_for_loading(cursor, tables)
            generator = Generator(cursor, sizes, staff, now.replace(tzinfo=None))
            generator.run()
            rows = ", ".join(f"{t.rows} {t.table}" for t in generator.tables)
            print(f"  COPY: {rows} in {time.monotonic() - started:.0f} s", flush=True)
            began = time.monotonic()
            for statement in restore:
                cursor.execute(statement)
            for table in tables:
                cursor.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({table}, 'id'), "
                        "(SELECT max(id) FROM {name}))"
                    ).format(table=sql.Literal(table), name=sql.Identifier(table))
                )
            print(f"  indexes and foreign keys: {time.monotonic() - began:.0f} s", flush=True)
            cursor.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(config["NAME"]), sql.Literal(_database_comment(sizes))
                )
            )
    finally:
        connection.close()


def vacuum_analyze() -> None:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  VACUUM ANALYZE: {time.monotonic() - started:.0f} s", flush=True)


# The pages.


@dataclass(frozen=True)
class Fixture:
    """What the page URLs need from the data set."""

    case_id: int
    case_messages: int
    search: str
    search_hits: int
    filtered_cases: int


def find_fixture(search: str) -> Fixture:
    """A typical case for the case page: the customer has two identities and an earlier case,
    and the case has the median number of messages."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM "
            "(SELECT count(*) AS n FROM tickets_message GROUP BY case_id) AS counts"
        )
        median = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.id FROM tickets_case c WHERE c.status <> 'closed' "
            "AND (SELECT count(*) FROM tickets_identity i "
            "WHERE i.customer_id = c.customer_id) > 1 "
            "AND EXISTS (SELECT 1 FROM tickets_case e WHERE e.customer_id = c.customer_id "
            "AND e.id <> c.id) "
            "AND (SELECT count(*) FROM tickets_message m WHERE m.case_id = c.id) = %s "
            "ORDER BY c.id LIMIT 1",
            [median],
        )
        row = cursor.fetchone()
        if row is None:
            raise BenchmarkFailed("No case fits the case page's description; generate more.")
        cursor.execute("SELECT count(*) FROM tickets_message WHERE text ILIKE %s", [f"%{search}%"])
        hits = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM tickets_case c WHERE c.assignee_id IS NULL "
            "AND c.status <> 'closed' AND NOT c.spam AND c.merged_into_id IS NULL "
            "AND c.priority = 'high' "
            "AND EXISTS (SELECT 1 FROM tickets_message m WHERE m.case_id = c.id "
            "AND m.channel LIKE 'x.%%')"
        )
        filtered = cursor.fetchone()[0]
    return Fixture(row[0], median, search, hits, filtered)


def base_pages(fixture: Fixture) -> list[Page]:
    return [
        Page("inbox, first page", "/?queue=all"),
        Page("filtered queue", "/?queue=unassigned&platform=x&priority=high"),
        Page("full-text search", f"/?q={fixture.search}"),
        Page("case page", f"/cases/{fixture.case_id}/"),
        Page("queue counts (side bar)", "/queues/"),
    ]


_NEXT_LINK = re.compile(r'(?:href|hx-get)="([^"]*\bcursor=[^"]*)"')


def deep_page(client, first: str, depth: int) -> Page:
    """The ``depth``-th page of ``first``, reached by following its next-page links."""
    url = first
    for number in range(1, depth):
        response = client.get(url)
        _check_response(response, url)
        links = _NEXT_LINK.findall(response.content.decode())
        if not links:
            raise BenchmarkFailed(f"Page {number} of {first} has no next-page link.")
        url = unescape(links[-1])
    return Page(f"inbox, page {depth}", url)


def _check_response(response, url: str) -> None:
    if response.status_code != 200:
        raise BenchmarkFailed(f"GET {url} answered {response.status_code}.")


def _replay(raw_cursor, statements: Sequence[str]) -> list[float]:
    """Run the statements as they were sent, fetching every row; their times in ms."""
    times = []
    for statement in statements:
        started = time.perf_counter()
        raw_cursor.execute(statement)
        if raw_cursor.description is not None:
            raw_cursor.fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return times


class StatementTimer:
    """Counts a connection's statements and adds up the time spent executing them."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def measure(client, pages: Sequence[Page], rounds: int) -> list[PageTimes]:
    """Capture each page's statements once, then time page and bare SQL side by side."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for page in pages:
        for _ in range(2):  # warm caches, the template loader and the query plans
            _check_response(client.get(page.url), page.url)
        # The shortest of three captures: a write made now and then (an agent's last-seen
        # time) is not part of the page's usual statements.
        captures = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as captured:
                _check_response(client.get(page.url), page.url)
            captures.append([q["sql"] for q in captured.captured_queries])
        results.append(PageTimes(page, min(captures, key=len)))
    raw_cursor = connection.connection.cursor()
    for _ in progress(range(rounds), total=rounds, unit="round", desc="  timing"):
        for result in results:
            timer = StatementTimer()
            with connection.execute_wrapper(timer):
                started = time.perf_counter()
                response = client.get(result.page.url)
                result.server_ms.append((time.perf_counter() - started) * 1000)
            result.in_sql_ms.append(timer.seconds * 1000)
            _check_response(response, result.page.url)
            result.counts.append(timer.count)
            times = _replay(raw_cursor, result.statements)
            result.statement_ms.append(times)
            result.sql_ms.append(sum(times))
    raw_cursor.close()
    return results


def code_version() -> str:
    """The commit measured, and the files of the served code changed since it, if any. The
    code is read once, at start-up: later edits do not change what a run measures."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--", *PRODUCT_CODE).splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "code: not a git checkout"
    if not changed:
        return f"code: commit {commit}"
    files = ", ".join(line[3:] for line in changed)
    return f"code: commit {commit} with uncommitted changes to {files}"


def where_time_goes(client, url: str, requests: int = 5) -> str:
    """Shares of the request spent executing SQL and rendering templates, under cProfile
    (which slows Python, not PostgreSQL: the SQL share is understated)."""
    from django.core.handlers.base import BaseHandler
    from django.template.backends.django import Template  # wraps pages and partials alike

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def cumulative(function: Callable) -> float:
        code = function.__code__
        return stats.get((code.co_filename, code.co_firstlineno, code.co_name), (0, 0, 0, 0))[3]

    total = cumulative(BaseHandler.get_response)
    executing = sum(
        row[2] for (_, _, name), row in stats.items() if name.startswith("<method 'execute' of")
    )
    rendering = cumulative(Template.render)
    heaviest = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:PROFILE_TOP]
    own = ", ".join(
        f"{Path(file).name}:{line}({name}) {row[2] / total:.0%}"
        for (file, line, name), row in heaviest
    )
    return (
        f"Under the profiler: {executing / total:.0%} executing SQL, {rendering / total:.0%} "
        f"rendering templates (SQL run from a template counts in both). Most own time: {own}."
    )


def explain(statement: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        lines = [row[0] for row in cursor.fetchall()]
    if len(lines) > MAX_EXPLAIN_LINES:
        # The plan's top and its planning and execution times, which come last.
        left_out = len(lines) - MAX_EXPLAIN_LINES
        head, tail = lines[: MAX_EXPLAIN_LINES - 3], lines[-3:]
        lines = [*head, f"... ({left_out} more lines)", *tail]
    return "\n".join(lines)


def signed_in_client(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    return client


def web_settings() -> Callable[[], None]:
    """Serve like production (DEBUG off) but without collected static files, to the test
    client's host name."""
    from django.test.utils import override_settings

    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # no STATIC_ROOT here
    override = override_settings(
        ALLOWED_HOSTS=["testserver"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    override.enable()
    return override.disable


# Running.


def report(results: Iterable[PageTimes]) -> None:
    print(
        f"{'page':<24} {'server ms':>10} {'in SQL ms':>10} {'bare SQL ms':>12} {'ratio':>7} "
        f"{'queries':>8}  target"
    )
    for r in results:
        verdict = "met" if r.meets_target else "MISSED"
        print(
            f"{r.page.name:<24} {r.server:>10.1f} {r.in_sql:>10.1f} {r.sql:>12.1f} "
            f"{r.ratio:>7.2f} {r.queries_shown:>8}  {verdict}"
        )


def report_slowest(client, results: Iterable[PageTimes], *, every: bool) -> None:
    """EXPLAIN ANALYZE the slowest statement of each page that missed the target (or of
    every page)."""
    for r in results:
        if r.meets_target and not every:
            continue
        statement, ms = r.slowest_statement()
        verdict = "met the target" if r.meets_target else "MISSED the target"
        if r.queries >= TARGET_QUERIES:
            listing = "\n".join(
                f"  {n}. {q[:STATEMENT_CHARS]}" for n, q in enumerate(r.statements, 1)
            )
            print(f"\n{r.page.name} ran {r.queries_shown} statements:\n{listing}")
        print(
            f"\n{r.page.name} {verdict}: ratio {r.ratio:.2f} (target {TARGET_RATIO:.0f}), "
            f"{r.queries_shown} queries (target under {TARGET_QUERIES}). Its slowest statement "
            f"({ms:.1f} ms median):\n{statement}\n{explain(statement)}\n"
            f"{where_time_goes(client, r.page.url)}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21, help="timed requests per page")
    parser.add_argument(
        "--depth",
        type=int,
        default=900,
        help="the deep page's number (agent1 sees about 985 pages of All open)",
    )
    parser.add_argument("--search", default="dishwasher", help="the full-text search term")
    return parse_data_set_args(parser, argv, suffix="_bench_ws")


def parse_data_set_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, *, suffix: str
) -> argparse.Namespace:
    """Add the options every benchmark on the generated data set shares, and parse."""
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the data set, and reuse one of the same sizes and seed",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN every page's slowest")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="postgres://USER:PASSWORD@HOST:PORT/NAME (default: $DATABASE_URL); "
        f"the data set lives in NAME{suffix}",
    )
    args = parser.parse_args(argv)
    if args.messages < args.cases or args.cases < 1:
        parser.error("--messages must be at least --cases, which must be positive.")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.database_url:
        raise SystemExit("Pass --database-url or set DATABASE_URL to a PostgreSQL server.")
    postgres_config(args.database_url)
    url = bench_url(args.database_url) + DATABASE_SUFFIX
    config = postgres_config(url)
    sizes = Sizes(args.cases, args.messages, args.seed)
    code = code_version()
    setup_django(url)
    restore_settings = web_settings()
    try:
        if args.keep and reusable(config, sizes):
            print(f"Reusing {config['NAME']}: {sizes.cases} cases, {sizes.messages} messages.")
            migrate()
        else:
            print(
                f"Generating {config['NAME']}: {sizes.cases} cases, {sizes.messages} messages, "
                f"{sizes.customers} customers, seed {sizes.seed}.",
                flush=True,
            )
            generate(config, sizes)
        vacuum_analyze()
        fixture = find_fixture(args.search)
        client = signed_in_client(AGENT_LOGIN)
        pages = base_pages(fixture)
        started = time.monotonic()
        pages.insert(1, deep_page(client, pages[0].url, args.depth))
        print(
            f"  followed the inbox's next-page links to page {args.depth} in "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
        print(
            f"Case page: case {fixture.case_id} ({fixture.case_messages} messages). Search "
            f"{fixture.search!r}: {fixture.search_hits} messages. Filtered queue: "
            f"{fixture.filtered_cases} cases. {args.rounds} rounds.",
            flush=True,
        )
        results = measure(client, pages, args.rounds)
        version = server_version()
        print(
            f"{date.today()}, {os.cpu_count()} CPUs, PostgreSQL {version}, "
            f"Python {platform.python_version()}, {code}"
        )
        for page in pages:
            print(f"  {page.name}: {page.url}")
        report(results)
        report_slowest(client, results, every=args.explain)
    except BenchmarkFailed as exc:
        raise SystemExit(f"FAILED: {exc}") from None
    finally:
        restore_settings()
        if not args.keep:
            drop_database(config)


if __name__ == "__main__":
    main(sys.argv[1:])
