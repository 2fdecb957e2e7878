"""SQLite's planner statistics: the worker refreshes them (bounded cost, at most hourly per
process), so an agent's queue walks the urgency index instead of sorting every open ticket."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from relaydesk.core import dbstats, periodic


def _stat_tables() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {r[0] for r in cur.fetchall()}


@pytest.mark.django_db
def test_refresh_fills_the_statistics_and_is_throttled(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "sqlite":
        assert dbstats.refresh(force=True) == {}  # PostgreSQL's autovacuum does this itself
        return
    from relaydesk.tickets.services import create_ticket

    for i in range(3):
        create_ticket(actor=world.alice, requester=world.alice, subject=f"t{i}", description="x")
    monkeypatch.setattr(dbstats, "_last", [float("-inf")])
    assert dbstats.refresh()["analyzed"] is True
    assert "tickets_ticket" in _stat_tables()
    assert dbstats.refresh() == {}  # within the hour: nothing
    assert dbstats.refresh(force=True)["analyzed"] is True
    assert periodic.registered()["sqlite_statistics"] is dbstats.refresh
