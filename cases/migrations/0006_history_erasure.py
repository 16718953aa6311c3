"""A customer's erasure is the one change the history allows: the ``erased`` event kind, and
on PostgreSQL the append-only trigger (``0003_history_append_only``) lets an UPDATE through
only while the erase has set ``careinbox.erasing`` to ``on`` in its own transaction
(``cases.history.erase_typed_text``), and then only of an event's ``data``. DELETE is still
refused, from anyone."""

from django.db import migrations, models

MESSAGE = "case history is append-only: events are never changed or deleted"

# The same function, with the erase's exception first.
POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION careinbox_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND current_setting('careinbox.erasing', true) = 'on'
        AND (NEW.id, NEW.case_id, NEW.kind, NEW.occurred_at, NEW.recorded_at)
            = (OLD.id, OLD.case_id, OLD.kind, OLD.occurred_at, OLD.recorded_at)
        AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
        AND NEW.message_id IS NOT DISTINCT FROM OLD.message_id
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE} (% of event %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""
POSTGRESQL_REVERSE = f"""
CREATE OR REPLACE FUNCTION careinbox_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% of event %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""


def allow_erasure(apps, schema_editor):
    _run(schema_editor, POSTGRESQL)


def refuse_erasure(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_REVERSE)


def _run(schema_editor, statement):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(statement, params=None)  # "%" in PL/pgSQL is not a parameter


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_sla_due_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='caseevent',
            name='kind',
            field=models.CharField(choices=[('created', 'Case created'), ('message_received', 'Message received'), ('reply_sent', 'Reply sent'), ('note_added', 'Note added'), ('claimed', 'Claimed'), ('released', 'Released'), ('handed_off', 'Handed off'), ('reassigned', 'Reassigned'), ('status_changed', 'Status changed'), ('priority_changed', 'Priority changed'), ('tags_changed', 'Tags changed'), ('customers_merged', 'Customers merged'), ('sla_breached', 'SLA breached'), ('marked_spam', 'Marked as spam'), ('unmarked_spam', 'Marked as not spam'), ('routed', 'Routed by rules'), ('auto_assigned', 'Assigned automatically'), ('erased', 'Customer erased')], max_length=32),
        ),
        migrations.RunPython(allow_erasure, refuse_erasure),
    ]
