"""Each roll-up keeps a copy of its case row's team, priority and own policy, so that response
times and service levels read a range from the roll-ups' index alone, without joining every
case row (``CaseRollup.team``). Filled from the case rows in one statement, then kept in step
by a trigger on the case table, whichever statement changes a case."""

import django.db.models.deletion
from django.db import migrations, models

COPIED = ["team_id", "priority", "sla_policy_id"]
COPY = ", ".join(f"{column} = NEW.{column}" for column in COPIED)

FILL = f"""UPDATE tickets_caserollup
    SET {", ".join(f"{column} = c.{column}" for column in COPIED)}
    FROM tickets_case c WHERE c.id = tickets_caserollup.case_id"""

# A case without a roll-up yet (one being opened) updates none: its roll-up is written from
# the case row (``cases.rollup.refresh``). A deleted case's roll-up goes with it (CASCADE).
# Only a change of one of the copied columns fires it, so the statements that change
# anything else about a case (most of them, at ingest too) pay next to nothing.
POSTGRESQL = [
    f"""
CREATE FUNCTION careinbox_copy_case_to_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets_caserollup SET {COPY} WHERE case_id = NEW.id;
    RETURN NULL;
END
$$""",
    f"""CREATE TRIGGER case_copy_to_rollup AFTER UPDATE OF {", ".join(COPIED)} ON tickets_case
    FOR EACH ROW WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COPIED)})
    EXECUTE FUNCTION careinbox_copy_case_to_rollup()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER case_copy_to_rollup ON tickets_case",
    "DROP FUNCTION careinbox_copy_case_to_rollup()",
]

# SQLite drops a table's triggers with the table: a later migration that makes Django rebuild
# tickets_case on SQLite must create this one again (tests/cases/test_rollup.py fails if not).
SQLITE = [
    f"""CREATE TRIGGER case_copy_to_rollup AFTER UPDATE OF {", ".join(COPIED)} ON tickets_case
    FOR EACH ROW WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COPIED)}
    BEGIN UPDATE tickets_caserollup SET {COPY} WHERE case_id = NEW.id; END""",
]
SQLITE_REVERSE = ["DROP TRIGGER case_copy_to_rollup"]


def create_trigger(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        schema_editor.execute(statement, params=None)


def drop_trigger(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_REVERSE if postgresql else SQLITE_REVERSE:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0023_message_text_words'),
        ('sla', '0001_initial'),
        ('staff', '0001_initial'),
    ]

    operations = [
        # Rebuilt below with the copy included, after the fill rewrites every row.
        migrations.RemoveIndex(
            model_name='caserollup',
            name='caserollup_range',
        ),
        migrations.AddField(
            model_name='caserollup',
            name='team',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='staff.team'),
        ),
        migrations.AddField(
            model_name='caserollup',
            name='priority',
            field=models.CharField(choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], default='normal', max_length=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='caserollup',
            name='sla_policy',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sla.slapolicy'),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop, elidable=True),
        migrations.AddIndex(
            model_name='caserollup',
            index=models.Index(fields=['opened_at', 'case'], include=('first_channel', 'first_reply_at', 'first_resolved_at', 'first_response_breached', 'next_response_breached', 'resolution_breached', 'team', 'priority', 'sla_policy'), name='caserollup_range'),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
