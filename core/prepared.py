"""Queries built and compiled once per process, then run again with new values: the ORM's Python, paid once.

Django builds a query set (filter, select_related, annotate) and compiles it to SQL on every request, though the
dearest pages ask the same few questions every time with only an id changed. Measured on the order page, that
work is 0.3–2.3 ms of Python for each query (the order with its related rows, 100 columns, is the dearest), a
third or more of the page's CPU before the database has done anything. A `Prepared` query is built and compiled
the first time it runs in a process; after that each run substitutes its values into the SQL kept and turns
the rows into model instances exactly as the query set would (select_related, annotations and prefetches too).

    ORDER_EVENTS = Prepared(lambda p: OrderEvent.objects.filter(order_id=p.order).order_by("seq"))
    events = ORDER_EVENTS.all(order=order.pk)

The builder names each value with the slot `p.<name>` where the query set would hold the value: each becomes a
placeholder (`Slot`) in the SQL, and `p.list("<name>")` a list of them for `__in` (the SQL is kept per length).
What is not a slot is part of the query's shape: everything the builder reads besides `p` must be the same for
every run, or be passed as `shape=`, which chooses among the compiled queries as the lengths do.

Values are given as the database takes them (an id, not the object), as the ORM would prepare them: while the
tests run (`CHECK`, tests/conftest.py), every run also builds the query set afresh from its values with the
ORM and fails if its SQL or parameters differ in any way, so a builder that reads anything but its slots and
shape, or a value the ORM would have prepared differently, fails the tests that reach it.

Nothing is cached but SQL text and the compiler's description of its columns: never a row, so nothing a user
sees can be stale. The one earlier library for this (django-prepared-queries) was last released for Django 1.x.
"""

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from threading import Lock
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, Field, Lookup, Model, QuerySet
from django.forms.models import ModelChoiceField, ModelChoiceIterator

# While true (the test suite), every run is compared with the ORM's own query for the same values.
CHECK = False
# Each prepared query keeps at most this many shapes (and list lengths): one a request can choose (a page number
# past every page anyone reads) is compiled for that run and not kept, so no request can grow a process's memory.
KEPT_SHAPES = 64


@dataclass(frozen=True)
class Slot:
    """A value's place among a compiled query's parameters: `name`, or item `index` of the list `name`; with
    `field`, the value is given to the database as that field gives it (a date, on SQLite, as text)."""

    name: str
    index: int | None = None
    field: Field | None = None


class Param(Expression):
    """The slot's placeholder in a query set: compiles to one `%s` whose parameter is the `Slot`."""

    def __init__(self, slot: Slot) -> None:
        super().__init__()
        self.slot = slot

    @property
    def identity(self):  # Expression's own reads the constructor's signature; the slot alone says which one
        return (Param, self.slot)

    def as_sql(self, compiler, connection):
        return "%s", (self.slot,)


class _Slots:
    """What a builder receives as `p`: a `Param` per name, and lists of them as long as the run's list."""

    def __init__(self, lengths: dict[str, int]) -> None:
        self._lengths = lengths

    def __getattr__(self, name: str) -> Param:
        if name.startswith("_"):
            raise AttributeError(name)
        return Param(Slot(name))

    def list(self, name: str) -> list[Param]:
        return [Param(Slot(name, index)) for index in range(self._lengths[name])]

    def typed(self, name: str, field: Field) -> Param:
        """A value the ORM would prepare for its field, not pass as it is: a date or a time, say."""
        return Param(Slot(name, field=field))


class _Values:
    """What a builder receives as `p` when CHECK builds the ORM's own query: the run's values themselves."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._values[name]

    def list(self, name: str) -> list:
        return self._values[name]

    def typed(self, name: str, field: Field) -> Any:
        return self._values[name]


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet | None  # None: the query can hold no row (an empty `__in`), as the ORM finds
    compiler: Any = None
    sql: str = ""
    params: tuple = ()


# The largest key either database holds (a signed 64-bit integer: PostgreSQL's bigint, SQLite's INTEGER).
LARGEST_KEY = 2**63 - 1


def _beyond_any_key(value: Any) -> bool:
    if isinstance(value, list):
        return any(_beyond_any_key(item) for item in value)
    return isinstance(value, int) and not -LARGEST_KEY - 1 <= value <= LARGEST_KEY


def _unique(values: Iterable) -> list:
    # As the ORM's `__in` does (django.db.models.lookups.In): each value once, in order, without None.
    return [value for value in dict.fromkeys(values) if value is not None]


class Prepared:
    """A query set compiled once per process and shape (module level, beside the code that runs it)."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = Lock()

    def all(self, *, shape: tuple = (), **values: Any) -> list:
        """The rows, as `list(queryset)` would give them (model instances, or tuples for `values_list`)."""
        values = {name: _unique(v) if isinstance(v, list | tuple | set) else v for name, v in values.items()}
        if any(_beyond_any_key(v) for v in values.values()):
            # An id typed into a URL or a form (`/orders/99999999999999999999/`) no key can equal: as the ORM finds for
            # an exact lookup, no row, and nothing asked (SQLite cannot even be given the number).
            return []
        lengths = {name: len(v) for name, v in values.items() if isinstance(v, list)}
        compiled = self._compile(shape, lengths)
        rows = [] if compiled.queryset is None else self._run(compiled, _params(compiled, values))
        if CHECK:
            self._check(compiled, shape, values)
        return rows

    def first(self, *, shape: tuple = (), **values: Any) -> Any:
        """The first row, or None (the builder slices or orders as it needs)."""
        rows = self.all(shape=shape, **values)
        return rows[0] if rows else None

    def _compile(self, shape: tuple, lengths: dict[str, int]) -> _Compiled:
        key = (shape, tuple(sorted(lengths.items())))
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        queryset = self.build(_Slots(lengths), *shape)
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            compiled = _Compiled(None)
        else:
            compiled = _Compiled(queryset, compiler, sql, tuple(params))
        with self._lock:  # two first runs at once compile alike; either result may be kept
            if len(self._compiled) < KEPT_SHAPES:
                self._compiled.setdefault(key, compiled)
        return compiled

    @staticmethod
    def _run(compiled: _Compiled, params: tuple) -> list:
        # The query set's own iteration (model instances, select_related, annotations, prefetch_related) with a
        # copy of the kept compiler that answers the kept SQL instead of compiling: the copy is this run's only,
        # on this thread's connection. The query set is a private clone, never handed out nor chained.
        queryset = compiled.queryset._chain()
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[queryset.db]
        compiler.as_sql = lambda *args, **kwargs: (compiled.sql, params)
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)

    def _check(self, compiled: _Compiled, shape: tuple, values: dict[str, Any]) -> None:
        # Compiled, not run: the check adds no query. A lookup wraps an expression's SQL in parentheses where it
        # would not wrap a value's, `= (%s)` for `= %s`; the same, so both are read without them.
        try:
            sql, params = self.build(_Values(values), *shape).query.sql_with_params()
            expected = (sql.replace("(%s)", "%s"), tuple(params))
        except EmptyResultSet:
            expected = None
        got = None if compiled.queryset is None else (compiled.sql.replace("(%s)", "%s"), _params(compiled, values))
        if got != expected:
            raise AssertionError(
                f"A prepared query differs from the ORM's for {values}, shape {shape}:\n{got}\n{expected}"
            )


class PreparedStatement:
    """SQL composed from query sets (core.counting's `Statement`: the worklists' bounded counts and first rows), built
    and compiled once per process and shape as `Prepared` builds a query set; each run puts its values in the slots.

    The builder takes `p` and the shape as `Prepared`'s does and returns a `Statement`; `statement()` gives it
    with this run's values in place, for the function that runs it (core.counting.run_bounded_counts). CHECK
    compares it with the statement built from the values themselves, as for `Prepared`.
    """

    def __init__(self, build: Callable[..., Any]) -> None:
        self.build = build
        self._built: dict[tuple, Any] = {}
        self._lock = Lock()

    def statement(self, *, shape: tuple = (), **values: Any) -> Any:
        built = self._built.get(shape)
        if built is None:
            built = self.build(_Slots({}), *shape)
            with self._lock:
                if len(self._built) < KEPT_SHAPES:
                    self._built.setdefault(shape, built)
        if built.using is not None:
            connection = connections[built.using]
            params = tuple(_value(p, values, connection) if isinstance(p, Slot) else p for p in built.params)
            built = replace(built, params=params)
        if CHECK:
            expected = self.build(given(**values), *shape)
            if replace(built, sql=built.sql.replace("(%s)", "%s")) != replace(
                expected, sql=expected.sql.replace("(%s)", "%s")
            ):
                raise AssertionError(f"A prepared statement differs from the ORM's for {values}:\n{built}\n{expected}")
        return built


def given(**values: Any) -> _Values:
    """What a builder receives as `p` to build the ORM's own query from the values themselves (no slots): for code
    that shares a builder with a prepared query but runs it once (ordering.selectors.orderer_worklist)."""
    return _Values(values)


def _params(compiled: _Compiled, values: dict[str, Any]) -> tuple:
    """The kept parameters with each slot's value in its place."""
    connection = connections[compiled.queryset.db]
    return tuple(_value(p, values, connection) if isinstance(p, Slot) else p for p in compiled.params)


def _value(slot: Slot, values: dict[str, Any], connection) -> Any:
    value = values[slot.name] if slot.index is None else values[slot.name][slot.index]
    return value if slot.field is None else slot.field.get_db_prep_value(value, connection, prepared=False)


def attach(instance: Model, relation: str, rows: list) -> None:
    """Rows of the reverse foreign key `relation` (`order.addenda`) read by a prepared query, kept on `instance` as
    prefetch_related keeps them: `instance.<relation>.all()` answers them without a query, and each row's own
    foreign key answers `instance`."""
    manager = getattr(instance, relation)
    queryset = manager.get_queryset()  # filtered to `instance`, lazily: chained further it asks the database
    queryset._result_cache = rows
    queryset._prefetch_done = True
    for row in rows:
        manager.field.set_cached_value(row, instance)
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[manager.field.remote_field.cache_name] = queryset


class _PreparedChoices(ModelChoiceIterator):
    """A model choice field's choices from a prepared query (prepared_choices): the rows its `prepared_rows` give."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.prepared_rows():
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.field.prepared_rows()) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.prepared_rows())


def prepared_choices(field: ModelChoiceField, rows: Callable[[], list]) -> None:
    """List a model choice field's choices from `rows` (a prepared query's run) rather than by building and
    compiling its query set each time a form is drawn. The query set still validates what is sent, so `rows`
    must give the same rows: build both from one builder (ordering.filters' customers and systems). The rows are
    read once for the form (`field.prepared_rows()`), however often it lists them."""
    field.prepared_rows = cache(rows)
    field.iterator = _PreparedChoices
    field.widget.choices = field.choices  # the widget keeps the iterator made when the queryset was set


class StartsWithPattern(Lookup):
    """`<field>__starts_with_pattern=p.pattern`: `startswith` for a prepared query, its pattern given as a value.

    `startswith` escapes a value's LIKE wildcards in Python but an expression's in SQL (REPLACE(…)), so with a slot
    it is not the ORM's query. This lookup sends the pattern as `startswith` sends a value's: the same operator, the
    pattern made by `starts_with_pattern` with the database's own escaping. Registered on the field that needs it
    (billing.quotes: SharedFee.key)."""

    lookup_name = "starts_with_pattern"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} {connection.operators['startswith'] % rhs}", [*lhs_params, *rhs_params]


def starts_with_pattern(prefix: str, using: str = "default") -> str:
    """The LIKE pattern `startswith` would send for `prefix` (its wildcards escaped, then `%`)."""
    return f"{connections[using].ops.prep_for_like_query(prefix)}%"
