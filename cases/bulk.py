"""Writing many rows at once. On PostgreSQL each helper builds one plain statement a chunk,
which is far cheaper to build than Django's ``bulk_create`` and ``bulk_update`` (ingest spent
most of its time compiling those); elsewhere it uses them."""

from collections.abc import Sequence
from typing import cast

from django.db import connection
from django.db.models import Field, Model

# PostgreSQL takes at most 65,535 parameters a statement.
PARAMETERS = 30_000


def insert_rows(model: type[Model], rows: Sequence[Model]) -> None:
    """Insert ``rows`` in their order and give each its id, as ``bulk_create`` does."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(rows)
        return
    meta = model._meta
    fields = [cast(Field, f) for f in meta.concrete_fields if not f.primary_key]
    relations = [f for f in fields if f.is_relation]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table, pk = connection.ops.quote_name(meta.db_table), meta.pk
    per_chunk = PARAMETERS // len(fields)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = []
            for row in chunk:
                _point_at_saved_rows(row, relations)
                params += [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
                f"RETURNING {connection.ops.quote_name(str(pk.column))}",
                params,
            )
            for row, (pk_value,) in zip(chunk, cursor.fetchall(), strict=True):
                row.pk = pk_value
                row._state.adding, row._state.db = False, connection.alias


def _point_at_saved_rows(row: Model, relations: list[Field]) -> None:
    """Set the foreign keys of ``row`` whose related rows were saved after they were set (a
    new case, then its messages); a related row still unsaved is an error, as in Django."""
    for relation in relations:
        if getattr(row, relation.attname) is not None or not relation.is_cached(row):  # type: ignore[attr-defined]
            continue
        related = relation.get_cached_value(row)  # type: ignore[attr-defined]
        if related is None:
            continue
        if related.pk is None:
            raise ValueError(f"{row!r} points at an unsaved {relation.name}; save it first.")
        setattr(row, relation.attname, related.pk)


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
