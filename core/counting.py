"""Counts a page shows but never needs exactly past a point: "99+" waiting for you, not 4,312.

A COUNT reads every row it counts, so a count on every page (the menu's badge) grows with the data. Where
the reader only needs to know that there are many, `bounded_counts` stops at `COUNT_SHOWN_UP_TO` + 1 rows:
each count is a COUNT over a LIMITed sub-query, which the database answers by reading at most that many
index entries whatever the table holds. `{{ n|at_most }}` (core/templatetags/counting.py) shows the
capped count as "99+".
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

COUNT_SHOWN_UP_TO = 99  # a count above this is shown as "99+"


def bounded_counts(querysets: dict[str, QuerySet], up_to: int | None = None) -> dict[str, int]:
    """How many rows each query set holds, at most `up_to` + 1 (which means "more than `up_to`").

    One query however many sets: `SELECT (SELECT COUNT(*) FROM (<set> LIMIT up_to + 1)), …`. Each set is
    planned on its own, from the indexes its conditions name, and the LIMIT lets the database stop early.
    """
    if not querysets:
        return {}
    up_to = COUNT_SHOWN_UP_TO if up_to is None else up_to
    parts, params, database = [], [], None
    for qs in querysets.values():
        limited = qs.order_by().values("pk")[: up_to + 1]
        try:
            sql, part_params = limited.query.sql_with_params()
        except EmptyResultSet:  # a condition that can hold nothing (`pk__in=[]`, `.none()`): no need to ask
            parts.append("0")
            continue
        # The ORM's own SQL, its values still parameters: nothing from a request is pasted into the text.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) bounded)")  # noqa: S608
        params.extend(part_params)
        database = database or qs.db
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


def at_most(count: int, up_to: int | None = None) -> str:
    """A count as a page shows it: the number, or "99+" past `up_to`."""
    up_to = COUNT_SHOWN_UP_TO if up_to is None else up_to
    return f"{up_to}+" if count > up_to else str(count)
