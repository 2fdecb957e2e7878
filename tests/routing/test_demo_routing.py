"""The demo routing data: every staff shift becomes a rotation in the staff member's zone, each
team gets a 24×7 on-call rotation and a chain; a 03:00 P1 in Singapore is owned and paged."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from relaydesk.demo import world as demo_world
from relaydesk.routing import calendars, demo
from relaydesk.routing.models import Assignment, EscalationChain, Page, Rotation
from relaydesk.tickets import services

from .conftest import utc


@pytest.fixture
def demo_loaded(db: Any) -> Any:
    with transaction.atomic():
        w = demo_world.build(3)
    made = demo.install()
    return w, made


def test_install_is_idempotent_and_covers_on_call_24x7(demo_loaded: Any) -> None:
    _, made = demo_loaded
    shifts = sum(len(s.shifts) for s in demo_world.STAFF if s.team)
    assert made["rotations"] == shifts + len(demo_world.TEAMS)
    assert made["chains"] == len(demo_world.TEAMS)
    assert demo.install() == {"rotations": 0, "chains": 0, "profiles": 0}
    # Omar works 15:00–24:00 Dubai time: at 19:30 UTC (23:30 in Dubai) he is on shift.
    who = calendars.who(utc(2026, 12, 2, 19, 30))
    assert any(r["name"].startswith("Omar") and r["kind"] == "shift" for r in who)
    # Christmas Eve 03:00 in Singapore: every team has exactly one person on call.
    at = utc(2026, 12, 23, 19)
    oncall = [r for r in calendars.who(at) if r["kind"] == "oncall"]
    assert sorted(r["team"] for r in oncall) == sorted(t.name for t in demo_world.TEAMS)
    assert Rotation.objects.filter(kind="oncall").count() == len(demo_world.TEAMS)


def test_night_p1_of_a_demo_customer_is_owned_and_paged(demo_loaded: Any) -> None:
    w, _ = demo_loaded
    org = next(o for o in w.orgs if o.spec.region == "sg" and o.customers)
    who = org.customers[0]
    # Sunday 07:00 in Singapore (Saturday 23:00 UTC): nobody of any team is on shift then.
    at = utc(2026, 12, 5, 23)
    assert [r for r in calendars.who(at) if r["kind"] == "shift"] == []
    t = services.create_ticket(actor=who, requester=who, subject="Live show frozen", priority="P1", now=at)
    a = Assignment.objects.get(ticket=t)
    assert a.rule == "on_call" and t.assignee is not None
    page = Page.objects.get(ticket=t)
    assert page.chain == EscalationChain.objects.get(team=t.assignee.team)
    assert page.notifications.filter(user=t.assignee).exists()
