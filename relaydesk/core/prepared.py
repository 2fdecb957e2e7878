"""Querysets compiled once per process and bound to new values on each call.

Django compiles a queryset to SQL afresh on every evaluation: for a ticket read with nine
``select_related`` joins that compilation costs more CPU than running the query. A hot read
whose *shape* never changes (same joins, same filters, only the values differ) can skip it:

    rows = prepared.fetch(("visible_ticket", "org"), build, [org_id, ticket_id])

``build(*values)`` returns the queryset for those values. The first call for a key builds it
with unique sentinel integers, compiles it once, and records where each sentinel landed among
the SQL parameters; later calls copy the compiled statement, put the real values in those
places and let Django's own ``ModelIterable`` turn the rows into model instances (related
objects, converters and all) — so the result is exactly what ``list(build(*values))`` gives.

Only integer values are bound this way. If the compiled parameters do not hold every
sentinel exactly once (the builder folded, dropped or transformed a value), the shape is
marked uncacheable and every call simply evaluates ``build(*values)``: never a wrong answer.
The key must fix everything about the shape that is not one of ``values`` (for example the
length of an ``IN`` list).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable

_SENTINEL_BASE = -7_319_000_000_000  # far outside any primary key or id we issue
_lock = threading.Lock()
_compiled: dict[tuple[Hashable, ...], _Compiled | None] = {}


class _Compiled:
    __slots__ = ("compiler", "converters", "db", "model", "params", "query", "slots", "sql")

    def __init__(self, qs: QuerySet[Any], n: int) -> None:
        compiler = qs.query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        sentinels = {_SENTINEL_BASE - i: i for i in range(n)}
        slots: list[int] = []
        seen: list[int] = []
        for p in params:
            if type(p) is int and p in sentinels:
                slots.append(sentinels[p])
                seen.append(p)
            else:
                slots.append(-1)
        if sorted(seen) != sorted(sentinels):
            raise ValueError("every value must appear exactly once among the SQL parameters")
        self.compiler = compiler
        # Converters depend only on the columns and the backend (not on the connection
        # object's state): worked out once rather than on every row fetch.
        self.converters = compiler.get_converters(
            [c[0] for c in compiler.select[: compiler.col_count]]
        )
        self.query = qs.query
        self.sql = sql
        self.params = tuple(params)
        self.slots = slots
        self.model = qs.model
        self.db = qs.db

    def run(self, values: Sequence[int]) -> list[Any]:
        params = tuple(
            values[slot] if slot >= 0 else fixed
            for slot, fixed in zip(self.slots, self.params, strict=True)
        )
        compiler = copy.copy(self.compiler)
        compiler.connection = connections[self.db]
        sql = self.sql
        compiler.as_sql = lambda *a, **k: (sql, params)  # type: ignore[method-assign]
        converters = self.converters
        compiler.get_converters = lambda *a, **k: converters  # type: ignore[method-assign]
        query = copy.copy(self.query)
        query.get_compiler = lambda *a, **k: compiler  # type: ignore[method-assign]
        qs: QuerySet[Any] = self.model._default_manager.db_manager(self.db).all()
        qs.query = query
        return list(ModelIterable(qs))


def fetch[M: Model](
    key: Hashable, build: Callable[..., QuerySet[M]], values: Sequence[int]
) -> list[M]:
    """The rows of ``build(*values)``, compiling its SQL only on the first call per ``key``."""
    alias = "default"
    full = (alias, connections[alias].vendor, key, len(values))
    if full not in _compiled:
        try:
            found: _Compiled | None = _Compiled(
                build(*(_SENTINEL_BASE - i for i in range(len(values)))), len(values)
            )
        except (ValueError, EmptyResultSet):
            found = None
        with _lock:
            if len(_compiled) > 1000:
                _compiled.clear()
            _compiled[full] = found
    compiled = _compiled.get(full)
    if compiled is None:
        return list(build(*values))
    return compiled.run(values)


def forget() -> None:
    with _lock:
        _compiled.clear()
