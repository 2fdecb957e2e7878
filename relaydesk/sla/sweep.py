"""The SLA sweep: find tickets whose warning or breach instant has passed and emit each
event exactly once.

It reads ``sla_next_event_at <= now`` through a partial index, so its cost grows with the
number of tickets that are due, not with the number of open tickets. Two sweeps may run at
the same time: on PostgreSQL each takes the rows it can lock (``SKIP LOCKED``) and re-checks
them; on SQLite writers are serialised. Events of the kinds that may happen once per cycle
are additionally guarded by a unique constraint, so a re-run after a crash emits nothing
twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import QuerySet

from relaydesk.domain import clock as clk
from relaydesk.notify import notices
from relaydesk.tickets.models import Ticket

from . import engine

log = logging.getLogger(__name__)

def _update_changed(tickets: list[Ticket], before: dict[int, dict[str, object]], fields: list[str]) -> None:
    """Write only the columns the sweep changed, one prepared statement per set of changed
    columns (``executemany``) instead of a full save per ticket."""
    groups: dict[tuple[str, ...], list[Ticket]] = {}
    for t in tickets:
        changed = tuple(f for f in fields if getattr(t, f) != before[t.pk][f])
        if changed:
            groups.setdefault(changed, []).append(t)
    if not groups:
        return
    meta = Ticket._meta
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        for changed, group in groups.items():
            cols = [meta.get_field(f) for f in changed]
            sets = ", ".join(f"{qn(c.column)} = %s" for c in cols)
            sql = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608 - names from the model
            params = [[c.get_db_prep_save(getattr(t, c.attname), connection) for c in cols] + [t.pk] for t in group]
            cur.executemany(sql, params)


def due_tickets(now: datetime) -> QuerySet[Ticket]:
    """The tickets with a clock event due by ``now``, soonest first: a range read of the
    partial index ``ticket_sla_next_event`` (tests/test_sweep_plan.py checks the plan), so a
    pass costs what is due, not what is open."""
    return (
        Ticket.objects.filter(sla_next_event_at__lte=now)
        .select_related("sla_rule", "sla_calendar", "organisation", "team__lead", "assignee")
        .order_by("sla_next_event_at")
    )


def sweep(now: datetime | None = None, batch: int = 500, max_batches: int = 1000) -> int:
    """One pass; returns the number of events emitted."""
    now = now or datetime.now(UTC)
    t = engine.now_us(now)
    emitted = 0
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _ in range(max_batches):
        with transaction.atomic():
            qs = due_tickets(now)
            if skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            tickets = list(qs[:batch])
            work: list[tuple[Ticket, list[clk.ClockEvent]]] = []
            before: dict[int, dict[str, object]] = {}
            fields = engine.clock_fields()
            for ticket in tickets:
                clocks = engine.clocks_from_ticket(ticket)
                before[ticket.pk] = {f: getattr(ticket, f) for f in fields}
                events: list[clk.ClockEvent] = []
                for c in clocks.values():
                    events += c.sweep(t)
                engine.clocks_to_ticket(ticket, clocks)
                work.append((ticket, events))
            _update_changed(tickets, before, fields)
            stored = engine.record_events_batch(work)
            notes = notices.Batch()
            for ticket in tickets:
                notices.clock_events(ticket, stored[ticket.pk], batch=notes)
                emitted += len(stored[ticket.pk])
            notes.flush()
        if len(tickets) < batch:
            break
    if emitted:
        log.info("SLA sweep emitted %s events", emitted)
    return emitted
