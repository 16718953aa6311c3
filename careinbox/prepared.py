"""Reads compiled once and run many times with new values.

Django compiles a queryset's SQL every time it runs it, and on the workspace's hot pages
compiling costs more than running: a page's dozen small statements each take a fraction of a
millisecond in PostgreSQL and more than that in the compiler. A ``PreparedRead`` is a
``values()`` queryset compiled on first use (once per database connection object, so once per
thread), whose varying parts are parameters: each run sends the same SQL with new values and
converts the rows as Django would.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler

# Stand-ins for the parameters while compiling, told apart from any real value: no id or
# count is negative (and Django checks ids against a 32-bit integer's range), no text holds
# a NUL, and nothing happened in the year 1000.
INT_MARK = -2_000_000_000
STR_MARK = "\x00prepared-parameter-"
DATETIME_MARK = datetime(1000, 1, 1, tzinfo=UTC)
KINDS = (int, str, datetime)


class PreparedReadError(ValueError):
    """A parameter of a prepared read did not reach the SQL as one plain value."""


@dataclass
class _Compiled:
    sql: str
    # Each SQL parameter: its fixed value, or the name of the parameter it takes (and whether
    # it is a time, which the database's adapter formats).
    params: list[tuple[Any, str | None, bool]]
    names: list[str]
    compiler: SQLCompiler
    # What Django applies to each column it reads (e.g. JSON, or SQLite's dates), by position.
    converters: dict[int, Any]


class PreparedRead:
    """``build(**params)`` gives a ``values()`` queryset; ``params`` name its parameters and
    their type: ``int``, ``str`` or (aware) ``datetime``, compared with date-time fields. A
    parameter must be compared as a whole value, e.g. ``filter(case_id=case_id)``, not in a
    list or a pattern."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], **params: type) -> None:
        if any(kind not in KINDS for kind in params.values()):
            raise PreparedReadError("A prepared read takes int, str and datetime parameters.")
        self.build = build
        self.kinds = params
        self.compiled: WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = WeakKeyDictionary()

    def rows(self, **values: Any) -> list[dict[str, Any]]:
        """The rows for these parameter values, as ``values()`` gives them."""
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = self.compiled.get(connection) or self._compile(connection)
        adapt = connection.ops.adapt_datetimefield_value
        params = [
            fixed if name is None else adapt(values[name]) if moment else values[name]
            for fixed, name, moment in compiled.params
        ]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        names, converters = compiled.names, compiled.converters
        rows = compiled.compiler.apply_converters(fetched, converters) if converters else fetched
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        marks: dict[str, Any] = {}
        for n, (name, kind) in enumerate(self.kinds.items()):
            if kind is int:
                marks[name] = INT_MARK + n
            elif kind is str:
                marks[name] = f"{STR_MARK}{n}"
            else:
                marks[name] = DATETIME_MARK + timedelta(microseconds=n)
        queryset = self.build(**marks)
        query = queryset.query
        compiler = query.get_compiler(connection=connection)
        sql, sent = compiler.as_sql()
        # As they reach the SQL: a time as the database's adapter gives it.
        adapt = connection.ops.adapt_datetimefield_value
        by_sent = {
            adapt(mark) if self.kinds[name] is datetime else mark: name
            for name, mark in marks.items()
        }
        params: list[tuple[Any, str | None, bool]] = []
        for value in sent:
            taken = by_sent.get(value) if isinstance(value, int | str | datetime) else None
            params.append((value, taken, taken is not None and self.kinds[taken] is datetime))
        if {taken for _, taken, _ in params if taken} != set(marks):
            raise PreparedReadError(
                f"Parameters {sorted(marks)} of {self.build!r} do not all reach the SQL as "
                "plain values; compare each with a whole field."
            )
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        selected = [column for column, _, _ in compiler.select[: compiler.col_count]]
        compiled = _Compiled(sql, params, names, compiler, compiler.get_converters(selected))
        self.compiled[connection] = compiled
        return compiled


def columns(model: type[Model], prefix: str = "", *, leave_out: Iterable[str] = ()) -> list[str]:
    """The ``values()`` names of ``model``'s stored fields, each after ``prefix`` (a relation's
    path and "__" to read a related row's), for ``instance`` to build it from a row."""
    return [prefix + name for name in _attnames(model, tuple(leave_out))]


def instance[M: Model](
    model: type[M], row: dict[str, Any], prefix: str = "", *, leave_out: Iterable[str] = ()
) -> M | None:
    """The ``model`` instance whose ``columns`` ``row`` holds, as a query would have given it
    (fields left out are loaded if used); None where the relation leads to no row."""
    if row[prefix + model._meta.pk.attname] is None:
        return None
    names = _attnames(model, tuple(leave_out))
    return model.from_db(DEFAULT_DB_ALIAS, names, [row[prefix + name] for name in names])


@cache
def _attnames(model: type[Model], leave_out: tuple[str, ...]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name not in leave_out]
