"""Every case written wrote an entry in 22 indexes, and ingest writes a case for nearly every
message. Three of them were plain indexes of the due times beside the ones every query by
them reads (``case_live_*``, among the live cases); one was the index of the case a case was
merged into, empty on nearly every row, which now indexes only the rows that have it. On
SQLite the table's triggers are kept (``cases.migration_operations``)."""

import django.db.models.deletion
from django.db import migrations, models

from cases.migration_operations import AlterFieldKeepingTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0027_message_history_partial_indexes"),
    ]

    operations = [
        *(
            AlterFieldKeepingTriggers(
                model_name="case",
                name=due,
                field=models.DateTimeField(blank=True, null=True),
            )
            for due in ("first_response_due_at", "next_response_due_at", "resolution_due_at")
        ),
        AlterFieldKeepingTriggers(
            model_name="case",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_from",
                to="cases.case",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="case_merged_into",
            ),
        ),
    ]
