"""Queue counts kept in step with the cases by triggers (``cases.models.CaseCount``)."""


from django.db import migrations, models

# A counted case: one not merged into another. Its key: what the inbox's queues select on.
KEY = "spam, status, COALESCE(team_id, 0), COALESCE(assignee_id, 0)"
COLUMNS = "spam, status, team_key, assignee_key, delta"

# PostgreSQL: one trigger a statement, over the rows it changed (transition tables), adding
# one row per combination whose count moved.
POSTGRESQL = [
    f"""
CREATE FUNCTION careinbox_count_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tickets_casecount ({COLUMNS})
        SELECT {KEY}, count(*) FROM new_cases WHERE merged_into_id IS NULL GROUP BY 1, 2, 3, 4;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tickets_casecount ({COLUMNS})
        SELECT {KEY}, -count(*) FROM old_cases WHERE merged_into_id IS NULL GROUP BY 1, 2, 3, 4;
    ELSE
        INSERT INTO tickets_casecount ({COLUMNS})
        SELECT spam, status, team_key, assignee_key, sum(delta) FROM (
            SELECT {KEY}, -1 FROM old_cases WHERE merged_into_id IS NULL
            UNION ALL
            SELECT {KEY}, 1 FROM new_cases WHERE merged_into_id IS NULL
        ) AS moved (spam, status, team_key, assignee_key, delta)
        GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0;
    END IF;
    RETURN NULL;
END
$$""",
    *(
        f"""CREATE TRIGGER case_counts_{op.lower()} AFTER {op} ON tickets_case
    REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION careinbox_count_cases()"""
        for op, tables in (
            ("INSERT", "NEW TABLE AS new_cases"),
            ("UPDATE", "OLD TABLE AS old_cases NEW TABLE AS new_cases"),
            ("DELETE", "OLD TABLE AS old_cases"),
        )
    ),
]
POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER case_counts_{op} ON tickets_case" for op in ("insert", "update", "delete")),
    "DROP FUNCTION careinbox_count_cases()",
]


def _row(prefix: str, sign: str) -> str:
    return (
        f"INSERT INTO tickets_casecount ({COLUMNS}) SELECT {prefix}.spam, {prefix}.status, "
        f"COALESCE({prefix}.team_id, 0), COALESCE({prefix}.assignee_id, 0), {sign}1 "
        f"WHERE {prefix}.merged_into_id IS NULL;"
    )


# SQLite: one trigger a row. None for DELETE: no case is ever deleted (their messages and
# history protect them), and SQLite empties tables with DELETE (a test database between
# tests, manage.py flush), which would leave counts behind for cases that no longer exist.
SQLITE = [
    f"CREATE TRIGGER case_counts_insert AFTER INSERT ON tickets_case BEGIN {_row('NEW', '')} END",
    f"CREATE TRIGGER case_counts_update AFTER UPDATE ON tickets_case "
    f"BEGIN {_row('OLD', '-')} {_row('NEW', '')} END",
]
SQLITE_REVERSE = [f"DROP TRIGGER case_counts_{op}" for op in ("insert", "update")]

BACKFILL = f"""INSERT INTO tickets_casecount ({COLUMNS})
    SELECT {KEY}, count(*) FROM tickets_case WHERE merged_into_id IS NULL GROUP BY 1, 2, 3, 4"""


def create_triggers(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in [*(POSTGRESQL if postgresql else SQLITE), BACKFILL]:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_REVERSE if postgresql else SQLITE_REVERSE:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_history_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('spam', models.BooleanField()),
                ('status', models.CharField(max_length=16)),
                ('team_key', models.BigIntegerField()),
                ('assignee_key', models.BigIntegerField()),
                ('delta', models.BigIntegerField()),
            ],
            options={
                'db_table': 'tickets_casecount',
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
