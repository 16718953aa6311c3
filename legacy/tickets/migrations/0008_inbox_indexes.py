"""Indexes for the inbox's queues, sort orders and search.

They are created here, per database, rather than declared in the models: the search indexes
exist on PostgreSQL only (the SQLite default searches without them), and the SLA order's
index holds a constant that only PostgreSQL matches against the query's. Each expression is
the one ``tickets/queries.py`` orders or searches by; an expression index serves only a
query with the identical expression.
"""

from datetime import UTC, datetime

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce

# tickets.queries.LIVE and SPAM: what the queues show.
LIVE = Q(merged_into__isnull=True, spam=False) & ~Q(status="closed")
SPAM = Q(merged_into__isnull=True, spam=True)
# tickets.queries.FAR_FUTURE: where cases without an SLA due time sort.
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def waiting_since():
    return Coalesce("last_inbound_at", "opened_at")


def case_indexes(vendor):
    indexes = [
        # Every queue but Spam, oldest waiting first or (read backwards) newest first.
        models.Index(waiting_since(), "id", condition=LIVE, name="case_inbox_waiting"),
        models.Index(waiting_since(), "id", condition=SPAM, name="case_inbox_spam"),
    ]
    if vendor == "postgresql":
        indexes.append(
            models.Index(
                Coalesce(
                    "next_response_due_at", Value(FAR_FUTURE, output_field=models.DateTimeField())
                ),
                "id",
                condition=LIVE,
                name="case_inbox_sla_due",
            )
        )
    return indexes


def search_indexes():
    """(model name, index) of the full-text search, PostgreSQL only."""
    return [
        ("message", GinIndex(SearchVector("text", config="simple"), name="message_text_search")),
        (
            "customer",
            GinIndex(SearchVector("display_name", config="simple"), name="customer_name_search"),
        ),
        (
            "identity",
            GinIndex(
                SearchVector("handle", "display_name", "external_id", config="simple"),
                name="identity_name_search",
            ),
        ),
    ]


def all_indexes(apps, vendor):
    case = apps.get_model("tickets", "Case")
    found = [(case, index) for index in case_indexes(vendor)]
    if vendor == "postgresql":
        found += [(apps.get_model("tickets", name), index) for name, index in search_indexes()]
    return found


def add_indexes(apps, schema_editor):
    for model, index in all_indexes(apps, schema_editor.connection.vendor):
        schema_editor.add_index(model, index)


def remove_indexes(apps, schema_editor):
    for model, index in all_indexes(apps, schema_editor.connection.vendor):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_workspace"),
    ]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
