"""Keeping the fact table (one ``TicketFact`` per ticket) in step with the tickets.

- Incremental: receivers of ``ticket_created``, ``message_added`` and ``ticket_changed``
  re-compute the ticket's fact inside the change's transaction (in a savepoint: a failure
  here is logged and never refuses the ticket change).
- Catch-up: ``catch_up`` (registered as the periodic ``reports_facts``) re-computes the
  facts of tickets that have clock events after a cursor; this brings in what the SLA sweep
  changed (warnings, breaches), which sends no ticket signal. Idempotent; one worker at a time
  holds the cursor row (``SKIP LOCKED``), others skip.
- Rebuild: ``rebuild`` re-computes every fact in chunks of ticket ids
  (``relaydesk manage reports rebuild``).

Every path computes rows with the same ``_fact_row`` from the same SELECT, so an
incrementally kept table equals a rebuilt one. A fact is a probe (``is_probe``) when the
ticket's requester is an enrolled ``ProbeAccount``; enrolling or withdrawing an account
re-computes the facts of its tickets (``refresh_requester``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, transaction

from relaydesk.domain.calendar import to_us

from . import stats
from .models import FactCursor, ProbeAccount, TicketFact

log = logging.getLogger(__name__)

PROBE_TAG = "audit-probe"  # a label for agents on probe tickets; not what makes a probe
CURSOR = "clock_events"
CATCH_UP_LAG_S = 60

# Columns of the fact table in insert order (the primary key ``ticket_id`` first).
FACT_COLUMNS = (
    "ticket_id",
    "organisation_id",
    "created_s",
    "resolved_s",
    "is_probe",
    "priority",
    "channel",
    "language",
    "plan_id",
    "region_id",
    "team_id",
    "frt_outcome",
    "frt_target_s",
    "frt_wall_s",
    "frt_wall_q",
    "frt_business_s",
    "frt_business_q",
    "ttr_outcome",
    "ttr_target_s",
    "ttr_wall_s",
    "ttr_wall_q",
    "ttr_business_s",
    "ttr_business_q",
)

_SOURCE = """
SELECT t.id, t.organisation_id, t.created_at, t.solved_at, t.closed_at, t.priority, t.channel,
       o.language, o.plan_id, COALESCE(t.region_id, o.home_region_id), t.team_id,
       t.frt_state, t.frt_target_us, t.frt_spent_us, t.frt_met_at, t.frt_breached,
       t.ttr_state, t.ttr_target_us, t.ttr_spent_us, t.ttr_met_at, t.ttr_breached,
       {probe}
FROM tickets_ticket t JOIN core_organisation o ON o.id = t.organisation_id
"""


def _us(value: Any) -> int | None:
    """A datetime column as epoch microseconds (raw SQLite cursors give text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return to_us(value)


def _fact_row(src: Sequence[Any]) -> tuple[Any, ...]:
    (tid, org_id, created, solved, closed, priority, channel, language, plan_id, region_id, team_id,
     f_state, f_target, f_spent, f_met, f_breached,
     r_state, r_target, r_spent, r_met, r_breached, probe) = src  # fmt: skip
    created_us = _us(created)
    assert created_us is not None
    solved_us = _us(solved)
    frt = stats.measure(
        stats.ClockColumns(f_state, f_target, f_spent or 0, _us(f_met), bool(f_breached)),
        created_us,
        _us(f_met),
    )
    # The resolution clock is met when the ticket is solved; a re-opened and re-solved
    # ticket counts until its last solve (its business time kept across the re-opening).
    ttr = stats.measure(
        stats.ClockColumns(r_state, r_target, r_spent or 0, _us(r_met), bool(r_breached)),
        created_us,
        solved_us if solved_us is not None else _us(r_met),
    )
    resolved = stats.resolved_us(solved_us, _us(closed))
    return (
        tid,
        org_id,
        created_us // 1_000_000,
        None if resolved is None else resolved // 1_000_000,
        bool(probe),
        priority,
        channel,
        language,
        plan_id,
        region_id,
        team_id,
        frt.outcome,
        frt.target_s,
        frt.wall_s,
        stats.quantise(frt.wall_s),
        frt.business_s,
        stats.quantise(frt.business_s),
        ttr.outcome,
        ttr.target_s,
        ttr.wall_s,
        stats.quantise(ttr.wall_s),
        ttr.business_s,
        stats.quantise(ttr.business_s),
    )


# A probe is a ticket whose requester is an enrolled probe account (``ProbeAccount``), never
# a ticket that merely carries the ``audit-probe`` tag: any customer can set tags, and a
# customer's ticket must not leave the customer metrics because of one.
_PROBE_SQL = f"EXISTS (SELECT 1 FROM {ProbeAccount._meta.db_table} pa WHERE pa.user_id = t.requester_id)"  # noqa: S608 - constant names


def _source_sql(where: str, *, lock: bool = False) -> tuple[str, list[Any]]:
    sql = _SOURCE.format(probe=_PROBE_SQL) + " WHERE " + where
    if lock and connection.vendor == "postgresql":
        # Writers take the ticket row FOR UPDATE, so a change cannot commit between this
        # read and the write of its fact.
        sql += " FOR SHARE OF t"
    return sql, []


def compute(where: str, params: Sequence[Any], *, lock: bool = False) -> list[tuple[Any, ...]]:
    """Fact rows of the tickets matching ``where`` (SQL over alias ``t``)."""
    sql, probe_params = _source_sql(where, lock=lock)
    with connection.cursor() as cur:
        cur.execute(sql, [*probe_params, *params])
        return [_fact_row(r) for r in cur.fetchall()]


def _upsert(rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    cols = ", ".join(FACT_COLUMNS)
    one = "(" + ", ".join(["%s"] * len(FACT_COLUMNS)) + ")"
    sets = ", ".join(f"{c} = excluded.{c}" for c in FACT_COLUMNS[1:])
    table = TicketFact._meta.db_table
    with connection.cursor() as cur:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            cur.execute(
                f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608 - constant names
                f"ON CONFLICT (ticket_id) DO UPDATE SET {sets}",
                [v for row in chunk for v in row],
            )


def refresh(ticket_ids: Iterable[int]) -> int:
    """Re-compute the facts of these tickets (missing tickets are skipped)."""
    ids = sorted(set(ticket_ids))
    done = 0
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        marks = ", ".join(["%s"] * len(chunk))
        rows = compute(f"t.id IN ({marks})", chunk)
        _upsert(rows)
        done += len(rows)
    return done


def refresh_requester(user_id: int) -> int:
    """Re-compute the facts of every ticket this user requested (after the user was enrolled
    as a probe account or withdrawn)."""
    from relaydesk.tickets.models import Ticket

    return refresh(Ticket.objects.filter(requester_id=user_id).values_list("pk", flat=True))


# -- incremental: ticket signals ----------------------------------------------------------------


def _on_ticket(ticket: Any) -> None:
    try:
        with transaction.atomic():
            refresh([ticket.pk])
    except DatabaseError:
        # Never refuse a ticket change because of a report; the next change, the catch-up or
        # a rebuild writes the fact.
        log.exception("reports: could not refresh the fact of ticket %s", ticket.pk)


def on_ticket_created(sender: Any, ticket: Any, **kwargs: Any) -> None:
    _on_ticket(ticket)


def on_message_added(sender: Any, ticket: Any, **kwargs: Any) -> None:
    _on_ticket(ticket)


def on_ticket_changed(sender: Any, ticket: Any, **kwargs: Any) -> None:
    _on_ticket(ticket)


# -- catch-up from the clock event log -------------------------------------------------------------


def catch_up(now: datetime | None = None, batch: int = 2000, max_batches: int = 20, lag_s: int = CATCH_UP_LAG_S) -> int:
    """Re-compute the facts of tickets with clock events after the cursor; returns how many
    facts were written. The cursor only moves past events older than ``lag_s`` (a
    transaction still open may commit an event with a smaller id); younger ones are
    processed again next time, which is harmless."""
    now = now or datetime.now(UTC)
    safe_before = now - timedelta(seconds=lag_s)
    FactCursor.objects.get_or_create(name=CURSOR)
    written = 0
    from relaydesk.sla.models import ClockEvent

    for _ in range(max_batches):
        with transaction.atomic():
            qs = FactCursor.objects.filter(name=CURSOR)
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            cur = qs.first()
            if cur is None:
                return written  # another worker holds it
            events = list(
                ClockEvent.objects.filter(pk__gt=cur.last_event_id)
                .order_by("pk")
                .values_list("pk", "ticket_id", "recorded_at")[:batch]
            )
            if not events:
                return written
            written += refresh(e[1] for e in events)
            advance = cur.last_event_id
            young = False
            for pk, _tid, recorded in events:
                if recorded > safe_before:
                    young = True
                    break
                advance = pk
            if advance != cur.last_event_id:
                cur.last_event_id = advance
                cur.save(update_fields=["last_event_id", "updated_at"])
        if young or len(events) < batch:
            break
    return written


def periodic() -> dict[str, int]:
    return {"facts": catch_up()}


# -- full rebuild -------------------------------------------------------------------------------------


def _write_chunk(lo: int, hi: int) -> int:
    """Replace the facts of tickets with ids in (lo, hi]."""
    table = TicketFact._meta.db_table
    with transaction.atomic():
        rows = compute("t.id > %s AND t.id <= %s", [lo, hi], lock=True)
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {table} WHERE ticket_id > %s AND ticket_id <= %s", [lo, hi])  # noqa: S608
            if not rows:
                return 0
            if connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {table} ({', '.join(FACT_COLUMNS)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(FACT_COLUMNS))
                cur.executemany(f"INSERT INTO {table} ({', '.join(FACT_COLUMNS)}) VALUES ({marks})", rows)  # noqa: S608
    return len(rows)


def rebuild(chunk: int = 20_000, progress: Any = None) -> dict[str, float]:
    """Re-compute every fact (chunks of ticket ids, one transaction each) and move the
    catch-up cursor to the last clock event seen at the start."""
    from relaydesk.sla.models import ClockEvent
    from relaydesk.tickets.models import Ticket

    started = time.perf_counter()
    last_event = ClockEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    max_id = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    table = TicketFact._meta.db_table
    with connection.cursor() as cur:  # facts of tickets beyond the last id (none, normally)
        cur.execute(f"DELETE FROM {table} WHERE ticket_id > %s", [max_id])  # noqa: S608
    written = 0
    lo = 0
    while lo < max_id:
        hi = min(lo + chunk, max_id)
        written += _write_chunk(lo, hi)
        lo = hi
        if progress is not None:
            progress(written, max_id)
    FactCursor.objects.update_or_create(name=CURSOR, defaults={"last_event_id": last_event})
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {table}")
    return {"facts": written, "seconds": round(time.perf_counter() - started, 3)}
