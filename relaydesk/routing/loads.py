"""Open tickets per agent and priority, counted by the database itself.

Routing needs every candidate's current load on each decision.  Counting open tickets per
assignee on every decision reads thousands of ticket rows once the table is large, so the
count is kept in ``routing_agentload`` by row triggers on the ticket table: an insert, a
delete, or an update that changes the assignee, the status or the priority adjusts the
counters in the same transaction, whichever code path wrote the ticket (ORM ``save``,
``bulk_create``, ``QuerySet.update``, raw SQL of the SLA sweep).

The triggers are installed by migration ``routing.0002`` and checked after every ``migrate``
(``ensure``): SQLite drops a table's triggers when a later migration rebuilds the table, so a
missing trigger is recreated and the counters are rebuilt from the tickets at once.

A second, plain index ``(organisation_id, assignee_id, updated_at)`` on the ticket table
serves the continuity question ("who of these agents handled this organisation lately").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.db import connection as default_connection
from django.db import transaction

from relaydesk.domain import routing as rt

from . import stamps

OPEN_STATUSES = ("new", "open", "pending_customer", "on_hold")
TICKETS = "tickets_ticket"
LOADS = "routing_agentload"
PROFILES = "routing_agentprofile"
TRIGGERS = ("routing_agentload_ins", "routing_agentload_upd", "routing_agentload_del")
SQLITE_TRIGGERS = (
    "routing_agentload_ins",
    "routing_agentload_upd_old",
    "routing_agentload_upd_new",
    "routing_agentload_del",
)
CONTINUITY_INDEX = "routing_ticket_org_assignee_upd"

_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)


def _counted(row: str) -> str:
    return f"{row}.assignee_id IS NOT NULL AND {row}.status IN ({_OPEN})"


_CHANGED = (
    "(OLD.assignee_id IS NOT NEW.assignee_id OR OLD.status IS NOT NEW.status "
    "OR OLD.priority IS NOT NEW.priority)"
)


# A ticket leaving the count (-1) only lowers an existing counter row: the +1 that counted
# it created that row, so in a consistent database the row is there.  When the counters were
# emptied before the tickets (the test runner's table-by-table flush on SQLite, a hand-made
# ``DELETE``), deleting the tickets afterwards must not invent negative counters that the next
# tickets would then start from.
def _sqlite_bump(row: str, delta: int) -> str:
    if delta < 0:
        return (
            f"UPDATE {LOADS} SET open_count = open_count + ({delta}) "  # noqa: S608
            f"WHERE priority = {row}.priority AND agent_id = {row}.assignee_id;"
        )
    return (
        f"INSERT INTO {LOADS} (agent_id, priority, open_count) VALUES ({row}.assignee_id, {row}.priority, {delta}) "  # noqa: S608
        f"ON CONFLICT (priority, agent_id) DO UPDATE SET open_count = open_count + ({delta});"
    )


def _sqlite_sql() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS routing_agentload_ins AFTER INSERT ON {TICKETS} "
        f"WHEN {_counted('NEW')} BEGIN {_sqlite_bump('NEW', 1)} END",
        f"CREATE TRIGGER IF NOT EXISTS routing_agentload_upd_old AFTER UPDATE OF assignee_id, status, priority "
        f"ON {TICKETS} WHEN {_CHANGED} AND {_counted('OLD')} BEGIN {_sqlite_bump('OLD', -1)} END",
        f"CREATE TRIGGER IF NOT EXISTS routing_agentload_upd_new AFTER UPDATE OF assignee_id, status, priority "
        f"ON {TICKETS} WHEN {_CHANGED} AND {_counted('NEW')} BEGIN {_sqlite_bump('NEW', 1)} END",
        f"CREATE TRIGGER IF NOT EXISTS routing_agentload_del AFTER DELETE ON {TICKETS} "
        f"WHEN {_counted('OLD')} BEGIN {_sqlite_bump('OLD', -1)} END",
    ]


def _pg_sql() -> list[str]:
    bump = (
        f"INSERT INTO {LOADS} (agent_id, priority, open_count) VALUES (a, p, d) "  # noqa: S608
        f"ON CONFLICT (priority, agent_id) DO UPDATE SET open_count = {LOADS}.open_count + EXCLUDED.open_count;"
    )
    changed = (
        "OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.priority IS DISTINCT FROM NEW.priority"
    )
    lower = f"UPDATE {LOADS} SET open_count = {LOADS}.open_count + d WHERE priority = p AND agent_id = a;"  # noqa: S608
    return [
        # -1 only lowers an existing row (see ``_sqlite_bump``).
        "CREATE OR REPLACE FUNCTION routing_agentload_bump(a bigint, p varchar, d integer) RETURNS void "
        f"LANGUAGE plpgsql AS $$ BEGIN IF d < 0 THEN {lower} ELSE {bump} END IF; END $$",
        "CREATE OR REPLACE FUNCTION routing_agentload_ticket() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' AND {_counted('OLD')} THEN "
        "PERFORM routing_agentload_bump(OLD.assignee_id, OLD.priority, -1); END IF; "
        f"IF TG_OP <> 'DELETE' AND {_counted('NEW')} THEN "
        "PERFORM routing_agentload_bump(NEW.assignee_id, NEW.priority, 1); END IF; "
        "RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS routing_agentload_ins ON {TICKETS}",
        f"DROP TRIGGER IF EXISTS routing_agentload_upd ON {TICKETS}",
        f"DROP TRIGGER IF EXISTS routing_agentload_del ON {TICKETS}",
        f"CREATE TRIGGER routing_agentload_ins AFTER INSERT ON {TICKETS} "
        "FOR EACH ROW EXECUTE FUNCTION routing_agentload_ticket()",
        f"CREATE TRIGGER routing_agentload_upd AFTER UPDATE OF assignee_id, status, priority ON {TICKETS} "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION routing_agentload_ticket()",
        f"CREATE TRIGGER routing_agentload_del AFTER DELETE ON {TICKETS} "
        "FOR EACH ROW EXECUTE FUNCTION routing_agentload_ticket()",
    ]


def _index_sql() -> str:
    return f"CREATE INDEX IF NOT EXISTS {CONTINUITY_INDEX} ON {TICKETS} (organisation_id, assignee_id, updated_at)"


def _recount_sql() -> list[str]:
    return [
        f"DELETE FROM {LOADS}",  # noqa: S608 - constant names
        f"INSERT INTO {LOADS} (agent_id, priority, open_count) "  # noqa: S608 - constant names
        f"SELECT assignee_id, priority, COUNT(*) FROM {TICKETS} "
        f"WHERE assignee_id IS NOT NULL AND status IN ({_OPEN}) GROUP BY assignee_id, priority",
    ]


def _has_index(conn: Any) -> bool:
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [CONTINUITY_INDEX])
        else:
            cur.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [CONTINUITY_INDEX]
            )
        return cur.fetchone() is not None


def _present(conn: Any) -> set[str]:
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = to_regclass(%s)",
                [TICKETS],
            )
        else:
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TICKETS]
            )
        return {r[0] for r in cur.fetchall()}


def install(conn: Any = None) -> None:
    """Create the triggers and the continuity index and count the loads afresh (one
    transaction: nothing half-installed)."""
    conn = conn or default_connection
    if conn.vendor not in ("postgresql", "sqlite"):
        return
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"LOCK TABLE {TICKETS} IN SHARE ROW EXCLUSIVE MODE")
        index = [] if _has_index(conn) else [_index_sql()]
        for sql in (
            *(_pg_sql() if conn.vendor == "postgresql" else _sqlite_sql()),
            *index,
            *_recount_sql(),
        ):
            cur.execute(sql)


def uninstall(conn: Any = None, index: bool = True) -> None:
    conn = conn or default_connection
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            for name in TRIGGERS:
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON {TICKETS}")
            cur.execute("DROP FUNCTION IF EXISTS routing_agentload_ticket()")
            cur.execute("DROP FUNCTION IF EXISTS routing_agentload_bump(bigint, varchar, integer)")
        elif conn.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
        if index and conn.vendor in ("postgresql", "sqlite"):
            cur.execute(f"DROP INDEX IF EXISTS {CONTINUITY_INDEX}")


def ensure(conn: Any = None) -> bool:
    """Reinstall the triggers (and recount) if any is missing; True when it had to."""
    conn = conn or default_connection
    if conn.vendor not in ("postgresql", "sqlite"):
        return False
    tables = set(conn.introspection.table_names())
    if TICKETS not in tables or LOADS not in tables:
        return False
    wanted = set(TRIGGERS if conn.vendor == "postgresql" else SQLITE_TRIGGERS)
    if wanted <= _present(conn):
        if not _has_index(conn):
            with conn.cursor() as cur:
                cur.execute(_index_sql())
        return False
    install(conn)
    return True


def recount(conn: Any = None) -> None:
    """Rebuild the counters from the tickets (repair; the triggers keep them exact)."""
    conn = conn or default_connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"LOCK TABLE {TICKETS} IN SHARE ROW EXCLUSIVE MODE")
        for sql in _recount_sql():
            cur.execute(sql)


def counted(conn: Any = None) -> dict[tuple[int, str], int]:
    """The counters as stored, without zeros: ``{(agent id, priority): open tickets}``."""
    conn = conn or default_connection
    with conn.cursor() as cur:
        cur.execute(f"SELECT agent_id, priority, open_count FROM {LOADS} WHERE open_count <> 0")  # noqa: S608
        return {(int(a), str(p)): int(n) for a, p, n in cur.fetchall()}


def actual(conn: Any = None) -> dict[tuple[int, str], int]:
    """The same counted from the tickets (what ``counted`` must equal)."""
    conn = conn or default_connection
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT assignee_id, priority, COUNT(*) FROM {TICKETS} "  # noqa: S608 - constant names
            f"WHERE assignee_id IS NOT NULL AND status IN ({_OPEN}) GROUP BY assignee_id, priority"
        )
        return {(int(a), str(p)): int(n) for a, p, n in cur.fetchall()}


def int_array(ids: list[int]) -> str:
    """A PostgreSQL array literal of integers (sent as one text parameter and cast in SQL:
    cheaper to send than an adapted list of hundreds of ints)."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


@dataclass(frozen=True)
class Fresh:
    """What one routing decision reads of the database (``fresh``)."""

    state: dict[int, rt.State]  # agents with a routing profile or open tickets of the priority
    recent: frozenset[int]  # who handled the organisation recently (of those asked)
    stamps: stamps.Stamps  # the cache stamps, as of the same snapshot


def _pg_cursor(conn: Any) -> psycopg.Cursor[Any]:
    """A plain psycopg cursor (server-side parameters, so statements can be prepared) on
    Django's connection (same transaction), kept with that connection: making one per
    decision costs more than the statement's own client work."""
    conn.ensure_connection()
    raw = conn.connection
    found = getattr(conn, "_routing_cursor", None)
    if found is None or found[0] is not raw or found[1].closed:
        found = (raw, psycopg.Cursor(raw))
        conn._routing_cursor = found
    return found[1]


def _fresh_sql(vendor: str) -> str:
    if vendor == "postgresql":
        source, agent = "unnest(CAST(%s AS bigint[])) AS a(id)", "a.id"
    else:
        source, agent = "json_each(%s) AS a", "a.value"
    return (
        f"SELECT {agent}, COALESCE(l.open_count, 0), p.presence, p.last_assigned_at, "  # noqa: S608 - constant names
        f"CASE WHEN {agent} IN (SELECT {'x' if vendor == 'postgresql' else 'value'} FROM "
        f"{'unnest(CAST(%s AS bigint[])) AS r(x)' if vendor == 'postgresql' else 'json_each(%s)'}) "
        f"THEN EXISTS (SELECT 1 FROM {TICKETS} t WHERE t.organisation_id = %s "
        f"AND t.assignee_id = {agent} AND t.updated_at >= %s AND t.id <> %s) END "
        f"FROM {source} LEFT JOIN {LOADS} l ON l.priority = %s AND l.agent_id = {agent} "
        f"LEFT JOIN {PROFILES} p ON p.user_id = {agent} "
        f"UNION ALL SELECT 0, staff, NULL, NULL, NULL FROM {stamps.TABLE} WHERE id = 1 "
        f"UNION ALL SELECT -1, schedules, NULL, NULL, NULL FROM {stamps.TABLE} WHERE id = 1"
    )


_SQL = {vendor: _fresh_sql(vendor) for vendor in ("postgresql", "sqlite")}


def fresh(
    ids: str,
    priority: str,
    organisation_id: int | None,
    since: datetime,
    exclude_ticket: int | None,
    ask: str,
    conn: Any = None,
) -> Fresh:
    """One statement, one round trip: for the agents ``ids`` (an ``id_list``), their presence
    and last assignment (the routing profile), their open tickets of ``priority`` (the
    counters); for the agents ``ask`` (an ``id_list`` too), whether they hold a ticket of the
    organisation updated since ``since`` other than ``exclude_ticket`` (continuity, one probe
    of the ``(organisation, assignee, updated_at)`` index each); and the cache stamps.

    On PostgreSQL it is a prepared statement (planned once per connection) with results in
    binary (cheaper to read), sent with a plain psycopg cursor on Django's connection (same
    transaction)."""
    conn = conn or default_connection
    org = organisation_id if organisation_id is not None else -1
    params = [ask, org, since, exclude_ticket or 0, ids, priority]
    rows = _run(conn, _SQL, params)
    state: dict[int, rt.State] = {}
    recent: list[int] = []
    staff = schedules = 0
    for uid, n, presence, last, was_recent in rows:
        if uid > 0:
            if last is not None:
                last = _timestamp(last)
            state[uid] = (presence or rt.AVAILABLE, last, n)
            if was_recent:
                recent.append(uid)
        elif uid == 0:
            staff = int(n)
        else:
            schedules = int(n)
    return Fresh(state, frozenset(recent), (staff, schedules))


def _recent_sql(vendor: str) -> str:
    source, agent = (
        ("unnest(CAST(%s AS bigint[])) AS a(id)", "a.id")
        if vendor == "postgresql"
        else ("json_each(%s) AS a", "a.value")
    )
    return (
        f"SELECT {agent} FROM {source} WHERE EXISTS (SELECT 1 FROM {TICKETS} t "  # noqa: S608 - constant names
        f"WHERE t.organisation_id = %s AND t.assignee_id = {agent} AND t.updated_at >= %s AND t.id <> %s)"
    )


_RECENT_SQL = {vendor: _recent_sql(vendor) for vendor in ("postgresql", "sqlite")}


def recent(
    ask: str,
    organisation_id: int | None,
    since: datetime,
    exclude_ticket: int | None,
    conn: Any = None,
) -> set[int]:
    """Continuity alone, as ``fresh`` asks it: who of ``ask`` (an ``id_list``) holds a ticket
    of the organisation updated since ``since`` other than ``exclude_ticket``."""
    conn = conn or default_connection
    org = organisation_id if organisation_id is not None else -1
    params = [ask, org, since, exclude_ticket or 0]
    return {int(r[0]) for r in _run(conn, _RECENT_SQL, params)}


def _claim_sql(vendor: str) -> str:
    lock = " FOR UPDATE" if vendor == "postgresql" else ""
    return f"SELECT open_count FROM {LOADS} WHERE agent_id = %s AND priority = %s{lock}"  # noqa: S608


_CLAIM_SQL = {vendor: _claim_sql(vendor) for vendor in ("postgresql", "sqlite")}
_CLAIM_ROW_SQL = (
    f"INSERT INTO {LOADS} (agent_id, priority, open_count) VALUES (%s, %s, 0) "  # noqa: S608
    "ON CONFLICT (priority, agent_id) DO NOTHING"
)


def claim(agent_id: int, priority: str, conn: Any = None) -> int:
    """Lock ``agent_id``'s counter of open ``priority`` tickets until the end of the current
    transaction and return it as it is now: another transaction assigning a ticket of that
    priority to the agent (its trigger writes the same row) waits until this one ends, and a
    claim waits for theirs and then reads what they committed.  Routing claims the agent it
    chose before it writes, and takes them only while the claimed count is under capacity.

    PostgreSQL: ``SELECT … FOR UPDATE`` on the counter row (one prepared statement; a missing
    row is first inserted at 0, so there is always a row to lock).  SQLite: a plain read; a
    write transaction already holds the database's write lock from its ``BEGIN IMMEDIATE``,
    so no other writer runs between this read and the commit."""
    conn = conn or default_connection
    if not conn.in_atomic_block:
        raise RuntimeError("loads.claim outside a transaction would hold nothing")
    params = [agent_id, priority]
    rows = _run(conn, _CLAIM_SQL, params)
    if not rows and conn.vendor == "postgresql":
        with conn.cursor() as c:
            c.execute(_CLAIM_ROW_SQL, params)
        rows = _run(conn, _CLAIM_SQL, params)
    return int(rows[0][0]) if rows else 0


def _run(conn: Any, sql: dict[str, str], params: list[Any]) -> list[Any]:
    """One routing statement: on PostgreSQL prepared once per connection, binary results."""
    if conn.vendor == "postgresql":
        cur = _pg_cursor(conn)
        cur.execute(sql["postgresql"], params, prepare=True, binary=True)
        return list(cur.fetchall())
    with conn.cursor() as c:
        c.execute(sql[conn.vendor], params)
        return list(c.fetchall())


def _timestamp(value: Any) -> float:
    if isinstance(value, str):  # SQLite keeps UTC wall times as text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # (and Django's SQLite converter may hand them over naive)
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


def id_list(ids: list[int], vendor: str) -> str:
    """``ids`` as one parameter: a PostgreSQL array literal or a JSON array (SQLite)."""
    if vendor == "postgresql":
        return int_array(ids)
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
