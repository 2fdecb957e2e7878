"""Querysets compiled once per process and bound to new values on each call.

Django compiles a queryset to SQL afresh on every evaluation: for a ticket read with nine
``select_related`` joins that compilation costs more CPU than running the query. A hot read
whose *shape* never changes (same joins, same filters, only the values differ) can skip it:

    rows = prepared.fetch(("visible_ticket", "org"), build, [org_id, ticket_id])

``build(*values)`` returns the queryset for those values. The first call for a key builds it
with unique sentinel values, compiles it once, and records where each sentinel landed among
the SQL parameters; later calls copy the compiled statement, put the real values in those
places and let Django's own iterable (model instances with their related objects, or
``values_list`` rows; converters and all) turn the rows into results — so the result is
exactly what ``list(build(*values))`` gives. ``count`` does the same for a row count.

Values may be integers, strings and aware datetimes. If the compiled parameters do not hold
every sentinel exactly once (the builder folded, dropped or transformed a value, as
``icontains`` does), the shape is marked uncacheable and every call simply evaluates
``build(*values)``: never a wrong answer, only no saving. The key must fix everything about
the shape that is not one of ``values`` (which filters apply, the length of an ``IN`` list);
the types of the values are added to it here.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet

_INT_BASE = -7_319_000_000_000  # far outside any primary key or id we issue
_DT_BASE = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)  # no row of ours is that old
_lock = threading.Lock()
_compiled: dict[tuple[Hashable, ...], _Compiled | None] = {}

Value = int | str | datetime


def _kind(v: object) -> str | None:
    if type(v) is int:
        return "i"
    if type(v) is str:
        return "s"
    if isinstance(v, datetime) and v.tzinfo is not None:
        return "d"
    return None


def _sentinel(kind: str, i: int) -> Value:
    if kind == "i":
        return _INT_BASE - i
    if kind == "s":
        return f"\x1fprepared-{i}\x1f"
    return _DT_BASE + timedelta(seconds=7 * i + 1)


class _Compiled:
    __slots__ = ("adapt", "compiler", "converters", "db", "params", "query", "slots", "sql", "template")

    def __init__(self, qs: QuerySet[Any], kinds: Sequence[str]) -> None:
        connection = connections[qs.db]
        adapt = connection.ops.adapt_datetimefield_value
        compiler = qs.query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        wanted: dict[Any, int] = {}
        for i, kind in enumerate(kinds):
            s = _sentinel(kind, i)
            wanted[adapt(s) if kind == "d" else s] = i
        slots: list[int] = []
        seen: list[int] = []
        for p in params:
            i = wanted.get(p, -1) if type(p) in (int, str, datetime) else -1
            slots.append(i)
            if i >= 0:
                seen.append(i)
        if sorted(seen) != list(range(len(kinds))):
            raise ValueError("every value must appear exactly once among the SQL parameters")
        self.adapt = ["d" == k for k in kinds]
        self.compiler = compiler
        # Converters depend only on the columns and the backend, not on the connection
        # object's state: worked out once rather than on every fetch.
        self.converters = compiler.get_converters([c[0] for c in compiler.select[: compiler.col_count]])
        self.query = qs.query
        self.sql = sql
        self.params = tuple(params)
        self.slots = slots
        self.db = qs.db
        self.template = qs

    def bind(self, values: Sequence[Value]) -> tuple[Any, ...]:
        ops = connections[self.db].ops
        vals = [ops.adapt_datetimefield_value(v) if a else v for v, a in zip(values, self.adapt, strict=True)]
        return tuple(vals[slot] if slot >= 0 else fixed for slot, fixed in zip(self.slots, self.params, strict=True))

    def run(self, values: Sequence[Value]) -> list[Any]:
        params = self.bind(values)
        compiler = copy.copy(self.compiler)
        compiler.connection = connections[self.db]
        sql, converters = self.sql, self.converters
        compiler.as_sql = lambda *a, **k: (sql, params)  # type: ignore[method-assign]
        compiler.get_converters = lambda *a, **k: converters  # type: ignore[method-assign]
        query = copy.copy(self.query)
        query.get_compiler = lambda *a, **k: compiler  # type: ignore[method-assign]
        template = self.template
        qs: QuerySet[Any] = QuerySet(model=template.model, query=query, using=self.db)
        qs._iterable_class = template._iterable_class
        qs._fields = template._fields
        return list(qs)

    def count(self, values: Sequence[Value]) -> int:
        with connections[self.db].cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM ({self.sql}) prepared_count", self.bind(values))  # noqa: S608 - compiled by Django
            row = cur.fetchone()
        return int(row[0])


def _get(key: Hashable, build: Callable[..., QuerySet[Any]], values: Sequence[Value]) -> _Compiled | None:
    kinds = [_kind(v) for v in values]
    if None in kinds:
        return None
    alias = "default"
    full = (alias, connections[alias].vendor, key, "".join(kinds))  # type: ignore[arg-type]
    if full not in _compiled:
        try:
            sentinels = [_sentinel(k, i) for i, k in enumerate(kinds)]  # type: ignore[arg-type]
            found: _Compiled | None = _Compiled(build(*sentinels), kinds)  # type: ignore[arg-type]
        except (ValueError, EmptyResultSet):
            found = None
        with _lock:
            if len(_compiled) > 1000:
                _compiled.clear()
            _compiled[full] = found
    return _compiled.get(full)


def fetch[M: Model](key: Hashable, build: Callable[..., QuerySet[M]], values: Sequence[Value]) -> list[Any]:
    """The rows of ``build(*values)``, compiling its SQL only on the first call per ``key``."""
    compiled = _get(key, build, values)
    if compiled is None:
        return list(build(*values))
    return compiled.run(values)


def count[M: Model](key: Hashable, build: Callable[..., QuerySet[M]], values: Sequence[Value]) -> int:
    """How many rows ``build(*values)`` has (slice it to bound the count)."""
    compiled = _get(key, build, values)
    if compiled is None:
        return build(*values).count()
    return compiled.count(values)


def forget() -> None:
    with _lock:
        _compiled.clear()
