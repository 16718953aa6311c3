"""Writing many rows at once. On PostgreSQL each helper builds one plain statement whose
values come as one array per column (``UNNEST``): far cheaper to build than Django's
``bulk_create`` and ``bulk_update`` (ingest spent most of its time compiling those), and far
cheaper for PostgreSQL to plan than a ``VALUES`` list of thousands of parameters. Most
columns go as array literals (``_literal``). Elsewhere it uses Django's.

Reading by many values at once: ``field__any=values`` (``AnyOf``) is ``field__in=values``
sent as one array literal."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    DEFERRED,
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    TextField,
)
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class RowMaker[M: Model]:
    """Makes unsaved rows of ``model`` from keyword arguments, as ``model(**values)`` does,
    at about two thirds of the cost: Django makes the rows it reads from values by position,
    in column order, which skips the keyword form's checks, and so does this. A related row
    given by object is kept on the new row, as the keyword form keeps it (``insert_rows``
    reads its id once it is saved); a column not given takes its default. Ingest makes a
    message and its history events this way, hundreds of thousands in a burst."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        fields = cast(list[Field], model._meta.concrete_fields)
        self._columns = [
            (f.name, f.attname, f if f.is_relation else None, f, bool(f.generated)) for f in fields
        ]
        self._known = {f.name for f in fields} | {f.attname for f in fields}

    def __call__(self, **values: Any) -> M:
        if not self._known.issuperset(values):
            unknown = ", ".join(sorted(set(values) - self._known))
            raise TypeError(f"{self.model.__name__} has no field {unknown}.")
        args: list[Any] = []
        related: list[tuple[Field, Model]] = []
        for name, attname, relation, field, generated in self._columns:
            value: Any
            if generated:
                value = DEFERRED  # the database computes it
            elif name in values:
                value = values[name]
                if relation is not None and value is not None:
                    related.append((relation, value))
                    value = value.pk
            elif attname in values:
                value = values[attname]
            else:
                value = field.get_default()
            args.append(value)
        row = self.model(*args)
        for relation, value in related:
            relation.set_cached_value(row, value)  # type: ignore[attr-defined]
        return row


def insert_rows(
    model: type[Model],
    rows: Sequence[Model],
    *,
    ignore_conflicts: bool = False,
    linked_by: str | None = None,
) -> None:
    """Insert ``rows`` in their order and give each its id, as ``bulk_create`` does. With
    ``ignore_conflicts`` a row that would break a unique constraint is left out, and no row
    gets its id (as with ``bulk_create``'s).

    ``linked_by`` names the model's foreign key to itself, by which a row may point at
    another row of the same insert (a reply at the message it answers); not with
    ``ignore_conflicts``. On PostgreSQL the rows then take their ids from the table's
    sequence first and go in whole, with their links: a link written after the insert would
    write each such row twice, and every index of the table with it (a new key is no HOT
    update). Elsewhere the links are written after."""
    if not rows:
        return
    if linked_by and ignore_conflicts:
        raise ValueError("Rows left out could not be linked to: no linked_by with conflicts.")
    linked = _linked_within(rows, linked_by) if linked_by else {}
    if connection.vendor != "postgresql":
        if linked_by and linked:
            _insert_then_link(model, rows, linked_by, linked)
        else:
            model._default_manager.bulk_create(rows, ignore_conflicts=ignore_conflicts)
        return
    meta = model._meta
    # The connection itself: each attribute read through django.db.connection costs a
    # context-local lookup.
    db = connections[DEFAULT_DB_ALIAS]
    if linked:
        _number(model, rows, db)
    fields = [
        cast(Field, f)
        for f in meta.concrete_fields
        if not f.generated and (linked or not f.primary_key)
    ]
    relations = [f for f in fields if f.is_relation]
    for row in rows:
        _point_at_saved_rows(row, relations)
    columns = ", ".join(db.ops.quote_name(str(f.column)) for f in fields)
    insert = f"INSERT INTO {db.ops.quote_name(meta.db_table)} ({columns}) {_unnest(fields, db)}"
    params = _Values(fields, db, adding=True).of(rows)
    with db.cursor() as cursor:
        if ignore_conflicts:
            cursor.execute(f"{insert} ON CONFLICT DO NOTHING", params)
            return
        cursor.execute(f"{insert} RETURNING {db.ops.quote_name(str(meta.pk.column))}", params)
        for row, (pk_value,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk_value
            row._state.adding, row._state.db = False, db.alias


def _linked_within(rows: Sequence[Model], linked_by: str) -> dict[int, Model]:
    """The rows that point, by ``linked_by``, at an unsaved row: each row's target, by the
    row's ``id()``. (A row pointing at an unsaved row holds it: its id is not known yet.)"""
    link = cast(ForeignKey, rows[0]._meta.get_field(linked_by))
    targets = ((row, link.get_cached_value(row, None)) for row in rows)
    return {id(row): target for row, target in targets if target is not None and target.pk is None}


def _number(model: type[Model], rows: Sequence[Model], db: BaseDatabaseWrapper) -> None:
    """Give ``rows`` ids from their table's sequence, increasing in the rows' order."""
    meta = model._meta
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk


def _insert_then_link(
    model: type[Model], rows: Sequence[Model], linked_by: str, linked: dict[int, Model]
) -> None:
    """``bulk_create``, with the links between the rows (``_linked_within``) written once all
    of them are saved."""
    linking = [row for row in rows if id(row) in linked]
    for row in linking:
        setattr(row, linked_by, None)
    model._default_manager.bulk_create(rows)
    for row in linking:
        setattr(row, linked_by, linked[id(row)])
    model._default_manager.bulk_update(linking, [linked_by])


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
    quoted = [db.ops.quote_name(str(c.column)) for c in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in quoted[1:])
    with db.cursor() as cursor:
        cursor.execute(
            f"UPDATE {db.ops.quote_name(meta.db_table)} AS t SET {assignments} "
            f"FROM ({_unnest(columns, db)}) AS v({', '.join(quoted)}) "
            f"WHERE t.{quoted[0]} = v.{quoted[0]}",
            _Values(columns, db, adding=False).of(rows),
        )


def _unnest(fields: Sequence[Field], db: BaseDatabaseWrapper) -> str:
    """A query of rows made of one array parameter per field, as ``_Values.of`` gives them."""
    arrays = (f"%s::{_array_of(f, db)}" for f in fields)
    return f"SELECT * FROM UNNEST({', '.join(arrays)})"


def _array_of(field: Field, db: BaseDatabaseWrapper) -> str:
    """The type of an array of the field's values, without a length (``varchar[]``, not
    ``varchar(200)[]``)."""
    return f"{str(field.db_type(db)).split('(')[0]}[]"


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
    """How rows' values of ``fields`` become statement parameters, one per column: a column
    whose values are all text, integers, booleans or aware datetimes (which PostgreSQL reads
    as they are), or JSON, goes as an array literal; any other as a list of the values the
    field makes of them, which the driver adapts one by one. For an INSERT (``adding``) the
    values set on save (``auto_now``) are set first, as ``bulk_create`` does; ``bulk_update``
    does not."""

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

    def of(self, rows: Sequence[Model]) -> list[str | list[Any]]:
        return [self._column(rows, *column) for column in self.columns]

    def _column(
        self,
        rows: Sequence[Model],
        attname: str,
        passed: type | None,
        field: Field,
        set_on_save: bool,
    ) -> str | list[Any]:
        db = self.db
        if set_on_save:
            return [field.get_db_prep_save(field.pre_save(row, True), db) for row in rows]
        # The instances' own attributes: reading them through the fields' descriptors costs
        # a call each.
        values = [
            row.__dict__[attname] if attname in row.__dict__ else getattr(row, attname)
            for row in rows
        ]
        if passed is not None and _as_they_are(values, passed):
            return _literal(values, _ELEMENT[passed])
        prepared = [None if v is None else field.get_db_prep_save(v, db) for v in values]
        if isinstance(field, JSONField):
            # Django's JSON adapter, asked for the text it would send.
            return _literal(prepared, lambda adapter: _quoted(adapter.dumps(adapter.adapted)))
        return prepared


def _as_they_are(values: list[Any], passed: type) -> bool:
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if passed is datetime:
        return kinds <= {datetime} and all(v.tzinfo for v in values if v is not None)
    if passed is str:  # text choices too
        return all(issubclass(kind, str) for kind in kinds)
    return kinds <= {passed}


def _literal(values: list[Any], element: Callable[[Any], str]) -> str:
    """A column's values as one PostgreSQL array literal (``{"a","b",NULL}``). The server
    reads it in one pass, where a list goes through the driver's adapter for each value and
    then the server's parser as an ``ARRAY[...]`` expression of that many constants: several
    times the work for numbers, booleans and datetimes on both sides."""
    if None in values:
        return "{" + ",".join("NULL" if v is None else element(v) for v in values) + "}"
    return "{" + ",".join(map(element, values)) + "}"


def _quoted(text: str) -> str:
    """An array element that is read as exactly ``text``, whatever it holds."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_ELEMENT: dict[type, Callable[[Any], str]] = {
    str: _quoted,
    int: str,
    bool: lambda value: "t" if value else "f",
    datetime: lambda value: value.isoformat(),
}


class AnyOf(In):
    """``field__any=values``: the rows whose ``field`` is one of ``values``, as
    ``field__in`` finds them. On PostgreSQL integers or texts go as one array literal
    (``field = ANY(%s)``), where ``IN`` makes a parameter of each value for Django to prepare
    and the server to parse: an ingest batch looks up hundreds of ids and platform ids at a
    time. Registered on every field by the cases app."""

    lookup_name = "any"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        values = [value for value in dict.fromkeys(self.rhs) if value is not None]
        kinds = set(map(type, values))
        element = _ELEMENT[int] if kinds <= {int} else _ELEMENT[str] if kinds <= {str} else None
        if element is None:
            return self.as_sql(compiler, connection)
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array = _array_of(self.lhs.output_field, connection)
        return f"{lhs} = ANY(%s::{array})", (*lhs_params, _literal(values, element))


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
