"""Routing setup in the Django admin checks what the API checks: an invalid RRULE, an unknown
time zone, overlapping overrides, a chain loop or a person without a team is shown on the form
with what to fix, and nothing is saved.  A bad row that is already stored (written before the
checks, or by hand in SQL) costs routing only that row, and the coverage report names it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from relaydesk.routing import calendars, schedules
from relaydesk.routing.models import (
    EscalationChain,
    EscalationStep,
    Rotation,
    ScheduleOverride,
    TimeOff,
)
from tests.admin_forms import change_form_data

from .conftest import rotation, utc

RRULE = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9"


def _admin(world: Any) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def _inline(prefix: str, rows: list[dict[str, str]], initial: int = 0) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def _rotation_form(world: Any, overrides: list[dict[str, str]] | None = None, **change: str) -> dict[str, str]:
    data = {
        "team": str(world.apac.pk), "name": "SG day", "kind": "shift", "rrule": RRULE, "dtstart": "2026-01-05T09:00:00",
        "duration_minutes": "540", "handoff_every": "1", "member_ids": f"[{world.agent.pk}]", "restrictions": "[]",
        "time_zone": "", "created_at_0": "2026-11-01", "created_at_1": "00:00:00",
    }
    return data | change | _inline("overrides", overrides or [])


def _override(user: Any, day: str, start: str, end: str, pk: int | None = None) -> dict[str, str]:
    row = {"user": str(user.pk), "start_0": day, "start_1": start, "end_0": day, "end_1": end, "kind": "cover", "note": "",
           "created_at_0": "2026-11-01", "created_at_1": "00:00:00"}
    return row | ({"id": str(pk)} if pk is not None else {})


def _errors(resp: Any) -> str:
    assert resp.status_code == 200, resp.status_code  # the form again, not a redirect
    text = resp.content.decode()
    assert "errornote" in text or "errorlist" in text
    return text


def test_a_valid_rotation_with_overrides_is_saved(world: Any) -> None:
    resp = _admin(world).post(
        "/admin/routing/rotation/add/",
        _rotation_form(world, [_override(world.lead, "2026-12-02", "01:00:00", "05:00:00")]),
    )
    assert resp.status_code == 302, (resp.context["adminform"].form.errors if resp.context else resp.status_code)
    assert Rotation.objects.get().overrides.count() == 1


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule: invalid RRULE"),
        ({"rrule": "FREQ=MINUTELY"}, "FREQ must be HOURLY or coarser"),
        ({"time_zone": "Asia/Atlantis"}, "Asia/Atlantis"),
        ({"dtstart": "2026-01-05T09:00+08"}, "dtstart: give the local wall time in the team"),
        ({"dtstart": "5 January 2026"}, "dtstart: give the local wall time of the first shift"),
        ({"restrictions": '[{"days": "mon-fry", "start": "09:00", "end": "18:00"}]'}, "mon-fry"),
        ({"member_ids": "[999999]"}, "member_ids[0]: no staff user with id 999999"),
    ],
)
def test_bad_rotations_show_what_to_fix_and_save_nothing(world: Any, change: dict[str, str], shown: str) -> None:
    resp = _admin(world).post("/admin/routing/rotation/add/", _rotation_form(world, **change))
    assert shown in _errors(resp)
    assert not Rotation.objects.exists()


def test_a_member_without_a_team_is_refused(world: Any) -> None:
    from tests.conftest import make_staff

    loner = make_staff("loner@relaydesk.test", "agent", None)
    resp = _admin(world).post("/admin/routing/rotation/add/", _rotation_form(world, member_ids=f"[{loner.pk}]"))
    assert "loner@relaydesk.test has no team" in _errors(resp)
    resp = _admin(world).post(
        "/admin/routing/timeoff/add/",
        {"user": str(loner.pk), "start_0": "2026-12-01", "start_1": "00:00", "end_0": "2026-12-02", "end_1": "00:00", "reason": ""},
    )
    assert "has no team" in _errors(resp)
    assert not Rotation.objects.exists() and not TimeOff.objects.exists()


def test_overlapping_overrides_are_refused_and_nothing_saved(world: Any) -> None:
    client = _admin(world)
    # Two new overlapping overrides with a new rotation: neither the rotation nor they are saved.
    resp = client.post(
        "/admin/routing/rotation/add/",
        _rotation_form(world, [
            _override(world.lead, "2026-12-02", "01:00:00", "05:00:00"), _override(world.agent, "2026-12-02", "04:00:00", "06:00:00"),
        ]),
    )
    assert "overlap" in _errors(resp)
    assert not Rotation.objects.exists() and not ScheduleOverride.objects.exists()
    # A stored override, and a new one overlapping it.
    r = rotation(world.apac, "SG day", [world.agent], RRULE, "2026-01-05T09:00:00", 540)
    stored = ScheduleOverride.objects.create(rotation=r, user=world.lead, start=utc(2026, 12, 2, 1), end=utc(2026, 12, 2, 5))
    data = _rotation_form(world)
    data |= _inline("overrides", [
        _override(world.lead, "2026-12-02", "01:00:00", "05:00:00", stored.pk),
        _override(world.agent, "2026-12-02", "04:00:00", "06:00:00"),
    ], initial=1)
    data["overrides-0-rotation"] = data["overrides-1-rotation"] = str(r.pk)
    resp = client.post(f"/admin/routing/rotation/{r.pk}/change/", data)
    assert "overlap" in _errors(resp)
    assert list(ScheduleOverride.objects.values_list("pk", flat=True)) == [stored.pk]
    # An end before its start.
    data["overrides-1-start_1"], data["overrides-1-end_1"] = "08:00:00", "07:00:00"
    assert "end: must be after start" in _errors(client.post(f"/admin/routing/rotation/{r.pk}/change/", data))
    # Moving the stored one out of the way is fine (it is not compared with itself).
    data["overrides-1-start_1"], data["overrides-1-end_1"] = "05:00:00", "06:00:00"
    assert client.post(f"/admin/routing/rotation/{r.pk}/change/", data).status_code == 302
    assert ScheduleOverride.objects.count() == 2


def test_a_chain_loop_is_refused_and_nothing_saved(world: Any) -> None:
    a = EscalationChain.objects.create(name="A", priorities=["P1"])
    EscalationStep.objects.create(chain=a, level=0, user=world.lead)
    b = EscalationChain.objects.create(name="B", priorities=["P1"])
    EscalationStep.objects.create(chain=b, level=0, next_chain=a)
    step = a.steps.get()
    data = {
        "name": "A", "team": "", "priorities": '["P1"]', "repeat": "1", "webhook_url": "", "webhook_secret": "",
        "created_at_0": "2026-11-01", "created_at_1": "00:00:00",
    } | _inline("steps", [
        {"id": str(step.pk), "chain": str(a.pk), "level": "0", "delay_minutes": "0", "ack_timeout_minutes": "10", "user": str(world.lead.pk)},
        {"chain": str(a.pk), "level": "1", "delay_minutes": "5", "ack_timeout_minutes": "10", "next_chain": str(b.pk)},
    ], initial=1)
    resp = _admin(world).post(f"/admin/routing/escalationchain/{a.pk}/change/", data)
    assert "escalation chain loop: A → B → A" in _errors(resp)
    assert list(a.steps.values_list("level", "user_id", "next_chain_id")) == [(0, world.lead.pk, None)]
    data["priorities"] = '["P9"]'
    assert "priorities[0]: use P1, P2, P3 or P4" in _errors(_admin(world).post(f"/admin/routing/escalationchain/{a.pk}/change/", data))
    assert EscalationChain.objects.get(pk=a.pk).priorities == ["P1"]


def test_a_profile_of_someone_without_a_team_is_refused(world: Any) -> None:
    from relaydesk.routing.models import AgentProfile
    from tests.conftest import make_staff

    loner = make_staff("loner@relaydesk.test", "agent", None)
    data = {
        "user": str(loner.pk), "presence": "available", "presence_changed_at_0": "2026-11-01", "presence_changed_at_1": "00:00:00",
        "presence_follows_shift": "on", "capacity": '{"P1": 2}', "skills": "[]", "backup": "",
    }
    assert "has no team" in _errors(_admin(world).post("/admin/routing/agentprofile/add/", data))
    data |= {"user": str(world.agent.pk), "capacity": '{"P7": 2}'}
    assert "capacity.P7" in _errors(_admin(world).post("/admin/routing/agentprofile/add/", data))
    assert not AgentProfile.objects.exists()


def test_a_bad_stored_row_costs_routing_only_that_row(world: Any) -> None:
    """Rows stored before the checks (or by hand): a rotation whose RRULE does not parse and an
    override overlapping another.  The team's valid rotation still routes, the first override
    still applies, and the coverage report names both bad rows."""
    from tests.routing.conftest import make_team_member

    tom = make_team_member(world.apac, "tom@relaydesk.test", "Tom", ["en"])
    day = rotation(world.apac, "SG day", [world.agent], RRULE, "2026-01-05T09:00:00", 540)
    rotation(world.apac, "SG broken", [tom], "FREQ=FORTNIGHTLY", "2026-01-05T18:00:00", 540)
    ScheduleOverride.objects.create(rotation=day, user=tom, start=utc(2026, 12, 2, 2), end=utc(2026, 12, 2, 4))
    bad = ScheduleOverride.objects.create(rotation=day, user=world.lead, start=utc(2026, 12, 2, 3), end=utc(2026, 12, 2, 6))
    problems: list[str] = []
    built = schedules.build_schedules(world.apac, "shift", utc(2026, 12, 2, 3), problems)
    assert [layer.name for s in built for layer in s.layers] == ["SG day"]
    assert len(problems) == 2 and "SG broken" in problems[0] and f"override {bad.pk}" in problems[1], problems
    # Wednesday 11:00 SGT: Tom covers; 13:00 SGT (after his cover): Mei, not the bad override's Lena.
    assert schedules.on_shift_at(utc(2026, 12, 2, 3)) == {tom.pk: world.apac.pk}
    assert schedules.on_shift_at(utc(2026, 12, 2, 5)) == {world.agent.pk: world.apac.pk}
    cov = calendars.coverage(utc(2026, 12, 2, 0), days=1)
    assert any("SG broken" in p for p in cov["problems"]) and any(f"override {bad.pk}" in p for p in cov["problems"])
    assert any(h["agents"] for h in cov["hours"])


def test_core_admin_keeps_the_membership_rules(world: Any) -> None:
    """Moving a person to another team in the user admin while a rotation of their team still
    lists them is refused with what to do; a team name is unique ignoring case."""
    rotation(world.apac, "SG day", [world.agent], RRULE, "2026-01-05T09:00:00", 540)
    client = _admin(world)
    url = f"/admin/core/user/{world.agent.pk}/change/"
    text = _errors(client.post(url, change_form_data(client, url, team=world.emea.pk)))
    assert "SG day" in text and "take them out there first" in text
    world.agent.refresh_from_db()
    assert world.agent.team_id == world.apac.pk
    # somebody in no rotation moves freely
    url = f"/admin/core/user/{world.lead.pk}/change/"
    resp = client.post(url, change_form_data(client, url, team=world.emea.pk))
    assert resp.status_code == 302, (resp.context["adminform"].form.errors if resp.context else resp.status_code)
    world.lead.refresh_from_db()
    assert world.lead.team_id == world.emea.pk
    # a customer never joins a team
    url = f"/admin/core/user/{world.alice.pk}/change/"
    text = _errors(client.post(url, change_form_data(client, url, team=world.apac.pk)))
    assert "only support staff join teams" in text
    # team names are unique ignoring case
    url = f"/admin/core/team/{world.emea.pk}/change/"
    text = _errors(client.post(url, change_form_data(client, url, name="apac")))
    assert "exists already" in text
