"""An index for the Mine queue and the assignee filter: an agent's few cases, in waiting
order, without walking every live case. Kept, like the inbox indexes of 0008, outside
the models, for the same reasons."""

from django.db import migrations, models
from django.db.models import Q
from django.db.models.functions import Coalesce

# tickets.queries.LIVE: what the queues show.
LIVE = Q(merged_into__isnull=True, spam=False) & ~Q(status="closed")

INDEX = models.Index(
    "assignee",
    Coalesce("last_inbound_at", "opened_at"),
    "id",
    condition=LIVE,
    name="case_inbox_assignee",
)


def add_index(apps, schema_editor):
    schema_editor.add_index(apps.get_model("tickets", "Case"), INDEX)


def remove_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("tickets", "Case"), INDEX)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0011_assignment"),
    ]

    operations = [
        migrations.RunPython(add_index, remove_index),
    ]
