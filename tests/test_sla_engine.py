"""SLA clocks on real tickets: business calendars, what counts as a response, pauses,
re-targeting, re-opening, and the sweep's exactly-once warnings and breaches."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from relaydesk.notify.models import Notification, OutboundEmail
from relaydesk.sla.models import ClockEvent
from relaydesk.sla.sweep import sweep
from relaydesk.tickets import services
from relaydesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Friday 27 November 2026, 17:00 in Singapore (UTC+8)
FRI_1700_SGT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _create(world, user, priority="P3", now=FRI_1700_SGT, **kw) -> Ticket:
    return services.create_ticket(actor=user, requester=user, subject="stutter", priority=priority, now=now, **kw)


def _fresh(t: Ticket) -> Ticket:
    return Ticket.objects.get(pk=t.pk)


def test_business_hours_due_on_customer_region_calendar(world) -> None:
    # Standard P3: first response 1 business day (9 h) on Singapore's 09:00–18:00 calendar.
    # Friday 17:00 → 1 h on Friday + 8 h on Monday → Monday 30 Nov 17:00 SGT = 09:00 UTC.
    t = _create(world, world.bob)
    assert t.frt_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert t.sla_calendar is not None and "Singapore" in t.sla_calendar.name


def test_24x7_for_enterprise_p1(world) -> None:
    t = _create(world, world.alice, "P1")
    assert t.frt_due_at == FRI_1700_SGT + timedelta(minutes=15)
    assert t.ttr_due_at == FRI_1700_SGT + timedelta(hours=4)


def test_only_a_human_public_staff_reply_meets_first_response(world) -> None:
    t = _create(world, world.alice, "P1")
    later = FRI_1700_SGT + timedelta(minutes=1)
    services.add_message(t, author=None, body="auto", is_auto=True, now=later)
    services.add_message(t, author=world.agent, body="looking", is_public=False, now=later)
    services.add_message(t, author=world.alice, body="any news?", now=later)
    assert _fresh(t).frt_state == "running"
    assert t.messages.filter(is_auto=True).count() == 2  # the auto-ack and ours
    services.add_message(t, author=world.agent, body="We are on it", now=later + timedelta(minutes=2))
    t = _fresh(t)
    assert t.frt_state == "met" and t.frt_met_at == later + timedelta(minutes=2)
    assert not t.frt_breached
    assert t.status == "open"  # a first staff reply opens a new ticket


def test_late_reply_is_a_breach_even_before_the_sweep(world) -> None:
    t = _create(world, world.alice, "P1")
    services.add_message(t, author=world.agent, body="sorry", now=FRI_1700_SGT + timedelta(minutes=40))
    t = _fresh(t)
    assert t.frt_state == "met" and t.frt_breached
    kinds = list(ClockEvent.objects.filter(ticket=t, metric="first_response").values_list("kind", flat=True))
    assert kinds == ["started", "breached", "met"]


def test_pending_pauses_and_customer_reply_resumes(world) -> None:
    t0 = FRI_1700_SGT
    t = _create(world, world.alice, "P1", now=t0)
    services.add_message(t, author=world.agent, body="send logs", status="pending_customer", now=t0 + timedelta(minutes=5))
    t = _fresh(t)
    assert t.status == "pending_customer" and t.ttr_state == "paused" and t.sla_state == "paused"
    assert t.ttr_spent_us == 5 * 60 * 1_000_000 and t.ttr_due_at is None
    back = t0 + timedelta(hours=2)
    services.add_message(t, author=world.alice, body="logs attached", now=back)
    t = _fresh(t)
    assert t.status == "open" and t.ttr_state == "running"
    assert t.ttr_due_at == back + timedelta(minutes=235)
    # next response clock: Enterprise P1 = 30 minutes from the customer's message
    assert t.nrt_state == "running" and t.nrt_due_at == back + timedelta(minutes=30) and t.nrt_cycle == 1
    services.add_message(t, author=world.agent, body="thanks", now=back + timedelta(minutes=10))
    assert _fresh(t).nrt_state == "met"


def test_on_hold_pauses_only_where_the_policy_says(world) -> None:
    std = _create(world, world.bob, "P2")  # Standard: pause_on_hold
    ent = _create(world, world.alice, "P2")  # Enterprise: keeps running on hold
    for t in (std, ent):
        services.update_ticket(t, actor=world.agent, changes={"status": "on_hold"}, now=FRI_1700_SGT + timedelta(minutes=1))
    assert _fresh(std).ttr_state == "paused"
    assert _fresh(ent).ttr_state == "running"


def test_priority_change_keeps_business_time_spent(world) -> None:
    # Acme (Enterprise) P3 runs on Singapore business hours; Wednesday 25 Nov 10:00 SGT.
    start = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    t = _create(world, world.alice, "P3", now=start)
    assert t.sla_rule.name == "Enterprise P3"
    services.update_ticket(t, actor=world.agent, changes={"priority": "P1"}, now=start + timedelta(hours=1))
    t = _fresh(t)
    assert t.sla_rule.name == "Enterprise P1" and t.sla_calendar is None
    assert t.ttr_spent_us == 3600 * 1_000_000
    assert t.ttr_due_at == start + timedelta(hours=4)  # 1 h spent + 3 h left, 24×7
    assert t.frt_due_at == start + timedelta(hours=1)  # already past its 15 minutes
    assert sweep(now=start + timedelta(hours=1)) >= 1
    assert _fresh(t).frt_breached


def test_reopen_continues_resolution_clock(world) -> None:
    t0 = FRI_1700_SGT
    t = _create(world, world.alice, "P1", now=t0)
    services.add_message(t, author=world.agent, body="fixed", status="solved", now=t0 + timedelta(minutes=30))
    t = _fresh(t)
    assert t.status == "solved" and t.ttr_state == "met" and t.solved_at is not None
    reopen_at = t0 + timedelta(days=1)
    services.add_message(t, author=world.alice, body="it is back", now=reopen_at)
    t = _fresh(t)
    assert t.status == "open" and t.reopen_count == 1 and t.solved_at is None
    assert t.ttr_state == "running" and t.ttr_due_at == reopen_at + timedelta(minutes=210)
    assert t.nrt_state == "running"


def test_closed_is_final(world) -> None:
    t = _create(world, world.alice)
    services.update_ticket(t, actor=world.agent, changes={"status": "closed"}, now=FRI_1700_SGT)
    assert _fresh(t).sla_state == "none"
    with pytest.raises(services.TicketError) as err:
        services.add_message(t, author=world.alice, body="hello?")
    assert err.value.status == 409


def test_sweep_warns_then_breaches_once_and_tells_assignee_and_lead(world) -> None:
    t = _create(world, world.alice, "P1", assignee=world.agent, team=world.apac)
    assert sweep(now=FRI_1700_SGT + timedelta(minutes=5)) == 0
    assert sweep(now=FRI_1700_SGT + timedelta(minutes=12)) == 1  # 75 % of 15 min
    assert sweep(now=FRI_1700_SGT + timedelta(minutes=13)) == 0
    assert _fresh(t).sla_state == "warning"
    assert sweep(now=FRI_1700_SGT + timedelta(minutes=16)) == 1
    assert sweep(now=FRI_1700_SGT + timedelta(minutes=17)) == 0
    t = _fresh(t)
    assert t.sla_state == "breached" and t.frt_breached
    kinds = list(ClockEvent.objects.filter(ticket=t, metric="first_response").values_list("kind", flat=True))
    assert kinds == ["started", "warned", "breached"]
    for user in (world.agent, world.lead):
        assert Notification.objects.filter(user=user, kind="sla_breached", ticket=t).count() == 1
    mail = OutboundEmail.objects.get(kind="sla_breached", ticket=t)
    assert set(mail.to) == {world.agent.email, world.lead.email}


def test_sweep_rerun_after_crash_emits_once(world, monkeypatch) -> None:
    _create(world, world.alice, "P1")
    from relaydesk.notify import notices

    real = notices.clock_events
    calls = {"n": 0}

    def crash_once(ticket, events, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker died mid-sweep")
        return real(ticket, events, **kw)

    monkeypatch.setattr(notices, "clock_events", crash_once)
    later = FRI_1700_SGT + timedelta(hours=1)
    with pytest.raises(RuntimeError):
        sweep(now=later)
    assert ClockEvent.objects.filter(kind__in=["warned", "breached"]).count() == 0
    assert sweep(now=later) == 2  # first response warned + breached; resolution not yet
    assert sweep(now=later) == 0


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_emit_each_event_once(world) -> None:
    for _ in range(30):
        _create(world, world.alice, "P1")
    later = FRI_1700_SGT + timedelta(hours=5)
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(sweep(now=later, batch=7))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    # each ticket: first response warned + breached, resolution warned + breached
    assert sum(results) == 30 * 4
    assert ClockEvent.objects.filter(kind="breached").count() == 60
    assert OutboundEmail.objects.filter(kind="sla_breached").count() == 60


def test_sweep_in_batches_emits_each_event_once_and_skips_events_already_stored(world) -> None:
    tickets = [_create(world, world.alice, "P1", assignee=world.agent, team=world.apac) for _ in range(23)]
    # another writer already stored the warning of one ticket (its flag not yet on the row)
    first = tickets[0]
    ClockEvent.objects.create(ticket=first, metric="first_response", cycle=first.frt_cycle, kind="warned", at=FRI_1700_SGT)
    later = FRI_1700_SGT + timedelta(minutes=12)  # past 75 % of the 15-minute P1 target
    assert sweep(now=later, batch=5) == 22
    assert sweep(now=later, batch=5) == 0
    for t in tickets:
        assert ClockEvent.objects.filter(ticket=t, metric="first_response", kind="warned").count() == 1
        assert _fresh(t).sla_state == "warning"
    assert Notification.objects.filter(kind="sla_warned", user=world.agent).count() == 22
    assert OutboundEmail.objects.filter(kind="sla_warned").count() == 22
    assert sweep(now=FRI_1700_SGT + timedelta(minutes=16), batch=5) == 23  # breaches, each once
    assert ClockEvent.objects.filter(kind="breached").count() == 23
