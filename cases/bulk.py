"""Writing many rows at once. On PostgreSQL each helper builds one plain statement a chunk,
which is far cheaper to build than Django's ``bulk_create`` and ``bulk_update`` (ingest spent
most of its time compiling those); elsewhere it uses them."""

from collections.abc import Callable, Sequence
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
    fields = [cast(Field, f) for f in meta.concrete_fields if not f.primary_key]
    relations = [f for f in fields if f.is_relation]
    values = [_parameter(f, db) for f in fields]
    columns = ", ".join(db.ops.quote_name(str(f.column)) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table, pk = db.ops.quote_name(meta.db_table), meta.pk
    per_chunk = PARAMETERS // len(fields)
    with db.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = []
            for row in chunk:
                _point_at_saved_rows(row, relations)
                params += [value(row) for value in values]
            insert = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))}"
            if ignore_conflicts:
                cursor.execute(f"{insert} ON CONFLICT DO NOTHING", params)
                continue
            cursor.execute(f"{insert} RETURNING {db.ops.quote_name(str(pk.column))}", params)
            for row, (pk_value,) in zip(chunk, cursor.fetchall(), strict=True):
                row.pk = pk_value
                row._state.adding, row._state.db = False, db.alias


def _parameter(field: Field, db: BaseDatabaseWrapper) -> Callable[[Model], Any]:
    """How a row's value of ``field`` becomes a statement parameter. Text, integers,
    booleans and aware datetimes already of their Python type go as they are (the field's
    own conversion would return them unchanged, at a few microseconds each); anything
    else, including values set on save (``auto_now``), goes through the field as
    ``bulk_create`` does."""
    target = field.target_field if isinstance(field, ForeignKey) else field
    ready: Callable[[Any], bool]
    if isinstance(target, CharField | TextField):
        ready = _is_text  # text choices are str subclasses, and go as text
    elif isinstance(target, BooleanField):
        ready = _is_bool
    elif isinstance(target, IntegerField):  # the auto fields too
        ready = _is_int  # exactly: True is an int, but no integer column's value
    elif isinstance(target, DateTimeField):
        ready = _is_aware_datetime  # PostgreSQL's driver takes them as they are
    else:
        ready = _never
    attname = field.attname
    set_on_save = type(field).pre_save is not Field.pre_save

    def value(row: Model) -> Any:
        if set_on_save:
            return field.get_db_prep_save(field.pre_save(row, True), db)
        raw = getattr(row, attname)
        return raw if raw is None or ready(raw) else field.get_db_prep_save(raw, db)

    return value


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_aware_datetime(value: Any) -> bool:
    return type(value) is datetime and value.tzinfo is not None


def _never(value: Any) -> bool:
    return False


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
    columns = [cast(Field, field) for field in (meta.pk, *map(meta.get_field, fields))]
    quoted = [connection.ops.quote_name(str(c.column)) for c in columns]
    row_sql = "(" + ", ".join(f"%s::{c.db_type(connection)}" for c in columns) + ")"
    assignments = ", ".join(f"{name} = v.{name}" for name in quoted[1:])
    table = connection.ops.quote_name(meta.db_table)
    per_chunk = PARAMETERS // len(columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = [
                c.get_db_prep_save(getattr(row, c.attname), connection)
                for row in chunk
                for c in columns
            ]
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} "
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v({', '.join(quoted)}) "
                f"WHERE t.{quoted[0]} = v.{quoted[0]}",
                params,
            )
