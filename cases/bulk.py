"""Writing many rows at once. On PostgreSQL each helper builds one plain statement a chunk,
which is far cheaper to build than Django's ``bulk_create`` and ``bulk_update`` (ingest spent
most of its time compiling those); elsewhere it uses them."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    TextField,
)

# PostgreSQL takes at most 65,535 parameters a statement.
PARAMETERS = 30_000


def insert_rows(
    model: type[Model], rows: Sequence[Model], *, ignore_conflicts: bool = False
) -> None:
    """Insert ``rows`` in their order and give each its id, as ``bulk_create`` does. With
    ``ignore_conflicts`` a row that would break a unique constraint is left out, and no row
    gets its id (as with ``bulk_create``'s)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(rows, ignore_conflicts=ignore_conflicts)
        return
    meta = model._meta
    # The connection itself: each attribute read through django.db.connection costs a
    # context-local lookup, and preparing a row's values makes several per column.
    db = connections[DEFAULT_DB_ALIAS]
    fields = [cast(Field, f) for f in meta.concrete_fields if not (f.primary_key or f.generated)]
    relations = [f for f in fields if f.is_relation]
    values = _Values(fields, db, adding=True)
    columns = ", ".join(db.ops.quote_name(str(f.column)) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table, pk = db.ops.quote_name(meta.db_table), meta.pk
    per_chunk = PARAMETERS // len(fields)
    with db.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            for row in chunk:
                _point_at_saved_rows(row, relations)
            insert = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))}"
            if ignore_conflicts:
                cursor.execute(f"{insert} ON CONFLICT DO NOTHING", values.of(chunk))
                continue
            cursor.execute(
                f"{insert} RETURNING {db.ops.quote_name(str(pk.column))}", values.of(chunk)
            )
            for row, (pk_value,) in zip(chunk, cursor.fetchall(), strict=True):
                row.pk = pk_value
                row._state.adding, row._state.db = False, db.alias


# The Python types a column of each kind takes as they are: the field's own conversion would
# return them unchanged, at a few microseconds each. Text choices are str subclasses, and go as
# text; an integer column takes exactly int (True is an int too, but no integer column's value).
_PASSED_AS_THEY_ARE: list[tuple[type[Field], type]] = [
    (CharField, str),
    (TextField, str),
    (BooleanField, bool),
    (IntegerField, int),  # the auto fields too
]


class _Values:
    """How rows' values of ``fields`` become statement parameters: text, integers, booleans
    and aware datetimes (which PostgreSQL's driver takes as they are) go as they are; anything
    else goes through the field. For an INSERT (``adding``) the values set on save
    (``auto_now``) are set first, as ``bulk_create`` does; ``bulk_update`` does not."""

    def __init__(self, fields: Sequence[Field], db: BaseDatabaseWrapper, *, adding: bool) -> None:
        self.db = db
        self.columns = [
            (f.attname, self._passed(f), f, adding and type(f).pre_save is not Field.pre_save)
            for f in fields
        ]

    @staticmethod
    def _passed(field: Field) -> type | None:
        target = field.target_field if isinstance(field, ForeignKey) else field
        if isinstance(target, DateTimeField):
            return datetime
        return next((kind for base, kind in _PASSED_AS_THEY_ARE if isinstance(target, base)), None)

    def of(self, rows: Sequence[Model]) -> list[Any]:
        """The parameters of ``rows``, row by row, column by column."""
        params: list[Any] = []
        add, db = params.append, self.db
        for row in rows:
            # The instance's own attributes: reading them through the fields' descriptors
            # costs a call each.
            attributes = row.__dict__
            for attname, passed, field, set_on_save in self.columns:
                if set_on_save:
                    add(field.get_db_prep_save(field.pre_save(row, True), db))
                    continue
                value: Any = (
                    attributes[attname] if attname in attributes else getattr(row, attname)
                )
                as_they_are = (
                    value is None
                    or (type(value) is passed and passed is not datetime)
                    or (type(value) is datetime and passed is datetime and value.tzinfo)
                    or (passed is str and isinstance(value, str))  # text choices
                )
                add(value if as_they_are else field.get_db_prep_save(value, db))
        return params


def _point_at_saved_rows(row: Model, relations: list[Field]) -> None:
    """Set the foreign keys of ``row`` whose related rows were saved after they were set (a
    new case, then its messages), keeping the related rows it holds, as Django does; a related
    row still unsaved is an error, as in Django."""
    for relation in relations:
        if getattr(row, relation.attname) is not None or not relation.is_cached(row):  # type: ignore[attr-defined]
            continue
        related = relation.get_cached_value(row)  # type: ignore[attr-defined]
        if related is None:
            continue
        if related.pk is None:
            raise ValueError(f"{row!r} points at an unsaved {relation.name}; save it first.")
        setattr(row, relation.attname, related.pk)
        # Setting the id dropped the related row from the cache; readers of ``row`` (the
        # history's listeners) still have it in memory, without a query.
        relation.set_cached_value(row, related)  # type: ignore[attr-defined]


def update_rows(model: type[Model], rows: Sequence[Model], fields: list[str]) -> None:
    """Write ``fields`` of ``rows``, as ``bulk_update`` does."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(rows, fields)
        return
    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    columns = [cast(Field, field) for field in (meta.pk, *map(meta.get_field, fields))]
    values = _Values(columns, db, adding=False)
    quoted = [db.ops.quote_name(str(c.column)) for c in columns]
    row_sql = "(" + ", ".join(f"%s::{c.db_type(db)}" for c in columns) + ")"
    assignments = ", ".join(f"{name} = v.{name}" for name in quoted[1:])
    table = db.ops.quote_name(meta.db_table)
    per_chunk = PARAMETERS // len(columns)
    with db.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = values.of(chunk)
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} "
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v({', '.join(quoted)}) "
                f"WHERE t.{quoted[0]} = v.{quoted[0]}",
                params,
            )
