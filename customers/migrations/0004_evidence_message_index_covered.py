"""Evidence's message column loses its own index: ``evidence_unique_per_message`` opens with
it and serves every read by message, and ingest writes evidence for every message."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0026_caseevent_case_index_covered"),
        ("customers", "0003_created_at_first_message"),
    ]

    operations = [
        migrations.AlterField(
            model_name="evidence",
            name="message",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="evidence",
                to="cases.message",
            ),
        ),
    ]
