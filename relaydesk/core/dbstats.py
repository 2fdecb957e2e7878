"""Planner statistics for SQLite, refreshed by the worker (PostgreSQL's autovacuum does this
on its own).

Without statistics SQLite's planner guesses row counts from index shapes alone. For an agent's
queue ("new or open, in my organisations, team or assignments, most urgent first") it then
reads every new/open ticket through ``ticket_status_scope`` and sorts them (14 ms at 100k
tickets) instead of walking ``ticket_queue_order`` until the page is full (0.2 ms). With
``sqlite_stat1`` filled in it picks the walk.

A full ``ANALYZE``: a sampled one (``PRAGMA analysis_limit``) reads only the first entries of
each index, which for ``ticket_status_scope`` are all one status, and the skewed estimate
keeps the sort. A full pass takes ~0.14 s at 100k tickets (grows with the table) and holds
SQLite's write lock meanwhile, once an hour per worker process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection

EVERY_S = 3600.0
_lock = threading.Lock()
_last = [float("-inf")]


def refresh(*, force: bool = False) -> dict[str, Any]:
    """Run ``ANALYZE`` on SQLite at most every ``EVERY_S`` per process (``force``: now)."""
    if connection.vendor != "sqlite":
        return {}
    now = time.monotonic()
    with _lock:
        if not force and now - _last[0] < EVERY_S:
            return {}
        _last[0] = now
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("PRAGMA analysis_limit=0")  # every entry: see the module docstring
        cur.execute("ANALYZE")
    return {"analyzed": True, "seconds": round(time.perf_counter() - started, 3)}
