"""The demo routing data: every staff shift becomes a rotation in the staff member's zone, each
team gets a 24×7 on-call rotation and a chain; a 03:00 P1 in Singapore is owned and paged."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from relaydesk.core.models import User
from relaydesk.demo import world as demo_world
from relaydesk.routing import calendars, demo, schedules
from relaydesk.routing.models import Assignment, EscalationChain, Page, Rotation
from relaydesk.routing.services import set_presence
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
    weekend = 2 * len(demo.WEEKEND_DUTY)  # layers A and B per team
    assert made["rotations"] == shifts + weekend + len(demo_world.TEAMS)
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
    # Sunday 07:00 in Singapore (Saturday 23:00 UTC): only the Americas weekend duty is on
    # shift, and both of them are away (nobody suitable on shift).
    at = utc(2026, 12, 5, 23)
    on = [r for r in calendars.who(at) if r["kind"] == "shift"]
    assert on and {r["team"] for r in on} == {"Americas"}
    for uid in schedules.on_shift_at(at):
        set_presence(User.objects.get(pk=uid), "away", now=at)
    t = services.create_ticket(actor=who, requester=who, subject="Live show frozen", priority="P1", now=at)
    a = Assignment.objects.get(ticket=t)
    assert a.rule == "on_call" and t.assignee is not None
    page = Page.objects.get(ticket=t)
    assert page.chain == EscalationChain.objects.get(team=t.assignee.team)
    assert page.notifications.filter(user=t.assignee).exists()


@pytest.mark.parametrize("monday", [utc(2026, 12, 7), utc(2026, 7, 6)], ids=["winter", "summer"])
def test_demo_rota_has_two_people_on_shift_at_every_quarter_hour_of_the_week(demo_loaded: Any, monday: Any) -> None:
    """The 24×7 P1 promise needs humans on shift, not only on call: the demo staffing (the
    staff's own shifts plus the weekend duty) never leaves fewer than two on shift."""
    from datetime import timedelta

    thin = []
    for quarter in range(7 * 24 * 4):
        at = monday + timedelta(minutes=15 * quarter)
        n = len(schedules.on_shift_at(at))
        if n < 2:
            thin.append((at.isoformat(), n))
    assert thin == []


def test_weekend_duty_takes_turns(demo_loaded: Any) -> None:
    # Saturday 10:00 UTC in two consecutive weekends: EMEA's duty passes to other people.
    def duty(at: Any) -> set[str]:
        return {r["name"] for r in calendars.who(at) if r["team"] == "EMEA" and "weekend duty" in r["layer"]}

    a, b = duty(utc(2026, 12, 5, 10)), duty(utc(2026, 12, 12, 10))
    assert len(a) == 2 and len(b) == 2 and a != b
