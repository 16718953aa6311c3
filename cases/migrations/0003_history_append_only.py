"""The case history is append-only in PostgreSQL too: a trigger refuses to change or delete an
event, whatever the code or person sending the statement (``CaseEvent.save`` and ``delete``
already refuse in Python). Not on the embedded SQLite default, which empties tables with
DELETE (a test database between tests, ``manage.py flush``) where PostgreSQL truncates."""

from django.db import migrations

MESSAGE = "case history is append-only: events are never changed or deleted"

POSTGRESQL = f"""
CREATE FUNCTION careinbox_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% of event %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER caseevent_append_only BEFORE UPDATE OR DELETE ON tickets_caseevent
    FOR EACH ROW EXECUTE FUNCTION careinbox_refuse_history_change();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER caseevent_append_only ON tickets_caseevent;
DROP FUNCTION careinbox_refuse_history_change();
"""
def create(apps, schema_editor):
    _run(schema_editor, POSTGRESQL)


def drop(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_REVERSE)


def _run(schema_editor, statement):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(statement, params=None)  # "%" in PL/pgSQL is not a parameter


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
