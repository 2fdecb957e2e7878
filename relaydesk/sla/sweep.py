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

from relaydesk.notify import notices
from relaydesk.tickets.models import Ticket

from . import engine

log = logging.getLogger(__name__)

SWEEP_FIELDS: list[str] | None = None


def sweep(now: datetime | None = None, batch: int = 500, max_batches: int = 1000) -> int:
    """One pass; returns the number of events emitted."""
    now = now or datetime.now(UTC)
    t = engine.now_us(now)
    emitted = 0
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _ in range(max_batches):
        with transaction.atomic():
            qs = (
                Ticket.objects.filter(sla_next_event_at__lte=now)
                .select_related(
                    "sla_rule", "sla_calendar", "organisation", "team__lead", "assignee"
                )
                .order_by("sla_next_event_at")
            )
            if skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            tickets = list(qs[:batch])
            for ticket in tickets:
                clocks = engine.clocks_from_ticket(ticket)
                events = []
                for c in clocks.values():
                    events += c.sweep(t)
                fields = engine.clocks_to_ticket(ticket, clocks)
                ticket.save(update_fields=fields)
                stored = engine.record_events(ticket, events)
                notices.clock_events(ticket, stored)
                emitted += len(stored)
        if len(tickets) < batch:
            break
    if emitted:
        log.info("SLA sweep emitted %s events", emitted)
    return emitted
