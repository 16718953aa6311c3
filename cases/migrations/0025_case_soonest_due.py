"""Each case's soonest due time, kept by the database (a stored generated column), and the
index "SLA at risk" counts from.

SQLite cannot add a stored generated column to a table: Django builds the table again, which
drops its triggers (the kept queue counts', the roll-ups' copy of the case row); they are
read first and created again after."""

import datetime
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


def _triggers(schema_editor, table: str) -> list[str]:
    if schema_editor.connection.vendor != "sqlite":
        return []
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
        )
        return [sql for (sql,) in cursor.fetchall()]


class AddFieldKeepingTriggers(migrations.AddField):
    """``AddField``, with the table's SQLite triggers created again if building the table
    again dropped them, both ways."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._keeping_triggers(
            schema_editor,
            from_state,
            super().database_forwards,
            app_label,
            schema_editor,
            from_state,
            to_state,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._keeping_triggers(
            schema_editor,
            from_state,
            super().database_backwards,
            app_label,
            schema_editor,
            from_state,
            to_state,
        )

    def _keeping_triggers(self, schema_editor, state, operation, *args):
        table = state.apps.get_model("cases", self.model_name)._meta.db_table
        kept = _triggers(schema_editor, table)
        operation(*args)
        for sql in set(kept) - set(_triggers(schema_editor, table)):
            schema_editor.execute(sql, params=None)


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
