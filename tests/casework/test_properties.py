"""Properties of ingestion over generated sample traffic: the cases left behind do not depend
on arrival order, batching or redelivery, and a bad payload is rejected, never lost."""

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cases.export import export_cases
from cases.models import Attachment, Message
from channels.errors import MalformedPayload, UnsupportedEvent
from channels.inbound import InboundAttachment, InboundMessage
from demo import sample
from intake.models import QuarantinedPayload
from intake.services import BatchResult, ingest_payloads

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    # The accounts fixture is made once per test; every example rolls its own work back.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# A few people per platform; a person's profile may change between their messages, and an
# email address may be written in any case.
PEOPLE = {
    "x": [
        {"id": "431221750", "handle": "neilcarver", "name": "Neil Carver", "followers": 97},
        {"id": "1139510501", "handle": "gmcallister_", "name": "Graham McA", "followers": 402},
    ],
    "facebook": [{"id": "100093031753359", "name": "Mira Patel"}, {"id": "4455", "name": "Tom"}],
    "email": [
        {"email": "ines.moreau@example.org", "name": "Ines Moreau"},
        {"email": "kwame@example.net", "name": "Kwame"},
    ],
}
CHANNELS_OF = {
    "x": ["x.mention", "x.dm"],
    "facebook": ["facebook.comment", "facebook.message"],
    "email": ["email"],
}
ATTACHMENTS = st.lists(
    st.fixed_dictionaries(
        {
            "filename": st.sampled_from(["receipt.pdf", "photo.jpg", "log.txt"]),
            "content_type": st.sampled_from(["application/pdf", "image/jpeg", "text/plain"]),
            "size": st.integers(0, 2048),
        }
    ),
    max_size=2,
)


@st.composite
def authors(draw, platform: str) -> dict[str, Any]:
    person = dict(draw(st.sampled_from(PEOPLE[platform])))
    if platform == "x":
        person["handle"] = draw(st.sampled_from([person["handle"], person["handle"] + "_uk"]))
        person["followers"] = draw(st.integers(0, 10_000))
    if platform == "email":
        person["email"] = draw(st.sampled_from([person["email"], person["email"].upper()]))
    person["name"] = draw(st.sampled_from([person["name"], person["name"].upper()]))
    return person


@st.composite
def events(draw, *, event_id: str, minute: int, earlier: list[str]) -> dict[str, Any]:
    """One valid sample event, possibly replying to one of the ``earlier`` event ids."""
    platform = draw(st.sampled_from(sorted(PEOPLE)))
    channel = draw(st.sampled_from(CHANNELS_OF[platform]))
    event = {
        "id": event_id,
        "at": (T0 + timedelta(minutes=minute)).isoformat(),
        "channel": channel,
        "author": draw(authors(platform)),
        "text": draw(st.text(max_size=30)),
    }
    if earlier and draw(st.booleans()):
        event["reply_to"] = draw(st.sampled_from(earlier))
    if channel == "email":
        event["subject"] = draw(st.sampled_from(["Refund", "Re: Refund", ""]))
        event["html"] = draw(st.sampled_from(["", "<p>Hello</p>", "<script>x()</script>"]))
    if channel in ("email", "facebook.message"):
        event["attachments"] = draw(ATTACHMENTS)
    return event


@st.composite
def batches(draw, *, max_events: int = 6) -> list[bytes]:
    """Sample events as JSON lines: a few authors on every channel, times that often tie,
    replies to earlier events of anyone, and some events delivered more than once."""
    count = draw(st.integers(1, max_events))
    minutes = sorted(draw(st.lists(st.integers(0, 45), min_size=count, max_size=count)))
    ids = draw(st.permutations([f"e{i}" for i in range(1, count + 1)]))
    generated: list[dict[str, Any]] = []
    for event_id, minute in zip(ids, minutes, strict=True):
        earlier = [e["id"] for e in generated]
        generated.append(draw(events(event_id=event_id, minute=minute, earlier=earlier)))
    lines = [json.dumps(e, ensure_ascii=False).encode() for e in generated]
    again = draw(st.lists(st.sampled_from(lines), max_size=3))
    return lines + again


def splits(draw, items: list) -> list[list]:
    """``items`` cut into consecutive non-empty parts."""
    cuts = sorted(draw(st.sets(st.integers(1, max(len(items) - 1, 1)), max_size=3)))
    bounds = [0, *(c for c in cuts if c < len(items)), len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


def ingest_order(line: bytes) -> tuple[datetime, str, str]:
    """The order a batch ingests its events in: platform time, then channel and id."""
    event = json.loads(line)
    return datetime.fromisoformat(event["at"]), event["channel"], event["id"]


def event_ids(lines: list[bytes]) -> set[str]:
    return {json.loads(line)["id"] for line in lines}


@contextmanager
def clean_state() -> Iterator[None]:
    """Run the block on the database as the example found it, then undo it."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def ingested(accounts, *calls: list[bytes]) -> tuple[list[dict[str, Any]], list[BatchResult]]:
    """The export after ingesting each call's payloads in turn, from a clean state."""
    with clean_state():
        results = [
            ingest_payloads(source="sample", payloads=payloads, accounts=accounts)
            for payloads in calls
        ]
        return list(export_cases()), results


def partitions(exported: list[dict[str, Any]]) -> dict[str, Any]:
    """Which messages share a case and which identities share a customer, without ids."""
    customers = {
        row["customer"]["key"]: sorted(
            (i["platform"], i["external_id"]) for i in row["customer"]["identities"]
        )
        for row in exported
    }
    return {
        "cases": sorted(sorted(m["external_id"] for m in row["messages"]) for row in exported),
        "customers": sorted(customers.values()),
        "messages": sorted(m["external_id"] for row in exported for m in row["messages"]),
    }


@PROPERTY
@given(data=st.data())
def test_a_batch_gives_the_same_cases_in_any_order(accounts, data):
    batch = data.draw(batches())
    shuffled = data.draw(st.permutations(batch))

    in_order, _ = ingested(accounts, batch)
    reordered, _ = ingested(accounts, shuffled)

    assert reordered == in_order


@PROPERTY
@given(data=st.data())
def test_any_order_in_batches_of_any_size_exports_the_same_bytes(accounts, data):
    """As polls deliver traffic: pages of any size, newest first or in any order."""
    batch = data.draw(batches())
    arrival = data.draw(st.permutations(batch))
    pages = splits(data.draw, list(arrival))

    whole, _ = ingested(accounts, batch)
    paged, _ = ingested(accounts, *pages)

    assert [json.dumps(row) for row in paged] == [json.dumps(row) for row in whole]


@PROPERTY
@given(data=st.data())
def test_ingesting_events_again_changes_nothing_and_counts_them_as_duplicates(accounts, data):
    batch = data.draw(batches())
    indices = data.draw(st.lists(st.integers(0, len(batch) - 1), unique=True))
    again = [batch[i] for i in data.draw(st.permutations(indices))]
    calls = splits(data.draw, again) if again else []

    with clean_state():
        ingest_payloads(source="sample", payloads=batch, accounts=accounts)
        before = list(export_cases())
        results = [
            ingest_payloads(source="sample", payloads=call, accounts=accounts) for call in calls
        ]
        after = list(export_cases())

    assert after == before
    assert sum(r.duplicates for r in results) == len(again)
    assert sum(r.stored + len(r.quarantined) for r in results) == 0


@PROPERTY
@given(data=st.data())
def test_consecutive_chunks_in_time_order_give_the_same_cases_as_one_batch(accounts, data):
    batch = data.draw(batches())
    chunks = splits(data.draw, sorted(batch, key=ingest_order))

    whole, _ = ingested(accounts, batch)
    chunked, _ = ingested(accounts, *chunks)

    assert chunked == whole


@PROPERTY
@given(data=st.data())
def test_separate_calls_in_any_order_group_messages_and_identities_the_same(accounts, data):
    batch = data.draw(batches())
    chunks = splits(data.draw, data.draw(st.permutations(batch)))

    whole, _ = ingested(accounts, batch)
    chunked, results = ingested(accounts, *chunks)

    assert partitions(chunked) == partitions(whole)
    assert len(chunked) == len(whole)
    assert partitions(chunked)["messages"] == sorted(event_ids(batch))
    assert sum(r.stored for r in results) == len(event_ids(batch))
    assert sum(r.stored + r.duplicates for r in results) == len(batch)
    assert not any(r.quarantined for r in results)


def test_export_keeps_attachments_in_order_when_their_rows_move(ingest):
    files = tuple(
        InboundAttachment(f"page{n}.png", "image/png", 1000, bytes(range(250)) * 4)
        for n in range(10)
    )
    message = ingest(channel="email", attachments=files).message
    # Any later write to a row on a full page moves the row on PostgreSQL.
    Attachment.objects.filter(message=message, filename="page0.png").update(skipped_reason="")

    [case] = export_cases()

    assert [a["filename"] for a in case["messages"][0]["attachments"]] == [
        f.filename for f in files
    ]


def test_export_carries_a_message_stored_cut_at_the_text_limit_whole(ingest):
    whole = "Still orange. " * 10_000  # 140,000 characters, over the limit
    message = ingest(channel="email", text=whole).message
    assert Message.objects.get(pk=message.pk).text != whole

    [case] = export_cases()

    assert case["messages"][0]["text"] == whole


# Any JSON value, as a decoder may return it; strings may hold unpaired surrogates, which
# JSON's \u escapes can carry.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)
JSON_DOCUMENTS = JSON_VALUES.map(lambda value: json.dumps(value).encode())
GARBAGE = st.binary() | JSON_DOCUMENTS

# Where a broken event is broken, and what may be there instead. An attachment's claimed size
# stays small or absurd: the sample format generates that many bytes of content.
FIELDS = {
    ("id",): JSON_VALUES,
    ("at",): JSON_VALUES
    | st.datetimes(
        timezones=st.builds(timezone, st.timedeltas(timedelta(hours=-23), timedelta(hours=23)))
    ).map(datetime.isoformat),
    ("channel",): JSON_VALUES,
    ("author",): JSON_VALUES,
    ("author", "id"): JSON_VALUES,
    ("author", "email"): JSON_VALUES,
    ("author", "handle"): JSON_VALUES,
    ("author", "name"): JSON_VALUES,
    ("author", "followers"): JSON_VALUES,
    ("text",): JSON_VALUES,
    ("subject",): JSON_VALUES,
    ("html",): JSON_VALUES,
    ("reply_to",): JSON_VALUES,
    ("attachments",): JSON_VALUES,
    ("attachments", 0): JSON_VALUES,
    ("attachments", 0, "filename"): JSON_VALUES,
    ("attachments", 0, "content_type"): JSON_VALUES,
    ("attachments", 0, "size"): st.integers(-3, 4096) | st.just(2**70) | st.floats(),
}
MISSING = object()


@st.composite
def broken_events(draw, *, event_id: str = "b1") -> bytes:
    """A valid event with one field removed or replaced by any JSON value."""
    event = draw(events(event_id=event_id, minute=0, earlier=[]))
    path, values = draw(st.sampled_from(list(FIELDS.items())))
    if path[0] == "attachments":
        event["attachments"] = [{"filename": "a.txt", "content_type": "text/plain", "size": 3}]
    parent = event
    for key in path[:-1]:
        if not isinstance(parent[key], dict | list):
            break
        parent = parent[key]
    else:
        value = draw(st.just(MISSING) | values)
        if value is MISSING and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif value is not MISSING:
            parent[path[-1]] = value
    return json.dumps(event).encode()


def broken(**fields: Any) -> bytes:
    event = {
        "id": "b1",
        "at": "2026-11-02T09:00:00+00:00",
        "channel": "x.mention",
        "author": {"id": "431221750", "handle": "neilcarver", "name": "Neil", "followers": 97},
        "text": "@acme_care HomeHub flashing orange",
    }
    return json.dumps(event | fields).encode()


HUGE_FILE = {"filename": "a.txt", "size": 2**70}


def normalises(raw: bytes) -> InboundMessage | None:
    """The normaliser's reading of ``raw``, or None when it rejects it as it should."""
    try:
        inbound = sample.normalise(raw)
    except (MalformedPayload, UnsupportedEvent):
        return None
    assert isinstance(inbound, InboundMessage)
    return inbound


@PROPERTY
@given(raw=GARBAGE)
def test_the_normaliser_reads_any_bytes_or_rejects_them_as_malformed(raw):
    normalises(raw)


@PROPERTY
@example(raw=broken(author={"id": "431221750", "handle": 97}))
@example(raw=broken(author={"id": "431221750", "name": ["Neil"]}))
@example(raw=broken(author={"id": "431221750", "followers": "97"}))
@example(raw=broken(subject=5))
@example(raw=broken(html={"p": "Hello"}))
@example(raw=broken(channel="email", author={"email": "a@b.example"}, attachments=5))
@example(raw=broken(text="\ud83d"))
@example(raw=broken(channel="email", author={"email": "a@b.example"}, attachments=[HUGE_FILE]))
@example(raw=b"1" * 5000)
@given(raw=GARBAGE | broken_events())
def test_the_normaliser_rejects_a_broken_event_as_malformed(raw):
    normalises(raw)


@PROPERTY
@given(data=st.data(), garbage=st.lists(GARBAGE, min_size=1, max_size=4))
def test_a_batch_with_garbage_stores_every_event_and_quarantines_the_garbage(
    accounts, data, garbage
):
    valid = data.draw(batches())
    payloads = data.draw(st.permutations(valid + garbage))

    with clean_state():
        result = ingest_payloads(source="sample", payloads=payloads, accounts=accounts)
        stored = sorted(Message.objects.values_list("external_id", flat=True))
        kept = {bytes(p) for p in QuarantinedPayload.objects.values_list("raw_payload", flat=True)}

    assert result.stored + result.duplicates + len(result.quarantined) == len(payloads)
    assert result.stored == len(event_ids(valid))
    assert stored == sorted(event_ids(valid))
    assert len(result.quarantined) == len(garbage)
    assert kept == set(garbage)


@PROPERTY
@example(broken_payloads=[broken(author={"id": "431221750", "handle": 97})])
@example(broken_payloads=[broken(id="b\x001")])
@example(broken_payloads=[broken(author={"id": "431221750", "followers": 2**64})])
@example(broken_payloads=[broken(at="0001-01-01T00:00:00+01:00")])
@given(
    broken_payloads=st.lists(
        st.integers(1, 99).flatmap(lambda n: broken_events(event_id=f"b{n}")),
        min_size=1,
        max_size=4,
    )
)
def test_a_batch_with_broken_events_loses_none_of_them(accounts, broken_payloads):
    valid = [broken(id="valid1"), broken(id="valid2", channel="x.dm")]
    payloads = valid + broken_payloads

    with clean_state():
        result = ingest_payloads(source="sample", payloads=payloads, accounts=accounts)
        exported = list(export_cases())
        kept = {bytes(p) for p in QuarantinedPayload.objects.values_list("raw_payload", flat=True)}

    stored = {m["external_id"] for row in exported for m in row["messages"]}

    assert result.stored + result.duplicates + len(result.quarantined) == len(payloads)
    assert {"valid1", "valid2"} <= stored
    for raw in broken_payloads:
        inbound = normalises(raw)
        assert raw in kept or (inbound is not None and inbound.external_id in stored)
