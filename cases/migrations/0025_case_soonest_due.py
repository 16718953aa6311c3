"""Each case's soonest due time, kept by the database (a stored generated column), and the
index "SLA at risk" counts from. SQLite builds the table again to add the column: its
triggers are kept (``cases.migration_operations``)."""

import datetime
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

from cases.migration_operations import AddFieldKeepingTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0024_rollup_case_copy"),
        ("customers", "0003_created_at_first_message"),
        ("sla", "0001_initial"),
        ("staff", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddFieldKeepingTriggers(
            model_name="case",
            name="soonest_due_at",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.NullIf(
                    django.db.models.functions.comparison.Least(
                        django.db.models.functions.comparison.Coalesce(
                            "first_response_due_at",
                            models.Value(
                                datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.timezone.utc)
                            ),
                        ),
                        django.db.models.functions.comparison.Coalesce(
                            "next_response_due_at",
                            models.Value(
                                datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.timezone.utc)
                            ),
                        ),
                        django.db.models.functions.comparison.Coalesce(
                            "resolution_due_at",
                            models.Value(
                                datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.timezone.utc)
                            ),
                        ),
                    ),
                    models.Value(
                        datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.timezone.utc)
                    ),
                ),
                output_field=models.DateTimeField(null=True),
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("merged_into__isnull", True),
                    ("soonest_due_at__isnull", False),
                    ("spam", False),
                    models.Q(("status", "closed"), _negated=True),
                ),
                fields=["soonest_due_at"],
                include=("team", "assignee"),
                name="case_live_soonest_due",
            ),
        ),
    ]
