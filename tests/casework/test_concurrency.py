"""Ingestion racing itself: separate processes over the same traffic, threads over one message,
and a customer merge racing new messages from the merged customer."""

import json
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from cases.export import export_cases
from cases.models import Case, CaseEvent, Message
from casework.ingest import ingest_message
from casework.merge import merge_customers
from channels.kinds import KINDS
from customers.models import Customer, Identity
from demo import sample
from intake.models import QuarantinedPayload
from intake.services import ingest_payloads
from tests.factories import T0, AuthorFactory, InboundFactory
from tests.processes import child_database_url, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
BARRIER_TIMEOUT_SECONDS = 30


def read_events(file: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in file.read_bytes().splitlines() if line.strip()]


def write_events(file: Path, events: list[dict[str, Any]]) -> Path:
    file.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    return file


def author_of(event: dict[str, Any]) -> tuple[str, str]:
    """The identity an event's sender has: an email address is case-insensitive."""
    if event["channel"] == "email":
        return ("email", event["author"]["email"].lower())
    return (KINDS[event["channel"]].platform, str(event["author"]["id"]))


def assert_one_case_per_author(events: list[dict[str, Any]]) -> None:
    """Every event is stored once, each author is one customer with one identity and one
    active case, and that case holds exactly the author's events."""
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        expected[author_of(event)].add(event["id"])

    stored = sorted(Message.objects.values_list("external_id", flat=True))
    assert stored == sorted({e["id"] for e in events})
    identities = sorted(Identity.objects.values_list("platform", "external_id"))
    assert identities == sorted(expected)
    assert Customer.objects.count() == len(expected)
    assert not Case.objects.filter(status=Case.Status.CLOSED).exists()
    case_customers = list(Case.objects.values_list("customer", flat=True))
    assert sorted(case_customers) == sorted(Customer.objects.values_list("pk", flat=True))

    by_case: dict[int, set[str]] = defaultdict(set)
    authors_by_case: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for case_id, external_id, platform, author_id in Message.objects.values_list(
        "case", "external_id", "author_identity__platform", "author_identity__external_id"
    ):
        by_case[case_id].add(external_id)
        authors_by_case[case_id].add((platform, author_id))
    assert all(len(authors) == 1 for authors in authors_by_case.values())
    assert sorted(map(sorted, by_case.values())) == sorted(map(sorted, expected.values()))
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.MESSAGE_RECEIVED).count() == len(stored)
    assert not QuarantinedPayload.objects.exists()


def export_by_first_message() -> dict[str, dict[str, Any]]:
    """``export_cases()`` keyed by each case's key (its first message)."""
    return {
        row["key"]: row
        | {
            # Suggestions are worked out after each commit, which the rolled-back serial run
            # never reaches; tests/casework/test_linking.py covers them.
            "customer": row["customer"] | {"suggestions": None},
        }
        for row in export_cases()
    }


def serial_export(file: Path) -> dict[str, dict[str, Any]]:
    """What one process ingesting ``file`` alone leaves behind; rolled back afterwards."""
    lines = [line for line in file.read_bytes().splitlines() if line.strip()]
    with transaction.atomic():
        ingest_payloads(source="sample", payloads=lines, accounts=sample.accounts())
        exported = export_by_first_message()
        transaction.set_rollback(True)
    return exported


def test_two_processes_ingesting_the_same_traffic_store_every_event_once():
    traffic = sample.DEMO_TRAFFIC
    events = read_events(traffic)
    expected = serial_export(traffic)

    counts = run_together(
        [("batch", traffic), ("batch", traffic)], database_url=child_database_url()
    )

    assert sum(c["stored"] for c in counts) == len(events)
    assert sum(c["duplicates"] for c in counts) == len(events)
    assert [c["quarantined"] for c in counts] == [0, 0]
    assert_one_case_per_author(events)
    assert export_by_first_message() == expected


def test_two_processes_delivering_the_same_events_in_different_orders_agree(tmp_path):
    events = read_events(sample.DEMO_TRAFFIC)
    shuffled = random.Random(20261102).sample(events, len(events))
    in_time_order = write_events(tmp_path / "in_order.jsonl", events)
    in_shuffled_order = write_events(tmp_path / "shuffled.jsonl", shuffled)

    # One event per call: a batch is sorted by platform time, so only single deliveries
    # keep the two processes' orders apart.
    counts = run_together(
        [("each", in_time_order), ("each", in_shuffled_order)], database_url=child_database_url()
    )

    assert sum(c["stored"] for c in counts) == len(events)
    assert sum(c["duplicates"] for c in counts) == len(events)
    assert [c["quarantined"] for c in counts] == [0, 0]
    assert_one_case_per_author(events)


def new_customer_traffic(*, messages_each: int) -> list[dict[str, Any]]:
    """Many messages from a few customers never seen before, across their channels."""
    authors = [
        ("x.mention", {"id": "7001", "handle": "ravi_k", "name": "Ravi K", "followers": 12}),
        ("x.dm", {"id": "7002", "handle": "jo_b", "name": "Jo B", "followers": 3}),
        ("facebook.comment", {"id": "8001", "name": "Mira Patel"}),
        ("facebook.message", {"id": "8002", "name": "Tom Rees"}),
        ("email", {"email": "Ines.Moreau@example.org", "name": "Ines Moreau"}),
        ("email", {"email": "kwame@example.net", "name": "Kwame"}),
    ]
    events = []
    for k in range(messages_each):
        for a, (channel, author) in enumerate(authors):
            event = {
                "id": f"n{a}-{k}",
                "at": (T0 + timedelta(minutes=k, seconds=a)).isoformat(),
                "channel": channel,
                "author": author,
                "text": f"Message {k} from customer {a}",
            }
            if channel == "email":
                event["subject"] = "Order not delivered"
            events.append(event)
    return events


def test_two_processes_racing_to_create_the_same_new_customers_make_one_each(tmp_path):
    events = new_customer_traffic(messages_each=30)
    # Alternate messages of every customer go to alternate processes, so both start by
    # creating the same identities, customers and cases.
    evens = write_events(tmp_path / "evens.jsonl", [e for e in events if _k(e) % 2 == 0])
    odds = write_events(tmp_path / "odds.jsonl", [e for e in events if _k(e) % 2 == 1])

    counts = run_together([("batch", evens), ("batch", odds)], database_url=child_database_url())

    assert sum(c["stored"] for c in counts) == len(events)
    assert sum(c["duplicates"] for c in counts) == 0
    assert_one_case_per_author(events)
    assert all(case.subject for case in Case.objects.all())


def _k(event: dict[str, Any]) -> int:
    return int(event["id"].rsplit("-", 1)[1])


def ingest_in_thread(barrier: threading.Barrier, **kwargs: Any) -> Any:
    """Wait for the other threads, then ingest on this thread's own connection."""
    try:
        barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
        return ingest_message(**kwargs)
    finally:
        connection.close()


def test_ingest_and_merges_in_two_processes_take_customer_locks_in_one_order(tmp_path):
    """A batch locks its customers in one statement in id order, as a merge locks its two:
    an ingest of many customers' messages racing merges of those customers in both
    directions ends without a deadlock, and every message lands on its customer's case."""
    events = read_events(sample.DEMO_TRAFFIC)
    ingest_payloads(
        source="sample",
        payloads=[json.dumps(e).encode() for e in events],
        accounts=sample.accounts(),
    )
    customers = list(
        Customer.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # Newer into older and older into newer, alternately: each lock order a merge can ask for.
    pairs = [
        [customers[i + 1], customers[i]] if i % 4 else [customers[i], customers[i + 1]]
        for i in range(0, len(customers) - 1, 2)
    ]
    a_day = timedelta(days=1)
    later = [
        e | {"id": f"{e['id']}-later", "at": (datetime.fromisoformat(e["at"]) + a_day).isoformat()}
        for e in events
    ]
    pairs_file = tmp_path / "pairs.json"
    pairs_file.write_text(json.dumps(pairs))

    counts = run_together(
        [("batch", write_events(tmp_path / "later.jsonl", later)), ("merge", pairs_file)],
        database_url=child_database_url(),
    )

    assert counts == [
        {"stored": len(later), "duplicates": 0, "quarantined": 0},
        {"merged": len(pairs)},
    ]
    for source, target in pairs:
        assert Customer.objects.get(pk=source).merged_into_id == target
    assert Message.objects.count() == 2 * len(events)
    live = Customer.objects.filter(merged_into__isnull=True)
    assert not Identity.objects.exclude(customer__in=live).exists()
    assert not Case.objects.exclude(status=Case.Status.CLOSED).exclude(customer__in=live).exists()
    for customer in live:
        assert customer.cases.exclude(status=Case.Status.CLOSED).count() <= 1


@pytest.mark.parametrize("channel", ["x.mention", "facebook.message", "email"])
def test_concurrent_redelivery_stores_one_message(accounts, channel):
    inbound = InboundFactory(channel=channel, author=AuthorFactory())
    account = accounts[inbound.platform]
    barrier = threading.Barrier(THREADS)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(ingest_in_thread, barrier, account=account, inbound=inbound)
            for _ in range(THREADS)
        ]
        results = [f.result() for f in futures]

    assert sum(not r.duplicate for r in results) == 1
    assert len({r.message.pk for r in results}) == 1
    assert Message.objects.filter(external_id=inbound.external_id).count() == 1
    assert (Customer.objects.count(), Identity.objects.count(), Case.objects.count()) == (1, 1, 1)
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.MESSAGE_RECEIVED).count() == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.CREATED).count() == 1


MERGE_ROUNDS = 5
MESSAGES_DURING_MERGE = 12
LOCK_WAIT_SECONDS = 10


def test_merge_racing_new_messages_from_the_source_customer_keeps_them_all(accounts):
    _merge_while_an_ingest_waits_for_the_customer(accounts)
    for _ in range(MERGE_ROUNDS):
        _race_merge_against_ingest(accounts)


class MergePair:
    """Customer ``source`` (on X) about to be merged into customer ``target`` (by email),
    each with one message in one case."""

    def __init__(self, accounts) -> None:
        self.source_author = AuthorFactory()
        self.first = ingest_message(
            account=accounts["x"], inbound=InboundFactory(author=self.source_author, sent_at=T0)
        ).message
        self.target_first = ingest_message(
            account=accounts["email"],
            inbound=InboundFactory(channel="email", author=AuthorFactory(), sent_at=T0),
        ).message
        self.source = self.first.case.customer
        self.target = self.target_first.case.customer

    def arriving(self, count: int) -> list:
        """New messages from the source customer, each newer than the last."""
        return [
            InboundFactory(
                author=self.source_author,
                channel="x.dm" if i % 2 else "x.mention",
                sent_at=T0 + timedelta(minutes=i + 1),
            )
            for i in range(count)
        ]

    def merge(self) -> None:
        try:
            merge_customers(source=self.source, target=self.target)
        finally:
            connection.close()

    def assert_merged_with(self, arriving: list) -> None:
        """The source is a tombstone, and every message of its identity, old and new, is in
        the target's one active case."""
        source = Customer.objects.get(pk=self.source.pk)
        assert source.merged_into_id == self.target.pk
        assert not source.identities.exists() and not source.cases.exists()
        active = self.target.cases.exclude(status=Case.Status.CLOSED).get()
        identity = Identity.objects.get(external_id=self.source_author.external_id)
        assert identity.customer_id == self.target.pk
        received = set(identity.messages.values_list("external_id", flat=True))
        assert received == {self.first.external_id, *(m.external_id for m in arriving)}
        assert set(identity.messages.values_list("case", flat=True)) == {active.pk}
        assert active.messages.filter(pk=self.target_first.pk).exists()
        folded = Case.objects.get(pk=self.first.case_id)
        assert (folded.status, folded.merged_into_id) == (Case.Status.CLOSED, active.pk)
        assert not folded.messages.exists()


def _race_merge_against_ingest(accounts) -> None:
    pair = MergePair(accounts)
    arriving = pair.arriving(MESSAGES_DURING_MERGE)
    merging = threading.Event()

    def ingest_all() -> None:
        try:
            for i, inbound in enumerate(arriving):
                if i == 2:
                    merging.set()  # the merge starts while messages keep arriving
                ingest_message(account=accounts["x"], inbound=inbound)
        finally:
            merging.set()
            connection.close()

    def merge() -> None:
        merging.wait(timeout=BARRIER_TIMEOUT_SECONDS)
        pair.merge()

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(ingest_all), pool.submit(merge)]
        for future in futures:
            future.result()

    pair.assert_merged_with(arriving)


def _merge_while_an_ingest_waits_for_the_customer(accounts) -> None:
    """One fixed interleaving: the merge holds both customers, and a new message from the
    source arrives before the merge has moved the source's identities."""
    pair = MergePair(accounts)
    [arriving] = pair.arriving(1)
    held, release = threading.Event(), threading.Event()

    def hold_first_message() -> None:
        # Keeps the merge between locking the customers and moving the folded case's
        # messages, until the ingest is under way too.
        try:
            with transaction.atomic():
                Message.objects.select_for_update().get(pk=pair.first.pk)
                held.set()
                release.wait(timeout=BARRIER_TIMEOUT_SECONDS)
        finally:
            held.set()
            connection.close()

    def ingest() -> None:
        try:
            ingest_message(account=accounts["x"], inbound=arriving)
        finally:
            connection.close()

    with ThreadPoolExecutor(3) as pool:
        holder = pool.submit(hold_first_message)
        held.wait(timeout=BARRIER_TIMEOUT_SECONDS)
        merging = pool.submit(pair.merge)
        _wait_until_waiting_for_locks(1, unless=[merging])
        ingesting = pool.submit(ingest)
        _wait_until_waiting_for_locks(2, unless=[merging, ingesting])
        release.set()
        for future in (holder, merging, ingesting):
            future.result()

    pair.assert_merged_with([arriving])


def _wait_until_waiting_for_locks(count: int, *, unless: list) -> None:
    """Wait until ``count`` sessions of this database wait for a lock, or a job is done."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline and not any(f.done() for f in unless):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.01)
