"""The open-ticket counters routing reads (``routing_agentload``, kept by database triggers):
after every kind of ticket write — routing on creation, manual re-assignment, priority change,
solve, close, reopen, handover at a shift end, bulk writes, deletes — they equal a count of the
tickets themselves, and the decision reads them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection

from relaydesk.routing import loads
from relaydesk.routing import services as routing
from relaydesk.routing.models import AgentProfile
from relaydesk.tickets import services
from relaydesk.tickets.models import Ticket

from .conftest import make_team_member, utc

SG_DAY = utc(2026, 12, 2, 3)  # Mei on (Singapore), Jonas off (Berlin)
DE_DAY = utc(2026, 12, 2, 10)  # Mei off, Jonas on


def new(who: Any, at: Any, **kw: Any) -> Ticket:
    return services.create_ticket(
        actor=who, requester=who, subject=kw.pop("subject", "Stream stutters"), now=at, **kw
    )


def agree() -> dict[tuple[int, str], int]:
    stored = loads.counted()
    assert stored == loads.actual()
    return stored


def test_counters_follow_routing_reassignment_priority_solve_close_and_reopen(shifts: Any) -> None:
    w = shifts
    assert agree() == {}
    a = new(w.bob, SG_DAY, priority="P2")
    b = new(w.bob, SG_DAY, priority="P2")
    assert a.assignee == w.agent and b.assignee == w.agent
    assert agree() == {(w.agent.pk, "P2"): 2}
    routing.assign_manually(b, w.agent_emea, actor=w.lead, now=SG_DAY)
    assert agree() == {(w.agent.pk, "P2"): 1, (w.agent_emea.pk, "P2"): 1}
    services.update_ticket(a, actor=w.agent, changes={"priority": "P1"}, now=SG_DAY)
    assert agree() == {(w.agent.pk, "P1"): 1, (w.agent_emea.pk, "P2"): 1}
    services.update_ticket(a, actor=w.agent, changes={"status": "pending_customer"}, now=SG_DAY)
    assert agree()[(w.agent.pk, "P1")] == 1  # pending the customer is still open work
    services.update_ticket(a, actor=w.agent, changes={"status": "solved"}, now=SG_DAY)
    assert agree() == {(w.agent_emea.pk, "P2"): 1}
    services.update_ticket(b, actor=w.agent_emea, changes={"status": "closed"}, now=SG_DAY)
    assert agree() == {}
    services.update_ticket(a, actor=w.agent, changes={"status": "open"}, now=SG_DAY)
    assert agree() == {(w.agent.pk, "P1"): 1}
    routing.assign_manually(a, None, actor=w.lead, now=SG_DAY)
    assert agree() == {}


def test_counters_follow_handover_at_shift_end(shifts: Any) -> None:
    w = shifts
    t = new(w.carol, SG_DAY, priority="P3")
    assert t.assignee == w.agent
    assert agree() == {(w.agent.pk, "P3"): 1}
    assert routing.handover_sweep(now=DE_DAY)["handed_over"] == 1
    t.refresh_from_db()
    assert t.assignee == w.agent_emea
    assert agree() == {(w.agent_emea.pk, "P3"): 1}


def test_counters_follow_bulk_writes_and_deletes(shifts: Any) -> None:
    w = shifts
    t = new(w.bob, SG_DAY, priority="P3")
    rows = Ticket.objects.bulk_create(
        [
            Ticket(
                number=900 + i,
                subject="bulk",
                organisation=w.panda,
                requester=w.bob,
                assignee=w.agent_emea,
                priority="P4",
                status=status,
            )
            for i, status in enumerate(["new", "open", "solved", "on_hold"])
        ]
    )
    assert agree()[(w.agent_emea.pk, "P4")] == 3
    Ticket.objects.filter(pk__in=[r.pk for r in rows]).update(assignee=w.agent)
    assert agree() == {(w.agent.pk, "P3"): 1, (w.agent.pk, "P4"): 3}
    Ticket.objects.filter(pk=rows[0].pk).delete()
    Ticket.objects.filter(pk=t.pk).update(status="solved")
    assert agree() == {(w.agent.pk, "P4"): 2}


def test_missing_triggers_are_reinstalled_and_the_counters_rebuilt(shifts: Any) -> None:
    w = shifts
    new(w.bob, SG_DAY, priority="P2")
    loads.uninstall(
        index=False
    )  # (PostgreSQL cannot create an index inside this test's transaction)
    try:
        new(w.bob, SG_DAY, priority="P2")  # not counted: no triggers
        assert loads.counted() != loads.actual()
    finally:
        assert loads.ensure(connection) is True
    assert agree() == {(w.agent.pk, "P2"): 2}
    assert loads.ensure(connection) is False  # all present: nothing to do
    new(w.bob, SG_DAY, priority="P2")
    assert agree() == {(w.agent.pk, "P2"): 3}


def test_decision_reads_the_counters_for_capacity(shifts: Any) -> None:
    w = shifts
    tom = make_team_member(w.apac, "tom@relaydesk.test", "Tom", ["en", "zh-Hans"])
    from .conftest import rotation

    rotation(
        w.apac,
        "SG day 2",
        [tom],
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9",
        "2026-01-05T09:00:00",
        9 * 60,
    )
    AgentProfile.objects.create(user=w.agent, capacity={"P1": 1, "P2": 4, "P3": 8, "P4": 10})
    AgentProfile.objects.create(user=tom, capacity={"P1": 1, "P2": 4, "P3": 8, "P4": 10})
    first = new(w.bob, SG_DAY, priority="P1")
    second = new(w.bob, SG_DAY, priority="P1")
    assert {first.assignee, second.assignee} == {w.agent, tom}  # each at 1/1 now
    third = new(w.bob, SG_DAY, priority="P1")
    assert third.assignee is None or third.assignee not in (w.agent, tom)
    services.update_ticket(first, actor=first.assignee, changes={"status": "solved"}, now=SG_DAY)
    d = routing.decide(third, SG_DAY)
    assert d.agent_id == first.assignee.pk and "load 0/1" in d.summary


def test_continuity_is_asked_again_when_the_prefetch_missed_someone(shifts: Any) -> None:
    """The decision's statement asks continuity only of the agents likely to be asked; when
    the chooser needs someone else, a second statement asks, and the decision is the same."""
    w = shifts
    tom = make_team_member(w.apac, "tom@relaydesk.test", "Tom", ["en"])
    from .conftest import rotation

    rotation(w.apac, "SG day 2", [tom], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9", "2026-01-05T09:00:00", 9 * 60)
    handled = new(w.carol, SG_DAY, priority="P3")  # Globex, English: Mei (the lower id)
    routing.assign_manually(handled, tom, actor=w.lead, now=SG_DAY)
    probe = Ticket(organisation=w.globex, requester=w.carol, priority="P3", status="new")
    at = SG_DAY + timedelta(minutes=1)
    first = routing.decide(probe, at)
    assert first.agent_id == tom.pk and "handled this organisation recently" in first.reasons
    roster = routing._roster
    assert roster is not None
    for kind in roster.likely:  # a hint that leaves everyone out: nobody's continuity comes along
        roster.likely[kind] = ()
    again = routing.decide(probe, at)
    assert (again.agent_id, again.reasons) == (first.agent_id, first.reasons)


def test_deleting_tickets_after_the_counters_were_emptied_leaves_no_negative_counts(shifts: Any) -> None:
    """What the test runner's flush does on SQLite (and a hand-made DELETE anywhere): the
    counters' table emptied first, then the tickets.  The delete triggers find no row to lower
    and invent none; the next tickets count from zero."""
    w = shifts
    a = new(w.bob, SG_DAY, priority="P2")
    new(w.bob, SG_DAY, priority="P2", subject="second")
    assert agree() == {(w.agent.pk, "P2"): 2}
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {loads.LOADS}")
    Ticket.objects.all().delete()
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {loads.LOADS}")
        assert cur.fetchone()[0] == 0
    new(w.bob, SG_DAY, priority="P2", subject="third")
    assert agree() == {(w.agent.pk, "P2"): 1}
    # In a consistent table the delete still lowers the count (to zero, kept as a row).
    assert a.pk is not None
    Ticket.objects.all().delete()
    assert agree() == {}
