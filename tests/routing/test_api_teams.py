"""Routing API for teams and their members, rotation edits, time off and chain deletion:
create/list/edit/delete flows, bad input (422 ``field: message``, nothing saved), conflicts
(409), who may do what, and that the next routing decision sees a team or membership change
(no stale cache)."""

from __future__ import annotations

from typing import Any

import pytest

from relaydesk.core.models import Team, User
from relaydesk.routing.models import (
    EscalationChain,
    EscalationStep,
    Page,
    Rotation,
    ScheduleOverride,
    TimeOff,
)
from relaydesk.tickets import services

from .conftest import rotation, utc

ROT = ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9", "2026-01-05T09:00:00", 540)
# Wednesday 2026-12-02 10:00 UTC: 18:00 in Singapore (APAC off), 11:00 in Berlin (EMEA on).
DE_DAY = utc(2026, 12, 2, 10)


def team_state() -> tuple[Any, ...]:
    return (
        sorted(Team.objects.values_list("pk", "name", "region_id", "timezone", "languages", "email", "lead_id", "serves_all")),
        sorted(User.objects.values_list("pk", "team_id")),
    )


def loner(email: str = "new@relaydesk.test", role: str = "agent") -> User:
    from tests.conftest import make_staff

    return make_staff(email, role, None, first_name=email.split("@")[0].title())


# -- teams ---------------------------------------------------------------------------------------


def test_create_list_edit_and_delete_a_team(world: Any) -> None:
    api = world.api(world.lead)
    ana, ben = loner("ana@relaydesk.test"), loner("ben@relaydesk.test", "lead")
    code, body = api.post(
        "/api/v1/teams",
        {"name": "LATAM", "region": "br", "timezone": "America/Sao_Paulo", "languages": ["en"], "email": "latam@relaydesk.test",
         "lead_id": ben.pk, "member_ids": [ana.pk, ben.pk]},
    )
    assert code == 201, body
    tid = body["id"]
    assert body["region"] == "br" and body["timezone"] == "America/Sao_Paulo" and body["lead_id"] == ben.pk
    assert [m["id"] for m in body["members"]] == sorted([ana.pk, ben.pk]) and body["serves_all"] is False
    ana.refresh_from_db()
    assert ana.team_id == tid  # membership is the core user's team

    code, body = world.api(world.agent).get("/api/v1/teams")  # every staff member may read
    assert code == 200 and [t["name"] for t in body] == ["APAC", "EMEA", "LATAM"]
    code, body = world.api(world.agent).get(f"/api/v1/teams/{tid}")
    assert code == 200 and body["email"] == "latam@relaydesk.test"

    code, body = api.patch(f"/api/v1/teams/{tid}", {"name": "Americas", "region": None, "languages": ["en", "zh-Hans"], "lead_id": None})
    assert code == 200, body
    assert (body["name"], body["region"], body["languages"], body["lead_id"]) == ("Americas", None, ["en", "zh-Hans"], None)
    assert body["timezone"] == "America/Sao_Paulo"  # not given, not changed
    code, body = api.patch(f"/api/v1/teams/{tid}", {"timezone": "America/New_York"})
    assert code == 200 and body["timezone"] == "America/New_York"

    code, body = api._call("delete", f"/api/v1/teams/{tid}")
    assert code == 409 and body["detail"].startswith("team:") and "2 member(s)" in body["detail"]
    for u in (ana, ben):
        code, body = api._call("delete", f"/api/v1/teams/{tid}/members/{u.pk}")
        assert code == 204, body
    code, body = api._call("delete", f"/api/v1/teams/{tid}")
    assert code == 204, body
    assert not Team.objects.filter(pk=tid).exists()
    ana.refresh_from_db()
    assert ana.team_id is None
    code, body = api._call("delete", f"/api/v1/teams/{tid}")
    assert code == 404


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"timezone": "Asia/Atlantis"}, 422, "timezone: unknown time zone 'Asia/Atlantis'"),
        ({"region": "mars"}, 422, "region: no region 'mars'; use one of: br, de, sg"),
        ({"name": "apac"}, 409, "name: a team called 'APAC' exists"),
        ({"name": "  "}, 422, "name:"),
        ({"languages": ["en", "klingon"]}, 422, "languages[1]:"),
        ({"languages": ["en", "en"]}, 422, "languages:"),
        ({"email": "not-an-address"}, 422, "email:"),
        ({"lead_id": "{agent}"}, 422, "lead_id: mei@relaydesk.test is not a lead"),
        ({"lead_id": "{alice}"}, 422, "lead_id: no active staff user"),
        ({"member_ids": ["{new}", "{alice}"]}, 422, "member_ids[1]: alice@acme.test is a customer, not support staff"),
        ({"member_ids": ["{new}", "{new}"]}, 422, "member_ids:"),
        ({"member_ids": ["{new}", 999999]}, 422, "member_ids[1]: no user with id 999999"),
        ({"member_ids": ["{new}", "{agent_emea}"]}, 409, "member_ids[1]: jonas@relaydesk.test is in team EMEA; pass move: true"),
        ({"colour": "red"}, 422, "colour: unknown field"),
    ],
)
def test_bad_teams_name_the_field_and_save_nothing(world: Any, change: dict[str, Any], code: int, field: str) -> None:
    ids = {"agent": world.agent.pk, "alice": world.alice.pk, "new": loner().pk, "agent_emea": world.agent_emea.pk}
    change = {k: ([ids[x[1:-1]] if isinstance(x, str) else x for x in v] if isinstance(v, list) and k == "member_ids"
                  else ids[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v) for k, v in change.items()}
    before = team_state()
    got, body = world.api(world.lead).post("/api/v1/teams", {"name": "LATAM", "timezone": "America/Sao_Paulo"} | change)
    assert (got, body["detail"][: len(field)]) == (code, field), body
    assert team_state() == before


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"timezone": "Mars/Olympus"}, 422, "timezone:"),
        ({"timezone": None}, 422, "timezone: may not be null"),
        ({"region": "xx"}, 422, "region: no region 'xx'"),
        ({"name": "EMEA"}, 409, "name: a team called 'EMEA' exists"),
        ({"name": None}, 422, "name: may not be null"),
        ({"languages": ["fr"]}, 422, "languages[0]:"),
        ({"lead_id": 999999}, 422, "lead_id:"),
        ({"region": "de", "timezone": "Nowhere/Land"}, 422, "timezone:"),  # nothing of it is saved
    ],
)
def test_bad_team_edits_change_nothing(world: Any, change: dict[str, Any], code: int, field: str) -> None:
    before = team_state()
    got, body = world.api(world.lead).patch(f"/api/v1/teams/{world.apac.pk}", change)
    assert (got, body["detail"][: len(field)]) == (code, field), body
    assert team_state() == before


def test_rename_keeps_the_rest(world: Any) -> None:
    code, body = world.api(world.lead).patch(f"/api/v1/teams/{world.apac.pk}", {"name": "Asia-Pacific"})
    assert code == 200 and body["name"] == "Asia-Pacific"
    world.apac.refresh_from_db()
    assert (world.apac.name, world.apac.timezone, world.apac.region_id, world.apac.lead_id) == (
        "Asia-Pacific", "Asia/Singapore", world.sg.pk, world.lead.pk
    )


def test_only_admins_widen_a_team_to_every_organisation(world: Any) -> None:
    code, body = world.api(world.lead).patch(f"/api/v1/teams/{world.apac.pk}", {"serves_all": True})
    assert code == 403 and "admins" in body["detail"]
    code, body = world.api(world.lead).post("/api/v1/teams", {"name": "Global", "timezone": "UTC", "serves_all": True})
    assert code == 403 and not Team.objects.filter(name="Global").exists()
    code, body = world.api(world.admin).patch(f"/api/v1/teams/{world.apac.pk}", {"serves_all": True})
    assert code == 200 and body["serves_all"] is True


def test_agents_read_teams_but_do_not_change_them(world: Any) -> None:
    before = team_state()
    agent = world.api(world.agent)
    assert agent.get(f"/api/v1/teams/{world.apac.pk}")[0] == 200
    assert agent.patch(f"/api/v1/teams/{world.apac.pk}", {"name": "Mine"})[0] == 403
    assert agent.post("/api/v1/teams", {"name": "Mine", "timezone": "UTC"})[0] == 403
    assert agent.post(f"/api/v1/teams/{world.apac.pk}/members", {"user_id": loner().pk})[0] == 403
    assert agent._call("delete", f"/api/v1/teams/{world.apac.pk}/members/{world.agent.pk}")[0] == 403
    assert world.api(world.alice).get("/api/v1/teams")[0] == 403
    assert team_state()[0] == before[0]


def test_a_team_with_a_schedule_chains_or_open_tickets_is_not_deleted(world: Any) -> None:
    api = world.api(world.lead)
    code, body = api.post("/api/v1/teams", {"name": "Night", "timezone": "UTC"})
    assert code == 201
    night = Team.objects.get(pk=body["id"])
    tom = loner("tom@relaydesk.test")
    assert api.post(f"/api/v1/teams/{night.pk}/members", {"user_id": tom.pk})[0] == 200
    r = rotation(night, "Nights", [tom], "FREQ=DAILY;BYHOUR=22", "2026-01-01T22:00:00", 480)
    code, body = api._call("delete", f"/api/v1/teams/{night.pk}/members/{tom.pk}")
    assert code == 409 and "rotation(s) Nights" in body["detail"]
    r.delete()
    assert api._call("delete", f"/api/v1/teams/{night.pk}/members/{tom.pk}")[0] == 204
    rotation(night, "Nights", [], "FREQ=DAILY;BYHOUR=22", "2026-01-01T22:00:00", 480)
    code, body = api._call("delete", f"/api/v1/teams/{night.pk}")
    assert code == 409 and "rotation(s) Nights" in body["detail"]
    Rotation.objects.filter(team=night).delete()
    chain = EscalationChain.objects.create(name="Night P3", team=night, priorities=["P3"])
    code, body = api._call("delete", f"/api/v1/teams/{night.pk}")
    assert code == 409 and "Night P3" in body["detail"]
    chain.delete()
    t = services.create_ticket(actor=world.bob, requester=world.bob, subject="queued", now=utc(2026, 12, 2, 3))
    type(t).objects.filter(pk=t.pk).update(team=night, assignee=None)
    code, body = api._call("delete", f"/api/v1/teams/{night.pk}")
    assert code == 409 and "1 open ticket(s)" in body["detail"]
    assert Team.objects.filter(pk=night.pk).exists()
    type(t).objects.filter(pk=t.pk).update(status="closed")
    assert api._call("delete", f"/api/v1/teams/{night.pk}")[0] == 204


# -- members ---------------------------------------------------------------------------------------


def test_members_join_move_explicitly_and_leave(world: Any) -> None:
    api = world.api(world.lead)
    new = loner()
    code, body = api.post(f"/api/v1/teams/{world.emea.pk}/members", {"user_id": new.pk})
    assert code == 200 and new.pk in [m["id"] for m in body["members"]]
    # Already in EMEA: moving to APAC must be asked for.
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/members", {"user_id": new.pk})
    assert code == 409 and body["detail"] == f"user_id: {new.email} is in team EMEA; pass move: true to move them to APAC"
    new.refresh_from_db()
    assert new.team_id == world.emea.pk
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/members", {"user_id": new.pk, "move": True})
    assert code == 200, body
    new.refresh_from_db()
    assert new.team_id == world.apac.pk
    # Someone in a rotation of their team is taken out of it first.
    rotation(world.apac, "SG day", [world.agent], *ROT)
    code, body = api.post(f"/api/v1/teams/{world.emea.pk}/members", {"user_id": world.agent.pk, "move": True})
    assert code == 409 and "rotation(s) SG day of team APAC" in body["detail"]
    world.agent.refresh_from_db()
    assert world.agent.team_id == world.apac.pk
    # Customers never join; unknown people are named.
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/members", {"user_id": world.alice.pk})
    assert code == 422 and body["detail"] == "user_id: alice@acme.test is a customer, not support staff; only staff join teams"
    world.alice.refresh_from_db()
    assert world.alice.team_id is None
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/members", {"user_id": 999999})
    assert code == 422 and body["detail"].startswith("user_id: no user")
    code, body = api._call("delete", f"/api/v1/teams/{world.emea.pk}/members/{new.pk}")
    assert code == 404  # not a member there
    assert api._call("delete", f"/api/v1/teams/{world.apac.pk}/members/{new.pk}")[0] == 204
    new.refresh_from_db()
    assert new.team_id is None


def _key_account_ticket(world: Any, subject: str) -> tuple[Any, Any]:
    from relaydesk.routing.models import Assignment

    t = services.create_ticket(actor=world.alice, requester=world.alice, subject=subject, now=DE_DAY, priority="P3")
    t.refresh_from_db()
    return t, Assignment.objects.filter(ticket=t).latest("id")


def test_routing_right_after_a_membership_change_sees_it(world: Any) -> None:
    """Acme's account manager is Mei (APAC), off shift at DE_DAY; Jonas (EMEA) is on.  While Mei
    is in APAC the manager's team has nobody on shift, so Jonas takes it as the best agent;
    once she is moved to EMEA (through the API, caches warm), Jonas takes it as her team."""
    rotation(world.emea, "DE day", [world.agent_emea], *ROT)
    t1, a1 = _key_account_ticket(world, "first")
    assert (t1.assignee_id, a1.rule) == (world.agent_emea.pk, "best")
    code, body = world.api(world.lead).post(f"/api/v1/teams/{world.emea.pk}/members", {"user_id": world.agent.pk, "move": True})
    assert code == 200, body
    t2, a2 = _key_account_ticket(world, "second")
    assert (t2.assignee_id, a2.rule) == (world.agent_emea.pk, "key_account_team")
    assert "key account manager not available" in a2.reasons
    # And back out of every team: routing no longer counts EMEA as hers.
    assert world.api(world.lead)._call("delete", f"/api/v1/teams/{world.emea.pk}/members/{world.agent.pk}")[0] == 204
    _, a3 = _key_account_ticket(world, "third")
    assert a3.rule == "best"


def test_routing_right_after_a_team_edit_sees_it(world: Any) -> None:
    rotation(world.emea, "DE day", [world.agent_emea], *ROT)
    _, a1 = _key_account_ticket(world, "first")
    assert "on shift DE" in a1.summary
    code, body = world.api(world.lead).patch(f"/api/v1/teams/{world.emea.pk}", {"region": "br"})
    assert code == 200, body
    _, a2 = _key_account_ticket(world, "second")
    assert "on shift BR" in a2.summary
    # A time-zone change moves the shifts: 09:00–18:00 in São Paulo is 12:00–21:00 UTC.
    code, body = world.api(world.lead).patch(f"/api/v1/teams/{world.emea.pk}", {"timezone": "America/Sao_Paulo"})
    assert code == 200, body
    t3, a3 = _key_account_ticket(world, "third")
    assert t3.assignee_id is None and a3.rule == "team_queue"


# -- rotations -------------------------------------------------------------------------------------


def test_edit_a_rotation(world: Any) -> None:
    r = rotation(world.apac, "SG day", [world.agent], *ROT)
    other = rotation(world.apac, "SG late", [world.lead], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=18", "2026-01-05T18:00:00", 240)
    ScheduleOverride.objects.create(rotation=r, user=world.lead, start=utc(2026, 12, 2, 1), end=utc(2026, 12, 2, 5))
    api = world.api(world.lead)
    code, body = api.patch(f"/api/v1/rotations/{r.pk}", {"duration_minutes": 480, "member_ids": [world.agent.pk, world.lead.pk]})
    assert code == 200, body
    assert body["duration_minutes"] == 480 and body["member_ids"] == [world.agent.pk, world.lead.pk]
    assert body["rrule"] == ROT[0] and len(body["overrides"]) == 1  # the rest is kept
    code, body = api.patch(f"/api/v1/rotations/{r.pk}", {"name": "SG morning", "restrictions": [{"days": "mon-fri", "start": "09:00", "end": "13:00"}]})
    assert code == 200 and body["name"] == "SG morning" and body["restrictions"][0]["end"] == "13:00"
    r.refresh_from_db()
    snapshot = (r.name, r.rrule, r.dtstart, r.duration_minutes, r.member_ids, r.restrictions, r.time_zone, r.kind)
    for change, code_, field in [
        ({"rrule": "FREQ=FORTNIGHTLY"}, 422, "rrule:"),
        ({"dtstart": "2026-01-05T09:00:00+08:00"}, 422, "dtstart:"),
        ({"kind": "sometimes"}, 422, "kind:"),
        ({"member_ids": [world.agent_emea.pk]}, 422, "member_ids[0]:"),
        ({"member_ids": [world.alice.pk]}, 422, "member_ids[0]: no staff user"),
        ({"timezone": "Asia/Atlantis"}, 422, "timezone:"),
        ({"rrule": None}, 422, "rrule: may not be null"),
        ({"name": other.name}, 409, "name:"),
        ({"duration_minutes": 0}, 422, "duration_minutes:"),
        ({"restrictions": [{"days": "mon-fry", "start": "09:00", "end": "18:00"}]}, 422, "restrictions[0]:"),
    ]:
        got, body = api.patch(f"/api/v1/rotations/{r.pk}", change)
        assert got == code_ and body["detail"].startswith(field), (change, body)
        r.refresh_from_db()
        assert (r.name, r.rrule, r.dtstart, r.duration_minutes, r.member_ids, r.restrictions, r.time_zone, r.kind) == snapshot
    assert api.patch("/api/v1/rotations/999999", {"duration_minutes": 60})[0] == 404
    assert world.api(world.agent).patch(f"/api/v1/rotations/{r.pk}", {"duration_minutes": 60})[0] == 403


def test_rotation_edit_is_seen_by_the_next_decision(world: Any) -> None:
    r = rotation(world.emea, "DE day", [world.agent_emea], *ROT)
    t1, _ = _key_account_ticket(world, "first")
    assert t1.assignee_id == world.agent_emea.pk
    # Shift moved to the evening: at 11:00 Berlin nobody is on.
    code, body = world.api(world.lead).patch(f"/api/v1/rotations/{r.pk}", {"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=18", "dtstart": "2026-01-05T18:00:00"})
    assert code == 200, body
    t2, a2 = _key_account_ticket(world, "second")
    assert t2.assignee_id is None and a2.rule == "team_queue"


# -- time off --------------------------------------------------------------------------------------


def test_time_off_list_and_withdraw(world: Any) -> None:
    mine = TimeOff.objects.create(user=world.agent, start=utc(2026, 12, 20), end=utc(2026, 12, 24), reason="holiday")
    old = TimeOff.objects.create(user=world.agent, start=utc(2026, 1, 1), end=utc(2026, 1, 2))
    jonas = TimeOff.objects.create(user=world.agent_emea, start=utc(2026, 12, 21), end=utc(2026, 12, 22))
    agent = world.api(world.agent)
    code, body = agent.get("/api/v1/time-off")
    assert code == 200 and [x["id"] for x in body] == [old.pk, mine.pk, jonas.pk]
    code, body = agent.get("/api/v1/time-off", {"user_id": world.agent.pk, "ends_after": "2026-06-01T00:00:00Z"})
    assert code == 200 and [x["id"] for x in body] == [mine.pk]
    code, body = agent.get("/api/v1/time-off", {"team_id": world.emea.pk})
    assert code == 200 and [x["id"] for x in body] == [jonas.pk]
    code, body = agent.get("/api/v1/time-off", {"ends_after": "2026-06-01T00:00:00"})
    assert code == 422 and body["detail"].startswith("ends_after:")
    assert world.api(world.alice).get("/api/v1/time-off")[0] == 403
    # Your own: yes; someone else's: leads only.
    assert agent._call("delete", f"/api/v1/time-off/{jonas.pk}")[0] == 403
    assert TimeOff.objects.filter(pk=jonas.pk).exists()
    assert agent._call("delete", f"/api/v1/time-off/{mine.pk}")[0] == 204
    assert world.api(world.lead)._call("delete", f"/api/v1/time-off/{jonas.pk}")[0] == 204
    assert agent._call("delete", f"/api/v1/time-off/{jonas.pk}")[0] == 404
    assert list(TimeOff.objects.values_list("pk", flat=True)) == [old.pk]


# -- escalation chains -------------------------------------------------------------------------------


def test_chain_delete_refused_while_in_use(world: Any) -> None:
    api = world.api(world.lead)
    apac = EscalationChain.objects.create(name="APAC P1", team=world.apac, priorities=["P1"])
    EscalationStep.objects.create(chain=apac, level=0, user=world.lead)
    caller = EscalationChain.objects.create(name="EMEA P1", team=world.emea, priorities=["P1"])
    EscalationStep.objects.create(chain=caller, level=0, user=world.agent_emea)
    EscalationStep.objects.create(chain=caller, level=1, next_chain=apac)
    code, body = api._call("delete", f"/api/v1/escalation-chains/{apac.pk}")
    assert code == 409 and body["detail"] == "chain: chain(s) EMEA P1 hand off to it; change their steps first"
    EscalationStep.objects.filter(chain=caller, level=1).delete()
    # The only chain paging P1 for APAC (no global one).
    code, body = api._call("delete", f"/api/v1/escalation-chains/{apac.pk}")
    assert code == 409 and "last chain paging P1 for team APAC" in body["detail"]
    fallback = EscalationChain.objects.create(name="Global P1", priorities=["P1"])
    EscalationStep.objects.create(chain=fallback, level=0, user=world.admin)
    # A page still escalating through it.
    t = services.create_ticket(actor=world.bob, requester=world.bob, subject="urgent", now=utc(2026, 12, 2, 3))
    page = Page.objects.create(ticket=t, chain=apac, reason="nobody on shift")
    code, body = api._call("delete", f"/api/v1/escalation-chains/{apac.pk}")
    assert code == 409 and "1 open page(s)" in body["detail"]
    assert world.api(world.agent)._call("delete", f"/api/v1/escalation-chains/{apac.pk}")[0] == 403
    Page.objects.filter(pk=page.pk).update(status=Page.RESOLVED)
    code, body = api._call("delete", f"/api/v1/escalation-chains/{apac.pk}")
    assert code == 204, body
    assert not EscalationChain.objects.filter(pk=apac.pk).exists()
    assert not EscalationStep.objects.filter(chain_id=apac.pk).exists()
    page.refresh_from_db()
    assert page.chain_id is None and page.status == Page.RESOLVED  # the record stays
    # The global one is now the only P1 chain for APAC: kept.
    code, body = api._call("delete", f"/api/v1/escalation-chains/{fallback.pk}")
    assert code == 409 and "only chain paging P1 for team APAC" in body["detail"]
    # A chain for priorities that never page goes.
    p4 = EscalationChain.objects.create(name="P4", priorities=["P4"])
    assert api._call("delete", f"/api/v1/escalation-chains/{p4.pk}")[0] == 204
    assert api._call("delete", f"/api/v1/escalation-chains/{p4.pk}")[0] == 404


def test_chain_loop_on_update_is_refused(world: Any) -> None:
    api = world.api(world.lead)
    code, a = api.post("/api/v1/escalation-chains", {"name": "A", "steps": [{"user_id": world.lead.pk}]})
    assert code == 201
    code, body = api.put(f"/api/v1/escalation-chains/{a['id']}", {"name": "A", "steps": [{"user_id": world.lead.pk}, {"chain_id": a["id"]}]})
    assert code == 422 and body["detail"].startswith("steps:") and "A → A" in body["detail"]
    assert list(EscalationStep.objects.filter(chain_id=a["id"]).values_list("level", "user_id", "next_chain_id")) == [(0, world.lead.pk, None)]
