"""The plain-SQL writers store exactly what Django's own bulk writers store."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.bulk import insert_rows, update_rows
from cases.models import Case, CaseEvent, Message
from customers.models import Customer, Evidence, Identity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def messages_for(case, identity, account, tag):
    """Messages and events with every kind of value the writers meet: text choices, text,
    booleans, aware datetimes in two zones, None, foreign keys set by object, JSON."""
    return [
        Message(
            case=case,
            direction=Message.Direction.INBOUND,
            channel_account=account,
            channel="x.mention",
            external_id=f"{tag}-{n}",
            author_identity=identity if n % 2 else None,
            text=f"Text {n} with 'quotes' and ünïcode",
            automated="auto-reply" if n % 2 else "",
            needs_reply=bool(n % 2),
            sent_at=(AT + timedelta(minutes=n)).astimezone(ZoneInfo("Europe/London")),
            raw_payload=b"{}",
        )
        for n in range(3)
    ]


def comparable(queryset, exclude=("id", "external_id", "received_at")):
    return [{k: v for k, v in row.items() if k not in exclude} for row in queryset.values()]


def test_insert_rows_stores_what_bulk_create_stores(accounts):
    customer = Customer.objects.create(display_name="Neil")
    identity = Identity.objects.create(
        customer=customer, platform="x", external_id="42", display_name="Neil", last_seen_at=AT
    )
    case = Case.objects.create(customer=customer, opened_at=AT)

    mine = messages_for(case, identity, accounts["x"], "plain")
    insert_rows(Message, mine)
    theirs = messages_for(case, identity, accounts["x"], "django")
    Message.objects.bulk_create(theirs)

    assert all(m.pk for m in mine)
    assert comparable(Message.objects.filter(external_id__startswith="plain").order_by("pk")) == (
        comparable(Message.objects.filter(external_id__startswith="django").order_by("pk"))
    )
    events = [
        CaseEvent(
            case=case,
            kind=CaseEvent.Kind.MESSAGE_RECEIVED,
            occurred_at=AT,
            message=m,
            data={"n": n, "why": None, "nested": ["a", 1.5]},
        )
        for n, m in enumerate(mine)
    ]
    insert_rows(CaseEvent, events)
    stored = CaseEvent.objects.order_by("pk")
    assert [(e.message_id, e.data, e.occurred_at) for e in stored] == [
        (m.pk, {"n": n, "why": None, "nested": ["a", 1.5]}, AT) for n, m in enumerate(mine)
    ]
    assert all(e.recorded_at is not None for e in stored)  # set on save, as Django does


def test_rows_pointing_at_rows_of_the_same_insert_go_in_whole_with_their_links(accounts):
    customer = Customer.objects.create(display_name="Neil")
    case = Case.objects.create(customer=customer, opened_at=AT)
    stored, first, reply = messages_for(case, None, accounts["x"], "t")
    reply_to_reply = messages_for(case, None, accounts["x"], "u")[0]
    insert_rows(Message, [stored])
    # Each answers the one before; the first answers a message stored before.
    first.parent, reply.parent, reply_to_reply.parent = stored, first, reply

    with CaptureQueriesContext(connection) as run:
        insert_rows(Message, [first, reply, reply_to_reply], linked_by="parent")

    found = dict(Message.objects.values_list("external_id", "parent__external_id"))
    assert found == {"t-0": None, "t-1": "t-0", "t-2": "t-1", "u-0": "t-2"}
    assert stored.pk < first.pk < reply.pk < reply_to_reply.pk  # in the order given
    assert [q["sql"].split()[0] for q in run] == ["SELECT", "INSERT"]  # no row written twice


def test_rows_left_out_on_conflict_cannot_be_linked_to(accounts):
    with pytest.raises(ValueError, match="linked_by"):
        insert_rows(Message, [Message()], ignore_conflicts=True, linked_by="parent")


def test_insert_rows_leaves_out_rows_already_stored_when_told(accounts):
    customer = Customer.objects.create(display_name="Neil")
    identity = Identity.objects.create(
        customer=customer, platform="x", external_id="42", display_name="Neil", last_seen_at=AT
    )
    case = Case.objects.create(customer=customer, opened_at=AT)
    (message,) = messages_for(case, identity, accounts["x"], "evidence")[:1]
    insert_rows(Message, [message])

    def evidence(*values):
        return [Evidence(message=message, identity=identity, kind="name", value=v) for v in values]

    insert_rows(Evidence, evidence("neil"), ignore_conflicts=True)
    insert_rows(Evidence, evidence("neil", "neil carver"), ignore_conflicts=True)

    stored = Evidence.objects.filter(message=message).order_by("pk")
    assert list(stored.values_list("value", flat=True)) == ["neil", "neil carver"]
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Evidence, evidence("neil"))


def test_update_rows_writes_the_fields_named(accounts):
    cases = [
        Case.objects.create(customer=Customer.objects.create(display_name=name), opened_at=AT)
        for name in ("Ann", "Bo", "Cy")
    ]
    for n, case in enumerate(cases):
        case.status = Case.Status.OPEN if n else Case.Status.PENDING
        case.first_response_due_at = AT + timedelta(hours=n)

    update_rows(Case, cases, ["status", "first_response_due_at"])

    assert list(Case.objects.order_by("pk").values_list("status", "first_response_due_at")) == [
        (Case.Status.PENDING, AT),
        (Case.Status.OPEN, AT + timedelta(hours=1)),
        (Case.Status.OPEN, AT + timedelta(hours=2)),
    ]


# Any text PostgreSQL holds: every character but NUL (and the lone surrogates no encoding
# carries). The writers send most columns as array literals, whose quoting these try.
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
HOSTILE = st.sampled_from(["", "NULL", "null", " a ", "{}", '"', "\\", '\\"', "a,b", "'", "\n"])
ZONES = st.sampled_from([UTC, ZoneInfo("Europe/London"), ZoneInfo("America/St_Johns")])
ROWS = st.lists(
    st.tuples(
        st.one_of(HOSTILE, TEXT),
        st.one_of(st.none(), HOSTILE, TEXT),
        st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=ZONES
        ),
        st.booleans(),
        st.integers(0, 2**31 - 1),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=ROWS, later=ROWS)
def test_the_writers_store_any_text_time_flag_number_and_json_exactly(accounts, rows, later):
    with transaction.atomic():
        case = Case.objects.create(
            customer=Customer.objects.create(display_name="Neil"), opened_at=AT
        )
        messages = [
            Message(
                case=case,
                direction=Message.Direction.INBOUND,
                channel_account=accounts["x"],
                text=text,
                text_words=words,
                sent_at=sent_at,
                needs_reply=needs_reply,
                delivery_attempts=number,
            )
            for text, words, sent_at, needs_reply, number in rows
        ]
        insert_rows(Message, messages)
        events = [
            CaseEvent(case=case, kind="note", occurred_at=sent_at, data={text: [words, number]})
            for text, words, sent_at, _, number in rows
        ]
        insert_rows(CaseEvent, events)

        def stored():
            return [
                (m.text, m.text_words, m.sent_at.timestamp(), m.needs_reply, m.delivery_attempts)
                for m in Message.objects.filter(case=case).order_by("pk")
            ]

        def as_given(rows):
            # A time in a zone's repeated hour never equals one in another zone: compare them
            # as instants.
            return [(t, w, at.timestamp(), r, n) for t, w, at, r, n in rows]

        assert stored() == as_given(rows)
        assert [e.data for e in CaseEvent.objects.filter(case=case).order_by("pk")] == [
            {text: [words, number]} for text, words, _, _, number in rows
        ]

        for message, (text, words, sent_at, needs_reply, number) in zip(
            messages, later, strict=False
        ):
            message.text, message.text_words, message.sent_at = text, words, sent_at
            message.needs_reply, message.delivery_attempts = needs_reply, number
        update_rows(
            Message,
            messages,
            ["text", "text_words", "sent_at", "needs_reply", "delivery_attempts"],
        )
        changed = later[: len(rows)] + rows[len(later) :]
        assert stored() == as_given(changed)
        transaction.set_rollback(True)


def test_any_finds_what_in_finds_with_one_parameter(accounts):
    customers = [Customer.objects.create(display_name=name) for name in ("Ann", "Bo", "Cy")]
    cases = [Case.objects.create(customer=c, opened_at=AT) for c in customers]
    ids = [e for e in ("plain", 'quo"te', "back\\slash", "{brace}", "NULL", "") if e]
    messages = [
        Message.objects.create(
            case=cases[n % 3],
            direction=Message.Direction.INBOUND,
            channel_account=accounts["x"],
            external_id=external_id,
            sent_at=AT,
        )
        for n, external_id in enumerate(ids)
    ]

    for field, values in [
        ("pk", [messages[0].pk, messages[2].pk, messages[2].pk, None, -1]),
        ("case", [cases[0].pk, cases[2].pk, cases[2].pk, None, -1]),  # a foreign key
        ("external_id", [*ids[1:], "none of these", None]),
    ]:
        found = Message.objects.filter(**{f"{field}__any": values}).order_by("pk")
        assert list(found) == list(
            Message.objects.filter(**{f"{field}__in": values}).order_by("pk")
        )
        assert found.exists()
        sql, params = found.query.sql_with_params()
        assert len(params) == 1, sql  # the values go as one array, however many
    assert not Message.objects.filter(pk__any=[]).exists()
    assert not Message.objects.filter(pk__any=[None]).exists()
