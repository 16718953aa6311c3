"""Field operations for tables with SQLite triggers (the case table's: the kept queue counts',
the roll-ups' copy of the case row). SQLite cannot add a stored generated column to a table
nor change a column's index without Django building the table again, which drops its
triggers: these operations read them first and create them again after, both ways."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import migrations


def _triggers(schema_editor, table: str) -> list[str]:
    if schema_editor.connection.vendor != "sqlite":
        return []
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
        )
        return [sql for (sql,) in cursor.fetchall()]


@contextmanager
def _triggers_kept(schema_editor, table: str) -> Iterator[None]:
    kept = _triggers(schema_editor, table)
    yield
    for sql in set(kept) - set(_triggers(schema_editor, table)):
        schema_editor.execute(sql, params=None)


class _KeepingTriggers:
    model_name: str

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        with _triggers_kept(schema_editor, self._table(app_label, from_state)):
            super().database_forwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        with _triggers_kept(schema_editor, self._table(app_label, from_state)):
            super().database_backwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table


class AddFieldKeepingTriggers(_KeepingTriggers, migrations.AddField):
    """``AddField``, keeping the table's SQLite triggers."""


class AlterFieldKeepingTriggers(_KeepingTriggers, migrations.AlterField):
    """``AlterField``, keeping the table's SQLite triggers."""
