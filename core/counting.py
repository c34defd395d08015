"""Counts a page shows but never needs exactly past a point: "99+" waiting for you, not 4,312.

A COUNT reads every row it counts, so a count on every page (the menu's badge) grows with the data. Where
the reader only needs to know that there are many, `bounded_counts` stops at `COUNT_SHOWN_UP_TO` + 1 rows:
each count is a COUNT over a LIMITed sub-query, which the database answers by reading at most that many
index entries whatever the table holds. `{{ n|at_most }}` (core/templatetags/counting.py) shows the
capped count as "99+".
"""

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet, Window
from django.db.models.functions import RowNumber

COUNT_SHOWN_UP_TO = 99  # a count above this is shown as "99+"


@dataclass(frozen=True)
class Statement:
    """SQL composed from query sets, not yet run: `using` names the database, None when there is nothing to ask
    (no set, or none that can hold a row). The parameters may hold a prepared query's slots (core.prepared.Statements
    puts each run's values in their place)."""

    keys: tuple[str, ...]  # the sets' keys; for a union (union_statement), the order's columns
    sql: str = ""
    params: tuple = ()
    using: str | None = None
    up_to: int | None = None  # where a union's count stops


def bounded_counts(querysets: dict[str, QuerySet], up_to: int | None = None) -> dict[str, int]:
    """How many rows each query set holds, at most `up_to` + 1 (which means "more than `up_to`").

    One query however many sets: `SELECT (SELECT COUNT(*) FROM (<set> LIMIT up_to + 1)), …`. Each set is
    planned on its own, from the indexes its conditions name, and the LIMIT lets the database stop early.
    """
    return run_bounded_counts(bounded_counts_statement(querysets, up_to))


def bounded_counts_statement(querysets: dict[str, QuerySet], up_to: int | None = None) -> Statement:
    """`bounded_counts`' query, to run with `run_bounded_counts`."""
    up_to = COUNT_SHOWN_UP_TO if up_to is None else up_to
    parts, params, database = [], [], None
    for qs in querysets.values():
        limited = _limited_sql(qs.order_by().values("pk"), up_to)
        if limited is None:
            parts.append("0")
            continue
        sql, part_params = limited
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) bounded)")  # noqa: S608
        params.extend(part_params)
        database = database or qs.db
    return Statement(tuple(querysets), "SELECT " + ", ".join(parts), tuple(params), database)


def run_bounded_counts(statement: Statement) -> dict[str, int]:
    if statement.using is None:
        return dict.fromkeys(statement.keys, 0)
    with connections[statement.using].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        row = cursor.fetchone()
    return dict(zip(statement.keys, row, strict=True))


def bounded_firsts(querysets: dict[str, QuerySet], up_to: int | None = None) -> dict[str, list]:
    """Each ordered query set's first primary keys in its own order, at most `up_to` + 1 of them: how many it holds
    as `bounded_counts` says it (the list's length) and which rows come first, in one query however many sets.

    `SELECT key, pk, position FROM (<set, numbered in its order, LIMIT up_to + 1>) UNION ALL …`: each set is planned
    on its own and stops where its limit does. The position is asked, not trusted from the order rows arrive in:
    SQL promises no order for a UNION's rows, nor for a sub-query's once it is selected from.
    """
    return run_bounded_firsts(bounded_firsts_statement(querysets, up_to))


def bounded_firsts_statement(querysets: dict[str, QuerySet], up_to: int | None = None) -> Statement:
    """`bounded_firsts`' query, to run with `run_bounded_firsts`."""
    up_to = COUNT_SHOWN_UP_TO if up_to is None else up_to
    parts, params, database = [], [], None
    for key, qs in querysets.items():
        if not qs.ordered:
            raise ValueError(f"{key}: only an ordered query set has first rows")
        ordering = qs.query.order_by or qs.model._meta.ordering  # an explicit order, else the model's own
        numbered = qs.annotate(_position=Window(RowNumber(), order_by=list(ordering)))
        limited = _limited_sql(numbered.values_list("pk", "_position"), up_to)
        if limited is None:
            continue
        sql, part_params = limited
        parts.append(f"SELECT %s, bounded.* FROM ({sql}) bounded")  # noqa: S608  (the key is a parameter too)
        params.extend([key, *part_params])
        database = database or qs.db
    return Statement(tuple(querysets), " UNION ALL ".join(parts), tuple(params), database)


def run_bounded_firsts(statement: Statement) -> dict[str, list]:
    firsts: dict[str, list] = {key: [] for key in statement.keys}
    if statement.using is None:
        return firsts
    with connections[statement.using].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    for key, pk, _position in sorted(rows, key=lambda row: (row[0], row[2])):
        firsts[key].append(pk)
    return firsts


def page_of_union(
    querysets: list[QuerySet], order: tuple[str, ...], offset: int, limit: int, *, count_up_to: int | None = None
) -> tuple[list, int]:
    """One page of disjoint query sets taken together in one order: the page's primary keys and how many rows the
    sets hold together, in one query.

    `SELECT *, COUNT(*) OVER () FROM (<set 1> UNION ALL <set 2> …) ORDER BY <order>, pk LIMIT … OFFSET …`: each set
    is planned on its own, from the indexes its own conditions name, where the same conditions OR-ed together in
    one WHERE are tested against every row of the table; and the count comes with the page, not from a COUNT of
    its own. The sets must not share a row (a row in two would be counted and listed twice). `order` names
    columns of the sets' model, ascending; the primary key comes last and breaks ties.

    `count_up_to` (at least the page's end, `offset` + `limit`) bounds the work as `bounded_counts` does: each set
    gives only its first `count_up_to` + 1 rows in the order (the database keeps the first rows as it reads, rather
    than sorting them all), so the page sorts and counts at most that many of each, and a count above `count_up_to`
    comes back as `count_up_to` + 1, "more than that". The page is right either way: its rows are among each set's
    first `offset` + `limit`. Without it every row is counted.

    A page past the end holds no row and so says no count: then the rows are counted (a second query), and the
    caller asks for a page that exists.
    """
    if count_up_to is not None:
        count_up_to = max(count_up_to, offset + limit)
    return run_page_of_union(union_statement(querysets, order, count_up_to), offset, limit)


def union_statement(querysets: list[QuerySet], order: tuple[str, ...], count_up_to: int | None) -> Statement:
    """`page_of_union`'s sets as one statement (each its first `count_up_to` + 1 rows in the order, with the order's
    columns and then the key), to run a page of with `run_page_of_union`: `count_up_to` is at least the page's end."""
    parts, params, database = [], [], None
    for qs in querysets:
        rows = qs.values_list(*order, "pk")
        try:
            if count_up_to is None:  # every row: no order needed within the set
                sql, part_params = rows.order_by().query.sql_with_params()
            else:  # the set's first rows in the page's order
                sql, part_params = rows.order_by(*order, "pk")[: count_up_to + 1].query.sql_with_params()
        except EmptyResultSet:  # a set that can hold nothing
            continue
        parts.append(f"SELECT * FROM ({sql}) part")  # noqa: S608  (SQLite takes no parenthesised UNION member)
        params.extend(part_params)
        database = database or qs.db
    return Statement(order, " UNION ALL ".join(parts), tuple(params), database, count_up_to)


def run_page_of_union(union: Statement, offset: int, limit: int) -> tuple[list, int]:
    if union.using is None:
        return [], 0
    positions = ", ".join(str(n) for n in range(1, len(union.keys) + 2))  # the order's columns, then the key
    with connections[union.using].cursor() as cursor:
        cursor.execute(
            f"SELECT united.*, COUNT(*) OVER () FROM ({union.sql}) united ORDER BY {positions} LIMIT %s OFFSET %s",  # noqa: S608
            [*union.params, limit, offset],
        )
        rows = cursor.fetchall()
        if rows:
            count = rows[0][-1]
        elif offset == 0:
            count = 0
        else:
            cursor.execute(f"SELECT COUNT(*) FROM ({union.sql}) united", union.params)  # noqa: S608
            count = cursor.fetchone()[0]
    if union.up_to is not None:
        count = min(count, union.up_to + 1)
    return [row[len(union.keys)] for row in rows], count


def _limited_sql(qs: QuerySet, up_to: int) -> tuple[str, tuple] | None:
    """The set's own SQL, limited to `up_to` + 1 rows, its values still parameters (nothing from a request is pasted
    into the text); None for a set that can hold nothing (`pk__in=[]`, `.none()`): no need to ask."""
    try:
        return qs[: up_to + 1].query.sql_with_params()
    except EmptyResultSet:
        return None


def at_most(count: int, up_to: int | None = None) -> str:
    """A count as a page shows it: the number, or "99+" past `up_to`."""
    up_to = COUNT_SHOWN_UP_TO if up_to is None else up_to
    return f"{up_to}+" if count > up_to else str(count)
