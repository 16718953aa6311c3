"""A customer's privacy requests: the export holds everything about them and nothing of anyone
else; the erasure leaves no trace of their words anywhere in the database, keeps every case,
message and count, and says in each case's history who erased them and when."""

import base64
import json

import pytest
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from cases.models import Case, CaseEvent, Message
from customers.models import Customer, Identity
from intake.models import QuarantinedPayload
from intake.privacy import erase_customer, export_customer
from tests.conftest import client_for
from tests.privacy import BOB_WORD, GWEN_WORDS

pytestmark = pytest.mark.django_db


def every_text_in_the_database() -> str:
    """Every text, JSON and binary value of every table, lower-cased, in one string."""
    kinds = (models.CharField, models.TextField, models.JSONField, models.BinaryField)
    found = []
    for model in apps.get_models(include_auto_created=True):
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, kinds)]
        for row in model._base_manager.values_list(*fields) if fields else []:
            for value in row:
                if isinstance(value, bytes | memoryview):
                    found.append(bytes(value).decode("latin-1"))
                elif value is not None:
                    found.append(json.dumps(value) if not isinstance(value, str) else value)
    return "\n".join(found).lower()


def test_the_export_holds_every_identity_message_attachment_and_event_and_nothing_of_others(
    gwen,
):
    record = export_customer(customer_id=gwen["live"].pk)

    assert record["customer"] == gwen["live"].pk
    assert {c["id"] for c in record["customers"]} == {gwen["live"].pk, gwen["merged"].pk}
    assert {i["handle"] for i in record["identities"]} == {"qzgwenhandle", ""}
    assert {i["external_id"] for i in record["identities"]} == {
        "98765432101",
        "qzgwen@mail.example",
    }
    case_ids = set(Case.objects.filter(customer=gwen["live"]).values_list("pk", flat=True))
    assert {m["id"] for m in record["messages"]} == set(
        Message.objects.filter(case__in=case_ids).values_list("pk", flat=True)
    )
    tweet = next(m for m in record["messages"] if m["id"] == gwen["messages"][0].pk)
    assert base64.b64decode(tweet["raw_payload"]) == b'{"qzrawword": 1}'
    [attachment] = record["attachments"]
    assert attachment["filename"] == "qzpassport.png"
    assert base64.b64decode(attachment["content"]) == b"qzfilebytes"
    assert {e["id"] for e in record["events"]} == set(
        CaseEvent.objects.filter(case__in=case_ids).values_list("pk", flat=True)
    )
    [payload] = record["quarantined_payloads"]
    assert base64.b64decode(payload["raw_payload"]) == b'{"user": "QZGWENHANDLE"}'
    whole = json.dumps(record, cls=DjangoJSONEncoder).lower()
    in_bytes = {"qzrawword", "qzfilebytes"}  # base64 in the export
    assert {word for word in GWEN_WORDS if word not in whole} == in_bytes
    assert BOB_WORD not in whole and "bobkeep" not in whole


def test_the_erasure_leaves_no_trace_of_the_customer_anywhere_in_the_database(gwen, admin_user):
    assert all(word in every_text_in_the_database() for word in GWEN_WORDS)

    erase_customer(customer_id=gwen["merged"].pk, by=admin_user)

    left = every_text_in_the_database()
    assert [word for word in GWEN_WORDS if word in left] == []
    assert BOB_WORD in left and "bobkeep" in left


def test_the_erasure_keeps_cases_messages_and_counts_and_records_who_and_when(
    gwen, admin_user, clock
):
    cases = list(Case.objects.filter(customer=gwen["live"]).order_by("pk"))
    counts = (Case.objects.count(), Message.objects.count(), CaseEvent.objects.count())

    erasure = erase_customer(customer_id=gwen["live"].pk, by=admin_user)

    assert erasure.customer_id == gwen["live"].pk
    assert (erasure.cases, erasure.attachments, erasure.quarantined) == (len(cases), 1, 1)
    assert (Case.objects.count(), Message.objects.count()) == counts[:2]
    assert CaseEvent.objects.count() == counts[2] + len(cases)
    erased = CaseEvent.objects.filter(kind=CaseEvent.Kind.ERASED).order_by("case")
    assert [(e.case_id, e.actor, e.occurred_at, e.data) for e in erased] == [
        (case.pk, admin_user, clock.at, {"customer": gwen["live"].pk}) for case in cases
    ]
    assert Customer.objects.get(pk=gwen["live"].pk).display_name == "[erased]"
    assert Identity.objects.filter(customer=gwen["live"], handle="").count() == 2
    assert QuarantinedPayload.objects.filter(status="discarded").count() == 1


def test_searching_a_word_of_an_erased_message_finds_nothing(gwen, admin_user):
    admin = client_for(admin_user)
    nothing = "No cases match your search."
    for word in ["qzkettleword", "qzgwenhandle"]:
        assert nothing not in admin.get("/", {"queue": "all", "q": word}).content.decode()

    erase_customer(customer_id=gwen["live"].pk, by=admin_user)

    for word in ["qzkettleword", "qzgwenhandle"]:
        assert nothing in admin.get("/", {"queue": "all", "q": word}).content.decode()
    assert nothing not in admin.get("/", {"queue": "all", "q": BOB_WORD}).content.decode()
