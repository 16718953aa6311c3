"""Ingest throughput on PostgreSQL: a synthetic burst through the real ingest path.

Measures messages per second for
  (a) one process calling ``intake.services.ingest_payloads`` on the burst, 1,000
      payloads a call, as a poll batch would;
  (b) two processes side by side, each ingesting the messages of half the customers;
  (c) a plain ``Message.objects.bulk_create`` of the same message rows: the machine's ceiling.
and prints each ingest rate as a ratio of (c), with the SQL statements per message (savepoints
included; the implicit BEGIN and the COMMIT of each transaction are not). Compare the ratios
within one run: absolute rates move with the machine's load.

The burst is ``demo/sample_data/traffic.jsonl`` replicated until it holds ``--messages``
events from exactly ``--customers`` authors. Each replica gets its own message ids (reply_to
chains stay inside the replica) and is shifted a minute later than the one before. Every
sample author stands for a fixed set of customer numbers, used in turn by the replicas, so
a customer keeps one platform identity. Attachment sizes are divided by 1,024. The
construction has no randomness: the same arguments give the same burst, byte for byte.
Each ingest run analyses its new database once its first batch is in, as autovacuum would
within its first minute (``analyse_database``), so that no run is planned without statistics.

    DATABASE_URL=postgres://careinbox:careinbox@127.0.0.1:5432/careinbox \\
        .venv/bin/python -m bench.ingest --messages 100000 --customers 20000

The URL gives the server and the role. Each measurement runs on the database named after
it with ``_bench`` appended, dropped, created and migrated again first (the role needs
CREATEDB) and dropped at the end; the database the URL names is never touched.
"""

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import platform
import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg2
from psycopg2 import sql

from bench import PRODUCT_CODE
from careinbox.progress import progress

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_TRAFFIC = PROJECT / "demo/sample_data/traffic.jsonl"
BATCH_SIZE = 1000
REPLICA_SHIFT = timedelta(minutes=1)
# The sample's attachments add up to 59 MB of stored content per replica, 14 GB at full
# size; divided by this they keep their number and shape but stop dominating the burst.
ATTACHMENT_SCALE = 1024
# Remapped X and Facebook user ids: far from the sample's, and one per customer number.
AUTHOR_ID_BASE = 7_000_000_000
POSTGRESQL_ENGINE = "django.db.backends.postgresql"
CHILD_START_TIMEOUT_SECONDS = 600
DROP_ATTEMPTS = 30


class BenchmarkFailed(Exception):
    """A run did not store what it should have; its rate would be meaningless."""


def code_fingerprint() -> str:
    """A digest of the project's Python source, migrations included."""
    digest = hashlib.sha256()
    for path in sorted(p for name in PRODUCT_CODE for p in (PROJECT / name).rglob("*.py")):
        digest.update(str(path.relative_to(PROJECT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# Every measurement must run the code the run started with, or the ratios compare two versions.
STARTING_CODE = code_fingerprint()


def check_code_unchanged() -> None:
    if code_fingerprint() != STARTING_CODE:
        raise BenchmarkFailed(
            "The project's code changed during the run (an edit, a new migration), so the "
            "measurements ran different code; run again on a tree nobody is editing."
        )


class BurstEvent(NamedTuple):
    customer: int
    payload: bytes


@dataclass
class Tally:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    queries: int = 0
    # The message ids of each identity-linking task the ingest queued.
    linking: list[list[int]] = field(default_factory=list)

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            self.stored + other.stored,
            self.duplicates + other.duplicates,
            self.quarantined + other.quarantined,
            self.queries + other.queries,
            self.linking + other.linking,
        )


@dataclass(frozen=True)
class Measurement:
    name: str
    messages: int
    seconds: float
    queries: int
    # Seconds one worker then spent on the identity linking the ingest queued.
    linking_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


# The burst.


def load_sample() -> list[dict[str, Any]]:
    lines = SAMPLE_TRAFFIC.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _author_key(event: dict[str, Any]) -> tuple[str, str]:
    author = event["author"]
    platform_name = event["channel"].split(".")[0]
    return platform_name, str(author.get("email") or author.get("id")).lower()


def _customer_slots(sample: Sequence[dict[str, Any]], customers: int) -> dict[tuple, range]:
    """The customer numbers each sample author stands for: every n-th number from its index."""
    authors = list(dict.fromkeys(_author_key(event) for event in sample))
    if customers < len(authors):
        raise SystemExit(
            f"--customers must be at least {len(authors)}, the sample's number of authors."
        )
    return {key: range(i, customers, len(authors)) for i, key in enumerate(authors)}


def _remapped_author(event: dict[str, Any], customer: int) -> dict[str, Any]:
    author = dict(event["author"])
    if event["channel"] == "email":
        author["email"] = f"customer{customer}@bench.example"
        return author
    author["id"] = str(AUTHOR_ID_BASE + customer)
    if "handle" in author:
        author["handle"] = f"bench_customer{customer}"
    return author


def _replica_event(event: dict[str, Any], replica: int, customer: int) -> dict[str, Any]:
    copy = dict(event, id=f"{event['id']}-r{replica}", author=_remapped_author(event, customer))
    at = datetime.fromisoformat(event["at"]) + replica * REPLICA_SHIFT
    copy["at"] = at.isoformat().replace("+00:00", "Z")
    if event.get("reply_to"):
        copy["reply_to"] = f"{event['reply_to']}-r{replica}"
    if event.get("attachments"):
        copy["attachments"] = [
            dict(a, size=a["size"] // ATTACHMENT_SCALE) for a in event["attachments"]
        ]
    return copy


def build_burst(messages: int, customers: int) -> list[BurstEvent]:
    """``messages`` sample-format events from exactly ``customers`` authors, in time order."""
    sample = load_sample()
    slots = _customer_slots(sample, customers)
    replicas = math.ceil(messages / len(sample))
    chosen: list[tuple[datetime, BurstEvent]] = []
    for replica in range(replicas):
        for event in sample[: messages - replica * len(sample)]:
            own = slots[_author_key(event)]
            customer = own[replica % len(own)]
            copy = _replica_event(event, replica, customer)
            payload = json.dumps(copy, ensure_ascii=False).encode()
            chosen.append((datetime.fromisoformat(copy["at"]), BurstEvent(customer, payload)))
    chosen.sort(key=lambda item: item[0])  # stable: a replica's order is kept within a second
    burst = [event for _, event in chosen]
    found = len({event.customer for event in burst})
    if found != customers:
        raise SystemExit(
            f"{messages} messages reach only {found} of {customers} customers; ask for more "
            f"messages or fewer customers."
        )
    return burst


def half_of(burst: Sequence[BurstEvent], half: int) -> list[bytes]:
    """One of two disjoint halves of the burst, split by customer, order kept."""
    return [event.payload for event in burst if event.customer % 2 == half]


def batches(payloads: Sequence[bytes]) -> Iterator[Sequence[bytes]]:
    """``payloads`` a batch at a time, with a progress bar on a terminal."""
    starts = range(0, len(payloads), BATCH_SIZE)
    for start in progress(starts, total=len(starts), unit="batch", desc="  batches"):
        yield payloads[start : start + BATCH_SIZE]


# The database.


def postgres_config(url: str) -> dict[str, Any]:
    config = dj_database_url.parse(url)
    if config["ENGINE"] != POSTGRESQL_ENGINE:
        raise SystemExit(
            f"This benchmark needs PostgreSQL; {url!r} is {config['ENGINE']}. SQLite serialises "
            "every write and says nothing about production; pass --database-url "
            "postgres://USER:PASSWORD@HOST:PORT/NAME."
        )
    return config


def bench_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_bench"))


def setup_django(database_url: str) -> None:
    """Point the project's settings at the bench database, with DEBUG off: DEBUG keeps a log
    of every query, which would slow ingest down and grow without bound."""
    import django

    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "0"
    # The burst is sample traffic, read by the demo app's sample loader.
    os.environ["CAREINBOX_DEMO"] = "1"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careinbox.settings")
    django.setup()


def _server_connection(config: dict[str, Any]):
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    connection.autocommit = True
    return connection


def drop_database(config: dict[str, Any]) -> None:
    from django.db import connections

    connections.close_all()
    connection = _server_connection(config)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(config["NAME"])
    )
    try:
        with connection.cursor() as cursor:
            for attempt in range(DROP_ATTEMPTS):
                try:
                    cursor.execute(drop)
                    return
                except psycopg2.errors.InsufficientPrivilege:
                    # Autovacuum is still working on the rows a run just wrote, and a role
                    # that may create databases may not stop it; it is done in moments.
                    if attempt == DROP_ATTEMPTS - 1:
                        raise
                    time.sleep(2)
    finally:
        connection.close()


def fresh_database(config: dict[str, Any]) -> None:
    """Drop, create and migrate the bench database, and connect the sample's accounts."""
    from django.core.management import call_command

    from demo import sample

    check_code_unchanged()
    drop_database(config)
    connection = _server_connection(config)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    finally:
        connection.close()
    call_command("migrate", verbosity=0, interactive=False)
    sample.accounts()
    if REALISTIC:
        configure_realistically()


# Set by --bare: the run measures ingest with no routing rules, SLA policy or auto-assignment.
REALISTIC = True
# Set by --linking: after each ingest run, one worker's identity linking of it is timed too.
LINKING = False


def configure_realistically() -> None:
    """What a care team runs with: three routing rules (everything to the care team, a store
    named in the message to its team, closing thanks marked as needing no reply), a
    business-hours SLA policy, and a team that auto-assigns to four online agents."""
    from datetime import time as clock_time

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from routing.models import RoutingRule, Store
    from routing.rules import save_rule
    from sla.models import BusinessCalendar, BusinessHours, SLAPolicy
    from staff import roles
    from staff.models import AgentProfile, Team

    care = Team.objects.create(name="Care", auto_assign=True)
    leeds = Team.objects.create(name="Leeds store")
    Store.objects.create(name="Leeds", city="Leeds", team=leeds)
    save_rule(rule=RoutingRule(name="Everything to Care", set_team=care))
    save_rule(rule=RoutingRule(name="Stores to their teams", team_from_store=True))
    save_rule(
        rule=RoutingRule(name="Thanks needs no reply", closing_thanks=True, mark_no_reply=True)
    )
    office = BusinessCalendar.objects.create(name="UK office", time_zone="Europe/London")
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=office, weekday=day, opens=clock_time(8), closes=clock_time(20))
        for day in range(6)
    )
    SLAPolicy.objects.create(
        name="Standard",
        calendar=office,
        first_response_minutes=120,
        next_response_minutes=240,
        resolution_minutes=2 * 24 * 60,
    )
    agents = Group.objects.get(name=roles.AGENT)
    for n in range(4):
        user = get_user_model().objects.create_user(f"agent{n}")
        user.groups.add(agents)
        profile = AgentProfile.objects.create(
            user=user, display_name=f"Agent {n}", max_active_cases=32_000
        )
        profile.teams.add(care)
        AgentProfile.objects.filter(pk=profile.pk).update(last_seen_at=timezone.now())


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


# Ingesting.


class QueryCounter:
    """Counts the SQL statements a connection runs; cheap enough to leave on while timing."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries() -> Iterator[QueryCounter]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


def ingest_all(payloads: Sequence[bytes]) -> Tally:
    """Ingest the payloads through the service, one poll-sized batch a call. The identity
    linking each batch queues for after its commit is a worker's job, not the poller's: it
    is kept aside here (``Tally.linking``), as a broker would keep it for a worker."""
    from casework import tasks
    from demo import sample
    from intake.services import ingest_payloads

    accounts = sample.accounts()
    tally = Tally()
    queued = tasks.link_customers_task.delay
    tasks.link_customers_task.delay = tally.linking.append  # type: ignore[method-assign]
    try:
        with counting_queries() as counter:
            for number, batch in enumerate(batches(payloads)):
                result = ingest_payloads(source="sample", payloads=batch, accounts=accounts)
                tally.stored += result.stored
                tally.duplicates += result.duplicates
                tally.quarantined += len(result.quarantined)
                if number == 0:
                    analyse_database()
    finally:
        tasks.link_customers_task.delay = queued  # type: ignore[method-assign]
    tally.queries = counter.count
    return tally


def analyse_database() -> None:
    """Give the planner the statistics an installed product's tables have.

    A database created seconds before has none until autovacuum first visits it, anywhere
    within ``autovacuum_naptime`` (a minute by default). Until then PostgreSQL takes every key
    to match 0.5% of a table, and reads whole tables where an index would find a few rows: a
    run's speed would hang on when that first visit fell. So each ingest run analyses the
    database once its first batch is in, as that visit would; autovacuum carries on from there.
    Of two processes, the second skips the tables the first is analysing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE (SKIP_LOCKED)")


def link_all(tally: Tally) -> float | None:
    """With ``--linking``, run the identity linking the ingest queued, as one worker would;
    its seconds."""
    from casework.linking import link_customers_of

    if not LINKING:
        return None
    start = time.monotonic()
    for message_ids in tally.linking:
        link_customers_of(message_ids=message_ids)
    return time.monotonic() - start


def verify_ingest(name: str, tally: Tally, *, messages: int, customers: int) -> None:
    from cases.models import Message
    from customers.models import Identity
    from intake.models import QuarantinedPayload

    found = {
        "messages reported stored": tally.stored,
        "messages stored": Message.objects.count(),
        "identities": Identity.objects.count(),
        "payloads reported quarantined": tally.quarantined,
        "payloads quarantined": QuarantinedPayload.objects.count(),
        "duplicates": tally.duplicates,
    }
    expected = {
        "messages reported stored": messages,
        "messages stored": messages,
        "identities": customers,
        "payloads reported quarantined": 0,
        "payloads quarantined": 0,
        "duplicates": 0,
    }
    wrong = [
        f"{k}: {found[k]}, expected {expected[k]}" for k in expected if found[k] != expected[k]
    ]
    if wrong:
        raise BenchmarkFailed(f"{name} did not ingest the burst cleanly: " + "; ".join(wrong))


def measure_one_process(
    config: dict[str, Any], burst: Sequence[BurstEvent], customers: int
) -> Measurement:
    name = "(a) ingest, 1 process"
    fresh_database(config)
    payloads = [event.payload for event in burst]
    start = time.monotonic()
    tally = ingest_all(payloads)
    seconds = time.monotonic() - start
    verify_ingest(name, tally, messages=len(burst), customers=customers)
    return Measurement(
        name, len(burst), seconds, tally.queries, link_all(tally) if LINKING else None
    )


def _ingest_half(database_url: str, messages: int, customers: int, half: int, start, results):
    """Child process: build the same burst, wait for the start signal, ingest one half."""
    try:
        setup_django(database_url)
        from django.db import connections

        payloads = half_of(build_burst(messages, customers), half)
        start.wait(CHILD_START_TIMEOUT_SECONDS)
        tally = ingest_all(payloads)
        connections.close_all()
        results.put((half, tally, None))
    except BaseException as exc:
        # Release the other processes from the start barrier instead of leaving them waiting.
        start.abort()
        results.put((half, None, f"{type(exc).__name__}: {exc}"))
        raise


def measure_two_processes(
    config: dict[str, Any], database_url: str, burst: Sequence[BurstEvent], customers: int
) -> Measurement:
    """Two processes, one per half of the customers, started together on one signal."""
    from django.db import connections

    name = "(b) ingest, 2 processes"
    fresh_database(config)
    connections.close_all()
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(3), context.Queue()
    children = [
        context.Process(
            target=_ingest_half,
            args=(database_url, len(burst), customers, half, start, results),
        )
        for half in (0, 1)
    ]
    for child in children:
        child.start()
    try:
        try:
            start.wait(CHILD_START_TIMEOUT_SECONDS)
        except threading.BrokenBarrierError:
            _child_result(results, children)  # raises the child's error
            raise BenchmarkFailed("The ingest processes did not start.") from None
        began = time.monotonic()
        tally = Tally()
        for _ in children:
            tally += _child_result(results, children)
        seconds = time.monotonic() - began
    finally:
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.terminate()
    verify_ingest(name, tally, messages=len(burst), customers=customers)
    return Measurement(
        name, len(burst), seconds, tally.queries, link_all(tally) if LINKING else None
    )


def _child_result(results, children) -> Tally:
    while True:
        try:
            half, tally, error = results.get(timeout=5)
        except queue.Empty:
            if any(child.exitcode not in (None, 0) for child in children):
                raise BenchmarkFailed("An ingest process died without a result.") from None
            continue
        if error is not None:
            raise BenchmarkFailed(f"The ingest process for half {half} failed: {error}")
        return tally


# The ceiling.


def _message_rows(burst: Sequence[BurstEvent]) -> list:
    """Unsaved ``Message`` rows as ingest stores them, on pre-created customers and cases.

    ``parent`` stays empty: it needs the ids of rows not inserted yet.
    """
    from cases.models import Case, Message
    from cases.sanitise import sanitise_html
    from customers.models import Customer, Identity
    from demo import sample

    accounts = sample.accounts()
    inbounds = [sample.normalise(event.payload) for event in burst]
    firsts = {}
    for inbound in inbounds:
        firsts.setdefault((inbound.platform, inbound.author.external_id), inbound)
    customers = Customer.objects.bulk_create(
        Customer(display_name=i.author.display_name or i.author.external_id)
        for i in firsts.values()
    )
    identities = Identity.objects.bulk_create(
        Identity(
            customer=customer,
            platform=i.platform,
            external_id=i.author.external_id,
            handle=i.author.handle,
            display_name=i.author.display_name,
            follower_count=i.author.follower_count,
            last_seen_at=i.sent_at,
        )
        for customer, i in zip(customers, firsts.values(), strict=True)
    )
    cases = Case.objects.bulk_create(
        Case(customer=customer, opened_at=i.sent_at)
        for customer, i in zip(customers, firsts.values(), strict=True)
    )
    by_author = {
        key: (identity, case)
        for key, identity, case in zip(firsts, identities, cases, strict=True)
    }
    rows = []
    for inbound in inbounds:
        identity, case = by_author[(inbound.platform, inbound.author.external_id)]
        rows.append(
            Message(
                case=case,
                direction=Message.Direction.INBOUND,
                channel_account=accounts[inbound.platform],
                channel=inbound.channel,
                external_id=inbound.external_id,
                in_reply_to_external_id=inbound.in_reply_to[0] if inbound.in_reply_to else "",
                author_identity=identity,
                text=inbound.text,
                html=sanitise_html(inbound.html),
                subject=inbound.subject,
                sent_at=inbound.sent_at,
                raw_payload=inbound.raw,
            )
        )
    return rows


def measure_bulk_insert(config: dict[str, Any], burst: Sequence[BurstEvent]) -> Measurement:
    """Only the message INSERTs are timed, in batches of the ingest's size."""
    from cases.models import Message

    fresh_database(config)
    rows = _message_rows(burst)
    start = time.monotonic()
    with counting_queries() as counter:
        for batch in batches(rows):
            Message.objects.bulk_create(batch)
    seconds = time.monotonic() - start
    stored = Message.objects.count()
    if stored != len(burst):
        raise BenchmarkFailed(f"bulk_create stored {stored} messages, expected {len(burst)}.")
    return Measurement("(c) bulk INSERT of the rows", len(burst), seconds, counter.count)


# Running.


def report(results: Sequence[Measurement], ceiling: Measurement) -> None:
    print(
        f"{'measurement':<30} {'seconds':>9} {'msgs/s':>9} {'ratio':>7} {'queries/msg':>12} "
        f"{'linking s':>10}"
    )
    for m in results:
        linking = f"{m.linking_seconds:>10.1f}" if m.linking_seconds is not None else f"{'':>10}"
        print(
            f"{m.name:<30} {m.seconds:>9.1f} {m.rate:>9.0f} {m.rate / ceiling.rate:>7.3f} "
            f"{m.queries / m.messages:>12.3f} {linking}"
        )


def _announced(measurement: Measurement) -> Measurement:
    print(f"  {measurement.name}: {measurement.seconds:.1f} s", flush=True)
    return measurement


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--bare",
        action="store_true",
        help="no routing rules, SLA policy or auto-assignment (by default the runs have three "
        "rules, a business-hours policy and an auto-assigning team)",
    )
    parser.add_argument(
        "--linking",
        action="store_true",
        help="also time the identity linking each ingest run queued, as one worker runs it "
        "(slow on this burst: each replica repeats the sample's names, so every customer has "
        "hundreds of near-namesakes to score)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="postgres://USER:PASSWORD@HOST:PORT/NAME (default: $DATABASE_URL); "
        "the runs use NAME_bench",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    global REALISTIC, LINKING
    REALISTIC, LINKING = not args.bare, args.linking
    if not args.database_url:
        raise SystemExit("Pass --database-url or set DATABASE_URL to a PostgreSQL server.")
    postgres_config(args.database_url)
    url = bench_url(args.database_url)
    config = postgres_config(url)
    burst = build_burst(args.messages, args.customers)
    setup_django(url)
    replicas = math.ceil(len(burst) / len(load_sample()))
    print(
        f"Ingest burst: {len(burst)} messages from {args.customers} customers "
        f"({replicas} replicas of the sample), {BATCH_SIZE} payloads a call; "
        f"halves of {len(half_of(burst, 0))} and {len(half_of(burst, 1))} messages.",
        flush=True,
    )
    try:
        results = [
            _announced(measure_one_process(config, burst, args.customers)),
            _announced(measure_two_processes(config, url, burst, args.customers)),
            _announced(measure_bulk_insert(config, burst)),
        ]
        version = server_version()
        check_code_unchanged()
    except BenchmarkFailed as exc:
        raise SystemExit(f"FAILED: {exc}") from None
    finally:
        drop_database(config)
    print(
        f"{date.today()}, {os.cpu_count()} CPUs, PostgreSQL {version}, "
        f"Python {platform.python_version()}"
    )
    report(results, ceiling=results[-1])


if __name__ == "__main__":
    main(sys.argv[1:])
