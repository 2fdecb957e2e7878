"""Stamps that say when routing's in-process caches are out of date, kept by the database.

Routing caches what changes rarely: the staff directory (names, languages, skills, capacity,
team, backup) and the schedules (teams, rotations, overrides, time off, the regions'
holidays) with the on-shift windows computed from them.  Every write to those rows — by this
process or another, through the ORM, ``QuerySet.update``, ``bulk_create``, the admin or raw
SQL — changes a stamp in the one row of ``routing_cachestamp`` by row triggers, in the same
transaction:

* ``staff``: a staff user inserted or deleted, or one of ``kind``, ``is_active``,
  ``first_name``, ``email``, ``language``, ``languages``, ``skills``, ``team_id`` changed; a
  routing profile inserted or deleted, or its ``skills``, ``capacity`` or ``backup_id``
  changed.  (Presence and the time of the last assignment change all day long: routing reads
  them fresh with the loads, they are not cached.)
* ``schedules``: any write to teams, regions, rotations, overrides or time off.

A new stamp is drawn so that a value is never used twice, even when the transaction that
drew it rolls back (PostgreSQL: a sequence, which is not transactional; SQLite: a random
64-bit integer): a cache built under a stamp seen inside a transaction that was then rolled
back can never be mistaken for current.

A cache entry remembers the stamps it was built under (read *before* its rows); it is current
while the database shows the same stamps.  A routing decision reads the stamps in the same
statement as the loads (no extra round trip) and rebuilds what changed; other readers check
them with one single-row read (``refresh``).  The triggers are installed by migration
``routing.0003`` and reinstalled after every ``migrate`` if missing (``ensure``), as SQLite
drops a table's triggers when a migration rebuilds it.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection as default_connection
from django.db import transaction

TABLE = "routing_cachestamp"
SEQUENCE = "routing_cachestamp_seq"
STAFF, SCHEDULES = "staff", "schedules"

Stamps = tuple[int, int]  # (staff, schedules)

_STAFF_USER_COLUMNS = (
    "kind",
    "is_active",
    "first_name",
    "email",
    "language",
    "languages",
    "skills",
    "team_id",
)
_PROFILE_COLUMNS = ("user_id", "skills", "capacity", "backup_id")
# table -> (stamp, columns whose update counts (None: any), a row filter or None)
WATCHED: dict[str, tuple[str, tuple[str, ...] | None, str | None]] = {
    "core_user": (STAFF, _STAFF_USER_COLUMNS, "{row}.kind = 'staff'"),
    "routing_agentprofile": (STAFF, _PROFILE_COLUMNS, None),
    "core_team": (SCHEDULES, None, None),
    "core_region": (SCHEDULES, None, None),
    "routing_rotation": (SCHEDULES, None, None),
    "routing_scheduleoverride": (SCHEDULES, None, None),
    "routing_timeoff": (SCHEDULES, None, None),
}


def _trigger_names() -> list[tuple[str, str]]:
    return [(t, f"routing_stamp_{t}_{op}") for t in WATCHED for op in ("ins", "upd", "del")]


def _new_value(vendor: str) -> str:
    return f"nextval('{SEQUENCE}')" if vendor == "postgresql" else "random()"


def _bump_sql(vendor: str, which: str) -> str:
    v = _new_value(vendor)
    excluded = "EXCLUDED" if vendor == "postgresql" else "excluded"
    return (
        f"INSERT INTO {TABLE} (id, staff, schedules) VALUES (1, {v}, {v}) "  # noqa: S608 - constant names
        f"ON CONFLICT (id) DO UPDATE SET {which} = {excluded}.{which};"
    )


def _conditions(vendor: str, table: str) -> dict[str, str | None]:
    """The WHEN clause of each trigger of ``table`` (None: always)."""
    _, columns, row_filter = WATCHED[table]
    differ = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    upd: list[str] = []
    if row_filter:
        upd.append(f"({row_filter.format(row='OLD')} OR {row_filter.format(row='NEW')})")
    if columns:
        upd.append("(" + " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns) + ")")
    return {
        "ins": row_filter.format(row="NEW") if row_filter else None,
        "upd": " AND ".join(upd) or None,
        "del": row_filter.format(row="OLD") if row_filter else None,
    }


def _pg_sql() -> list[str]:
    out = [f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}"]
    for which in (STAFF, SCHEDULES):
        out.append(
            f"CREATE OR REPLACE FUNCTION routing_stamp_{which}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {_bump_sql('postgresql', which)} RETURN NULL; END $$"
        )
    for table, (which, columns, _) in WATCHED.items():
        when = _conditions("postgresql", table)
        for op, event in (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE")):
            if op == "upd" and columns:
                event = f"UPDATE OF {', '.join(columns)}"
            name = f"routing_stamp_{table}_{op}"
            cond = f" WHEN ({when[op]})" if when[op] else ""
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            out.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{cond} "
                f"EXECUTE FUNCTION routing_stamp_{which}()"
            )
    return out


def _sqlite_sql() -> list[str]:
    out = []
    for table, (which, columns, _) in WATCHED.items():
        when = _conditions("sqlite", table)
        for op, event in (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE")):
            if op == "upd" and columns:
                event = f"UPDATE OF {', '.join(columns)}"
            cond = f" WHEN {when[op]}" if when[op] else ""
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS routing_stamp_{table}_{op} AFTER {event} ON {table} "
                f"FOR EACH ROW{cond} BEGIN {_bump_sql('sqlite', which)} END"
            )
    return out


def _present(conn: Any) -> set[str]:
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
                ["routing_stamp_%"],
            )
        else:
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                ["routing_stamp_%"],
            )
        return {r[0] for r in cur.fetchall()}


def install(conn: Any = None) -> None:
    """Create the triggers and draw new stamps (anything cached before is out of date)."""
    conn = conn or default_connection
    if conn.vendor not in ("postgresql", "sqlite"):
        return
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        for sql in _pg_sql() if conn.vendor == "postgresql" else _sqlite_sql():
            cur.execute(sql)
        bump(conn)


def uninstall(conn: Any = None) -> None:
    """Drop the triggers (PostgreSQL: and their functions; the sequence stays, so that stamps
    drawn after a reinstall never repeat one drawn before)."""
    conn = conn or default_connection
    with conn.cursor() as cur:
        for table, name in _trigger_names():
            if conn.vendor == "postgresql":
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            elif conn.vendor == "sqlite":
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
        if conn.vendor == "postgresql":
            for which in (STAFF, SCHEDULES):
                cur.execute(f"DROP FUNCTION IF EXISTS routing_stamp_{which}()")


def ensure(conn: Any = None) -> bool:
    """Reinstall the triggers if any is missing (and draw new stamps); True when it had to."""
    conn = conn or default_connection
    if conn.vendor not in ("postgresql", "sqlite"):
        return False
    tables = set(conn.introspection.table_names())
    if TABLE not in tables or not set(WATCHED) <= tables:
        return False
    if {name for _, name in _trigger_names()} <= _present(conn):
        return False
    install(conn)
    return True


def bump(conn: Any = None) -> None:
    """Draw new stamps for both (as if everything cached had changed)."""
    conn = conn or default_connection
    v = _new_value(conn.vendor)
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (id, staff, schedules) VALUES (1, {v}, {v}) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET staff = excluded.staff, schedules = excluded.schedules"
        )


def read(conn: Any = None) -> Stamps:
    """The stamps as the database shows them now ((0, 0) before any was drawn)."""
    conn = conn or default_connection
    with conn.cursor() as cur:
        cur.execute(f"SELECT staff, schedules FROM {TABLE} WHERE id = 1")  # noqa: S608
        row = cur.fetchone()
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)


# -- what this process has seen ---------------------------------------------------------

_lock = threading.Lock()
_seen: Stamps | None = None


def seen() -> Stamps:
    """The stamps this process read last (read now if it has none): caches built under
    other stamps are out of date.  Read *before* reading the rows a cache is built from."""
    found = _seen
    return found if found is not None else refresh()


def refresh(conn: Any = None) -> Stamps:
    """Read the stamps and remember them (one single-row read)."""
    got = read(conn)
    record(got)
    return got


def record(stamps: Stamps) -> None:
    """Remember stamps read by another statement (a routing decision reads them with the
    loads)."""
    global _seen
    with _lock:
        _seen = stamps


def forget() -> None:
    """Read the stamps again before the next use of a cache."""
    global _seen
    with _lock:
        _seen = None
