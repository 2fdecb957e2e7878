"""Routing at the same moment from many connections never takes an agent past their capacity.

Each thread has its own database connection (Django's connections are per thread) and routes
its own ticket; a barrier starts them together.  On PostgreSQL a second barrier holds every
thread right after its first choice, before anything is written, so all of them have read the
same loads and picked the same agent: without a lock taken on the chosen agent and the load
read again under it, every ticket would go to that agent.  On SQLite a routing transaction
holds the database's write lock from its first statement (``BEGIN IMMEDIATE``), so a thread
cannot be held inside it while the others read: there the test checks that the loads are read
under that lock, and that the threads' outcome is the same."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from relaydesk.domain import routing as rt
from relaydesk.routing import loads
from relaydesk.routing import services as routing
from relaydesk.routing.models import AgentProfile, Assignment
from relaydesk.tickets import services
from relaydesk.tickets.models import Ticket
from relaydesk.tickets.services import TicketError

from .conftest import make_team_member, rotation, utc

pytestmark = pytest.mark.django_db(transaction=True)

PG = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: row locks")
SQLITE = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite: the write lock")


SATURDAY = utc(2026, 11, 28, 12)  # nobody on shift: tickets wait unassigned
SG_DAY = utc(2026, 12, 2, 3)  # Wednesday 11:00 in Singapore: Mei (and Tom) on shift
THREADS = 6
CAPACITY = 2


def queued_tickets(w: Any, n: int) -> list[int]:
    """``n`` unassigned P3 tickets of Panda (zh-Hans), created while nobody was on shift."""
    ids = []
    for i in range(n):
        t = services.create_ticket(
            actor=w.bob,
            requester=w.bob,
            subject=f"Stream stutters {i}",
            priority="P3",
            now=SATURDAY,
        )
        assert t.assignee_id is None
        ids.append(t.pk)
    return ids


def with_tom(w: Any) -> Any:
    """Tom, on shift with Mei but without Chinese: the second choice for Panda's tickets."""
    tom = make_team_member(w.apac, "tom@relaydesk.test", "Tom", ["en"])
    rotation(
        w.apac,
        "SG day 2",
        [tom],
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9",
        "2026-01-05T09:00:00",
        9 * 60,
    )
    return tom


def limit(*agents: Any) -> None:
    for a in agents:
        AgentProfile.objects.create(user=a, capacity={"P1": 1, "P2": 4, "P3": CAPACITY, "P4": 10})


def hold_after_first(monkeypatch: Any, target: Any, name: str, parties: int) -> threading.Barrier:
    """Make each thread wait for all the others right after its first call of ``target.name``."""
    barrier = threading.Barrier(parties)
    original = getattr(target, name)
    local = threading.local()

    def held(*a: Any, **kw: Any) -> Any:
        out = original(*a, **kw)
        if not getattr(local, "done", False):
            local.done = True
            barrier.wait(timeout=30)
        return out

    monkeypatch.setattr(target, name, held)
    return barrier


def at_once(work: Any, ids: list[int]) -> list[Any]:
    """``work(ticket)`` for every ticket, each in its own thread with its own connection,
    started together; returns each result or the exception it raised."""
    start = threading.Barrier(len(ids))

    def one(pk: int) -> Any:
        try:
            ticket = Ticket.objects.select_related("organisation__account_manager", "region").get(
                pk=pk
            )
            start.wait(timeout=30)
            return work(ticket)
        except Exception as e:  # the caller looks at it
            return e
        finally:
            connection.close()

    with ThreadPoolExecutor(len(ids)) as pool:
        return list(pool.map(one, ids))


def route(ticket: Ticket) -> Assignment:
    return routing.route_ticket(ticket, trigger="queue", now=SG_DAY)


def check_routed(w: Any, tom: Any, results: list[Any]) -> None:
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    owners = Counter(
        Ticket.objects.filter(pk__in=[a.ticket_id for a in results]).values_list(
            "assignee_id", flat=True
        )
    )
    # Mei first (she speaks Chinese), Tom next; whoever is left waits in the queue.
    assert owners == {w.agent.pk: CAPACITY, tom.pk: CAPACITY, None: THREADS - 2 * CAPACITY}
    assert loads.counted() == loads.actual()
    assert loads.counted()[(w.agent.pk, "P3")] == CAPACITY
    # The stored reasons show the load each assignment was made at, never a stale one.
    for agent in (w.agent, tom):
        made = Assignment.objects.filter(agent=agent, trigger="queue").values_list(
            "summary", flat=True
        )
        labels = sorted(part for s in made for part in s.split("; ") if part.startswith("load "))
        assert labels == [f"load {i}/{CAPACITY}" for i in range(CAPACITY)], made
    queued = Assignment.objects.filter(agent__isnull=True, trigger="queue")
    assert queued.count() == THREADS - 2 * CAPACITY
    assert all("at capacity" in a.summary for a in queued), [a.summary for a in queued]


@PG
def test_simultaneous_decisions_never_overfill_an_agent_on_postgresql(
    shifts: Any, monkeypatch: Any
) -> None:
    w = shifts
    tom = with_tom(w)
    limit(w.agent, tom)
    ids = queued_tickets(w, THREADS)
    # Every thread chooses before any of them writes: all read Mei at 0/2 and pick her.
    decided = hold_after_first(monkeypatch, rt, "choose_from", THREADS)
    results = at_once(route, ids)
    assert not decided.broken
    check_routed(w, tom, results)


def watch_reads(monkeypatch: Any) -> list[bool]:
    """For every read of the loads: whether the connection holds the database's write lock
    inside the transaction that will write the assignment."""
    under_lock: list[bool] = []
    fresh = loads.fresh

    def watched(*a: Any, **kw: Any) -> Any:
        held = connection._write_lock_held  # type: ignore[attr-defined]
        under_lock.append(connection.in_atomic_block and held)
        return fresh(*a, **kw)

    monkeypatch.setattr(loads, "fresh", watched)
    return under_lock


@SQLITE
def test_simultaneous_decisions_never_overfill_an_agent_on_sqlite(
    shifts: Any, monkeypatch: Any
) -> None:
    w = shifts
    tom = with_tom(w)
    limit(w.agent, tom)
    ids = queued_tickets(w, THREADS)
    under_lock = watch_reads(monkeypatch)
    results = at_once(route, ids)
    assert len(under_lock) >= THREADS and all(under_lock), under_lock
    check_routed(w, tom, results)


def test_simultaneous_round_robin_never_overfills_an_agent(shifts: Any, monkeypatch: Any) -> None:
    w = shifts  # Mei is the only APAC member on shift
    limit(w.agent)
    ids = queued_tickets(w, 4)
    if connection.vendor == "postgresql":  # every thread reads the loads before any writes
        decided = hold_after_first(monkeypatch, routing.Pool, "agents", 4)
    else:  # every thread reads them under the write lock
        under_lock = watch_reads(monkeypatch)
    results = at_once(
        lambda t: routing.assign_round_robin(t, w.apac, actor=w.lead, now=SG_DAY), ids
    )
    if connection.vendor == "postgresql":
        assert not decided.broken
    else:
        assert len(under_lock) == 4 and all(under_lock), under_lock
    refused = [r for r in results if isinstance(r, TicketError)]
    assert len(refused) == 4 - CAPACITY and all(r.status == 409 for r in refused), results
    assert Ticket.objects.filter(pk__in=ids, assignee=w.agent).count() == CAPACITY
    assert loads.counted() == loads.actual()
