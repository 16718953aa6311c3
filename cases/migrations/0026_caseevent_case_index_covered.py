"""The history's case column loses its own index: ``caseevent_case_occurred_at`` opens with it
and serves every read by case, and each index is one more write for every event recorded."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0025_case_soonest_due"),
    ]

    operations = [
        migrations.AlterField(
            model_name="caseevent",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="cases.case",
            ),
        ),
    ]
