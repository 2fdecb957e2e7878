"""The SLA sweep reads only what is due: its query is a range read of the partial index on
``sla_next_event_at`` on both databases (checked with the database's own EXPLAIN)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from relaydesk.sla.sweep import due_tickets
from relaydesk.tickets import services

pytestmark = pytest.mark.django_db

INDEX = "ticket_sla_next_event"


def _plan() -> str:
    qs = due_tickets(datetime.now(UTC))
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    sql, params = qs[:500].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # A test database holds a handful of rows, where a sequential scan is cheaper;
            # with it off, the plan shows whether the index *can* serve the query at all.
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(f"EXPLAIN {sql}", params)
        else:
            cur.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        rows = cur.fetchall()
        transaction.set_rollback(True)
    return "\n".join(str(r[-1]) for r in rows)


def test_sweep_query_is_a_range_read_of_the_partial_index(world) -> None:
    for i in range(5):
        services.create_ticket(actor=world.alice, requester=world.alice, subject=f"t{i}", priority="P2")
    plan = _plan()
    if connection.vendor == "postgresql":
        # an index scan, or a bitmap scan of it, with the due time as the index condition
        assert f"Index Scan using {INDEX}" in plan or f"Bitmap Index Scan on {INDEX}" in plan, plan
        assert "Index Cond: (sla_next_event_at <=" in plan, plan
    else:
        assert f"SEARCH tickets_ticket USING INDEX {INDEX} (sla_next_event_at<?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # the index order is the ORDER BY
