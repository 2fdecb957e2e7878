"""Routing API: rotations, overrides, time off, profiles, presence, chains, pages, coverage,
on-call and iCal — bad input names the field and writes nothing; customers see nothing."""

from __future__ import annotations

from typing import Any

import icalendar
import pytest

from relaydesk.routing.models import (
    AgentProfile,
    Assignment,
    EscalationChain,
    EscalationStep,
    Page,
    Rotation,
    ScheduleOverride,
    TimeOff,
)
from relaydesk.tickets import services

from .conftest import make_team_member, rotation, utc

ROT = {
    "name": "SG day", "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9", "dtstart": "2026-01-05T09:00:00",
    "duration_minutes": 540, "member_ids": [],
}


def counts() -> tuple[int, ...]:
    return (Rotation.objects.count(), ScheduleOverride.objects.count(), EscalationChain.objects.count(), EscalationStep.objects.count(), AgentProfile.objects.count())


def test_create_rotation_and_list(world: Any) -> None:
    api = world.api(world.lead)
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/rotations", ROT | {"member_ids": [world.agent.pk]})
    assert code == 201, body
    assert body["rrule"] == ROT["rrule"] and body["member_ids"] == [world.agent.pk]
    code, body = api.get(f"/api/v1/teams/{world.apac.pk}/rotations")
    assert code == 200 and [r["name"] for r in body] == ["SG day"]
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/rotations", ROT | {"member_ids": [world.agent.pk]})
    assert code == 409 and body["detail"].startswith("name:")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule:"),
        ({"rrule": "BYHOUR=9"}, "rrule:"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule:"),
        ({"dtstart": "2026-01-05T09:00:00+08:00"}, "dtstart:"),
        ({"kind": "sometimes"}, "kind:"),
        ({"restrictions": [{"days": "mon-fry", "start": "09:00", "end": "18:00"}]}, "restrictions[0]:"),
        ({"duration_minutes": 0}, "duration_minutes:"),
        ({"member_ids": []}, "member_ids:"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_bad_rotations_name_the_field_and_save_nothing(world: Any, change: dict[str, Any], field: str) -> None:
    before = counts()
    code, body = world.api(world.lead).post(f"/api/v1/teams/{world.apac.pk}/rotations", ROT | {"member_ids": [world.agent.pk]} | change)
    assert code in (400, 422) and body["detail"].startswith(field), body
    assert counts() == before


def test_members_must_be_staff_of_the_team(world: Any) -> None:
    from tests.conftest import make_staff

    loner = make_staff("loner@relaydesk.test", "agent", None)
    api = world.api(world.lead)
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/rotations", ROT | {"member_ids": [world.agent.pk, loner.pk]})
    assert code == 422 and body["detail"].startswith("member_ids[1]:") and "no team" in body["detail"]
    code, body = api.post(f"/api/v1/teams/{world.apac.pk}/rotations", ROT | {"member_ids": [world.agent_emea.pk]})
    assert code == 422 and "another team" in body["detail"]
    code, body = api.put(f"/api/v1/agents/{loner.pk}/profile", {"capacity": {"P1": 3}})
    assert code == 422 and body["detail"].startswith("team:")
    assert Rotation.objects.count() == 0 and AgentProfile.objects.count() == 0


def test_unknown_timezone_is_refused(world: Any) -> None:
    code, body = world.api(world.lead).put(f"/api/v1/teams/{world.apac.pk}/timezone", {"timezone": "Asia/Atlantis"})
    assert code == 422 and body["detail"].startswith("timezone:") and "Asia/Atlantis" in body["detail"]
    world.apac.refresh_from_db()
    assert world.apac.timezone == "Asia/Singapore"
    code, body = world.api(world.lead).put(f"/api/v1/teams/{world.apac.pk}/timezone", {"timezone": "Asia/Kuala_Lumpur"})
    assert code == 200 and body["timezone"] == "Asia/Kuala_Lumpur"


def test_overlapping_overrides_are_refused(world: Any) -> None:
    r = rotation(world.apac, "SG day", [world.agent], ROT["rrule"], ROT["dtstart"], 540)
    api = world.api(world.lead)
    ok = {"user_id": world.lead.pk, "start": "2026-12-02T01:00:00Z", "end": "2026-12-02T05:00:00Z"}
    code, body = api.post(f"/api/v1/rotations/{r.pk}/overrides", ok)
    assert code == 201, body
    code, body = api.post(f"/api/v1/rotations/{r.pk}/overrides", ok | {"start": "2026-12-02T04:00:00Z", "end": "2026-12-02T06:00:00Z"})
    assert code == 422 and body["detail"].startswith("start:") and "overlaps" in body["detail"]
    code, body = api.post(f"/api/v1/rotations/{r.pk}/overrides", ok | {"start": "2026-12-02T06:00:00Z", "end": "2026-12-02T05:00:00Z"})
    assert code == 422 and body["detail"].startswith("end:")
    code, body = api.post(f"/api/v1/rotations/{r.pk}/overrides", ok | {"start": "2026-12-02T06:00:00", "end": "2026-12-02T07:00:00Z"})
    assert code == 422 and body["detail"].startswith("start:")
    assert ScheduleOverride.objects.count() == 1


def test_chain_with_a_loop_is_refused_and_nothing_saved(world: Any) -> None:
    api = world.api(world.lead)
    code, a = api.post("/api/v1/escalation-chains", {"name": "A", "steps": [{"user_id": world.lead.pk}]})
    assert code == 201, a
    code, b = api.post("/api/v1/escalation-chains", {"name": "B", "steps": [{"user_id": world.agent.pk}, {"chain_id": a["id"]}]})
    assert code == 201, b
    before = counts()
    code, body = api.put(f"/api/v1/escalation-chains/{a['id']}", {"name": "A", "steps": [{"user_id": world.lead.pk}, {"chain_id": b["id"]}]})
    assert code == 422 and body["detail"].startswith("steps:") and "loop" in body["detail"] and "A → B → A" in body["detail"]
    assert counts() == before
    assert list(EscalationStep.objects.filter(chain_id=a["id"]).values_list("user_id", flat=True)) == [world.lead.pk]
    code, body = api.post("/api/v1/escalation-chains", {"name": "C", "steps": [{"user_id": world.lead.pk, "chain_id": a["id"]}]})
    assert code == 422 and body["detail"].startswith("steps[0]:")
    code, body = api.post("/api/v1/escalation-chains", {"name": "C", "priorities": ["P9"], "steps": [{"user_id": world.lead.pk}]})
    assert code == 422 and body["detail"].startswith("priorities[0]:")
    code, body = api.post("/api/v1/escalation-chains", {"name": "C", "webhook_url": "http://127.0.0.1:9/x", "steps": [{"user_id": world.lead.pk}]})
    assert code == 422 and body["detail"].startswith("webhook_secret:")
    assert counts() == before


def test_profile_presence_and_permissions(world: Any) -> None:
    code, body = world.api(world.agent).put(f"/api/v1/agents/{world.agent.pk}/presence", {"presence": "busy"})
    assert code == 200 and body["presence"] == "busy"
    code, body = world.api(world.agent).put(f"/api/v1/agents/{world.agent.pk}/presence", {"presence": "sleeping"})
    assert code == 422 and body["detail"].startswith("presence:")
    code, _ = world.api(world.agent).put(f"/api/v1/agents/{world.agent_emea.pk}/presence", {"presence": "away"})
    assert code == 403
    code, _ = world.api(world.agent).put(f"/api/v1/agents/{world.agent.pk}/profile", {"capacity": {"P1": 9}})
    assert code == 403
    lead = world.api(world.lead)
    code, body = lead.put(f"/api/v1/agents/{world.agent.pk}/profile", {"capacity": {"P1": 3}, "skills": ["sdk:android"], "backup_id": world.agent_emea.pk})
    assert code == 200 and body["capacity"]["P1"] == 3 and body["capacity"]["P3"] == 8 and body["backup_id"] == world.agent_emea.pk
    code, body = lead.put(f"/api/v1/agents/{world.agent.pk}/profile", {"capacity": {"P7": 3}})
    assert code == 422 and body["detail"].startswith("capacity.P7:")
    code, body = lead.put(f"/api/v1/agents/{world.agent.pk}/profile", {"skills": ["android"]})
    assert code == 422 and body["detail"].startswith("skills[0]:")
    assert AgentProfile.objects.get(user=world.agent).skills == ["sdk:android"]


def test_assignments_visible_to_staff_only_and_never_across_tenants(world: Any) -> None:
    rotation(world.apac, "SG day", [world.agent], ROT["rrule"], ROT["dtstart"], 540)
    t = services.create_ticket(actor=world.bob, requester=world.bob, subject="卡顿", now=utc(2026, 12, 2, 3))
    code, body = world.api(world.agent).get(f"/api/v1/tickets/{t.pk}/assignments")
    assert code == 200 and body[0]["summary"].startswith("assigned to Mei; on shift SG; zh-Hans")
    # Bob's own ticket: the reasons are internal.  Carol (another organisation): not found.
    assert world.api(world.bob).get(f"/api/v1/tickets/{t.pk}/assignments")[0] == 403
    assert world.api(world.carol).get(f"/api/v1/tickets/{t.pk}/assignments")[0] == 404
    assert world.api(world.carol).post(f"/api/v1/tickets/{t.pk}/assign", {"mode": "auto"})[0] == 403  # staff only
    # Jonas's team does not serve Panda Video: not found for him either.
    assert world.api(world.agent_emea).get(f"/api/v1/tickets/{t.pk}/assignments")[0] == 404


def test_manual_assign_api(world: Any) -> None:
    t = services.create_ticket(actor=world.bob, requester=world.bob, subject="x")
    api = world.api(world.lead)
    code, body = api.post(f"/api/v1/tickets/{t.pk}/assign", {"mode": "manual", "agent_id": world.agent.pk})
    assert code == 200 and body["rule"] == "manual" and body["agent_id"] == world.agent.pk
    code, body = api.post(f"/api/v1/tickets/{t.pk}/assign", {"mode": "manual", "agent_id": world.admin.pk})
    assert code == 422 and body["detail"].startswith("agent_id:")
    code, body = api.post(f"/api/v1/tickets/{t.pk}/assign", {"mode": "sideways"})
    assert code == 422 and body["detail"].startswith("mode:")
    code, body = api.post(f"/api/v1/tickets/{t.pk}/assign", {"mode": "round_robin", "team_id": world.apac.pk})
    assert code == 409 and body["detail"].startswith("team_id:")  # nobody of APAC is on shift (no rotations)
    assert Assignment.objects.filter(ticket=t, rule="manual").count() == 1


def test_without_schedules_routing_changes_nothing(world: Any) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="x", priority="P1", team=world.apac)
    t.refresh_from_db()
    assert (t.assignee, t.team) == (None, world.apac)
    assert not Assignment.objects.exists() and not Page.objects.exists()


# Every routing endpoint, with the ids of APAC's setup (rotation, override, chain, a page about
# Panda Video's ticket, which APAC serves).  Writes are for leads and admins; reads of
# schedules and profiles for every staff member; pages follow ticket tenancy.
ENDPOINTS = [
    ("get", "/api/v1/teams", None),
    ("post", "/api/v1/teams", {"name": "LATAM", "region": "br", "timezone": "America/Sao_Paulo"}),
    ("get", "/api/v1/teams/{apac}", None),
    ("patch", "/api/v1/teams/{apac}", {"name": "APAC 2", "languages": ["en"]}),
    ("delete", "/api/v1/teams/{apac}", None),
    ("post", "/api/v1/teams/{apac}/members", {"user_id": "{agent_emea}", "move": True}),
    ("delete", "/api/v1/teams/{apac}/members/{agent}", None),
    ("get", "/api/v1/teams/{apac}/rotations", None),
    ("post", "/api/v1/teams/{apac}/rotations", ROT | {"name": "SG late", "member_ids": ["{agent}"]}),
    ("patch", "/api/v1/rotations/{rotation}", {"duration_minutes": 480}),
    ("delete", "/api/v1/rotations/{rotation}", None),
    ("put", "/api/v1/teams/{apac}/timezone", {"timezone": "Asia/Kuala_Lumpur"}),
    ("post", "/api/v1/rotations/{rotation}/overrides", {"user_id": "{agent}", "start": "2026-12-09T01:00:00Z", "end": "2026-12-09T02:00:00Z"}),
    ("delete", "/api/v1/overrides/{override}", None),
    ("post", "/api/v1/time-off", {"user_id": "{agent}", "start": "2026-12-01T00:00Z", "end": "2026-12-02T00:00Z"}),
    ("get", "/api/v1/time-off", None),
    ("delete", "/api/v1/time-off/{time_off}", None),
    ("get", "/api/v1/agents/{agent}/profile", None),
    ("put", "/api/v1/agents/{agent}/profile", {"capacity": {"P1": 1}}),
    ("put", "/api/v1/agents/{agent}/presence", {"presence": "away"}),
    ("get", "/api/v1/tickets/{ticket}/assignments", None),
    ("post", "/api/v1/tickets/{ticket}/assign", {"mode": "manual", "agent_id": "{agent}"}),
    ("get", "/api/v1/escalation-chains", None),
    ("post", "/api/v1/escalation-chains", {"name": "X", "steps": [{"user_id": "{agent}"}]}),
    ("put", "/api/v1/escalation-chains/{chain}", {"name": "APAC P1", "steps": [{"user_id": "{agent_emea}"}]}),
    ("delete", "/api/v1/escalation-chains/{chain}", None),
    ("get", "/api/v1/pages", None),
    ("post", "/api/v1/pages/{page}/ack", {}),
    ("post", "/api/v1/pages/{page}/resolve", {}),
    ("get", "/api/v1/oncall", None),
    ("get", "/api/v1/coverage", None),
    ("get", "/api/v1/teams/{apac}/calendar.ics", None),
    ("get", "/api/v1/agents/{agent}/calendar.ics", None),
]

# What Jonas (an agent of EMEA, which does not serve Panda Video) gets from each of them.
OTHER_TEAM_AGENT = {
    "/api/v1/teams": {"get": 200, "post": 403},
    "/api/v1/teams/{apac}": {"get": 200, "patch": 403, "delete": 403},
    "/api/v1/teams/{apac}/members": {"post": 403},
    "/api/v1/teams/{apac}/members/{agent}": {"delete": 403},
    "/api/v1/teams/{apac}/rotations": {"get": 200, "post": 403},
    "/api/v1/rotations/{rotation}": {"patch": 403, "delete": 403},
    "/api/v1/teams/{apac}/timezone": {"put": 403},
    "/api/v1/rotations/{rotation}/overrides": {"post": 403},
    "/api/v1/overrides/{override}": {"delete": 403},
    "/api/v1/time-off": {"post": 403, "get": 200},
    "/api/v1/time-off/{time_off}": {"delete": 403},
    "/api/v1/agents/{agent}/profile": {"get": 200, "put": 403},
    "/api/v1/agents/{agent}/presence": {"put": 403},
    "/api/v1/tickets/{ticket}/assignments": {"get": 404},
    "/api/v1/tickets/{ticket}/assign": {"post": 404},
    "/api/v1/escalation-chains": {"get": 200, "post": 403},
    "/api/v1/escalation-chains/{chain}": {"put": 403, "delete": 403},
    "/api/v1/pages": {"get": 200},
    "/api/v1/pages/{page}/ack": {"post": 404},
    "/api/v1/pages/{page}/resolve": {"post": 404},
    "/api/v1/oncall": {"get": 200},
    "/api/v1/coverage": {"get": 200},
    "/api/v1/teams/{apac}/calendar.ics": {"get": 200},
    "/api/v1/agents/{agent}/calendar.ics": {"get": 200},
}


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


def _setup(world: Any) -> dict[str, int]:
    """APAC's schedule, an override, a chain, and a page about Bob's (Panda Video's) ticket."""
    r = rotation(world.apac, "SG day", [world.agent], ROT["rrule"], ROT["dtstart"], 540)
    o = ScheduleOverride.objects.create(rotation=r, user=world.lead, start=utc(2026, 12, 2, 1), end=utc(2026, 12, 2, 5))
    chain = EscalationChain.objects.create(name="APAC P1", team=world.apac, priorities=["P1"])
    EscalationStep.objects.create(chain=chain, level=0, user=world.lead)
    t = services.create_ticket(actor=world.bob, requester=world.bob, subject="卡顿", now=utc(2026, 12, 2, 3))
    page = Page.objects.create(ticket=t, chain=chain, reason="nobody on shift")
    off = TimeOff.objects.create(user=world.agent, start=utc(2026, 12, 20), end=utc(2026, 12, 24), reason="holiday")
    return {
        "apac": world.apac.pk, "agent": world.agent.pk, "agent_emea": world.agent_emea.pk, "rotation": r.pk,
        "override": o.pk, "chain": chain.pk, "ticket": t.pk, "page": page.pk,
        "time_off": off.pk,
    }


def _state() -> tuple[Any, ...]:
    from relaydesk.core.models import Team, User
    from relaydesk.tickets.models import Ticket

    return (
        counts(), TimeOff.objects.count(), Assignment.objects.count(),
        sorted(Team.objects.values_list("pk", "name", "timezone", "region_id", "languages", "lead_id", "serves_all")),
        sorted(User.objects.values_list("pk", "team_id")),
        sorted(Rotation.objects.values_list("pk", "name", "duration_minutes", "member_ids")),
        sorted(Page.objects.values_list("pk", "status")),
        sorted(EscalationStep.objects.values_list("chain_id", "level", "user_id")),
        sorted(AgentProfile.objects.values_list("user_id", "presence", "capacity")),
        sorted(Ticket.objects.values_list("pk", "assignee_id", "team_id")),
    )


def _call(world: Any, user: Any, method: str, url: str, payload: Any) -> tuple[int, Any]:
    api = world.api(user)
    if method == "delete":
        return api._call("delete", url)
    return getattr(api, method)(url, payload)


@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
def test_customers_get_nothing_from_routing_endpoints(world: Any, method: str, path: str, payload: Any) -> None:
    ids = _setup(world)
    before = _state()
    code, body = _call(world, world.alice, method, path.format(**ids), _fill(payload, ids))
    # Another organisation's ticket may be "not found" to her (ticket tenancy); otherwise 403.
    assert code in ((403, 404) if "{ticket}" in path else (403,)), body
    assert b"Mei" not in (body if isinstance(body, bytes) else str(body).encode())
    assert _state() == before


@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
def test_agents_of_another_team_neither_change_its_setup_nor_see_its_pages(
    world: Any, method: str, path: str, payload: Any
) -> None:
    ids = _setup(world)
    before = _state()
    code, body = _call(world, world.agent_emea, method, path.format(**ids), _fill(payload, ids))
    assert code == OTHER_TEAM_AGENT[path][method], body
    assert _state() == before
    if path == "/api/v1/pages":
        assert body == []  # the page about Panda Video's ticket is not his


def test_every_routing_endpoint_is_covered_by_the_tenancy_tests() -> None:
    from relaydesk.routing.api import router

    routes = {(m.lower(), p) for p, view in router.path_operations.items() for op in view.operations for m in op.methods}
    listed = {(m, p.replace("{apac}", "{int:team_id}").replace("{agent}", "{int:user_id}")) for m, p, _ in ENDPOINTS}
    normal = {
        "{rotation}": "{int:rotation_id}", "{override}": "{int:override_id}", "{chain}": "{int:chain_id}",
        "{ticket}": "{int:ticket_id}", "{page}": "{int:page_id}", "{time_off}": "{int:time_off_id}",
    }
    for k, v in normal.items():
        listed = {(m, p.replace(k, v)) for m, p in listed}
    assert {(m, "/api/v1" + p) for m, p in routes} == listed


def test_leads_and_admins_act_on_any_page_agents_on_their_tickets_and_pages_to_them(world: Any) -> None:
    from relaydesk.routing.models import PageNotification

    ids = _setup(world)
    code, body = world.api(world.agent).get("/api/v1/pages")
    assert code == 200 and [p["id"] for p in body] == [ids["page"]]  # APAC serves Panda Video
    assert world.api(world.lead).get("/api/v1/pages")[1][0]["id"] == ids["page"]
    # A page addressed to Jonas himself (he is on the chain) is his to see and acknowledge.
    PageNotification.objects.create(page_id=ids["page"], user=world.agent_emea, level=0)
    api = world.api(world.agent_emea)
    code, body = api.get("/api/v1/pages")
    assert code == 200 and [p["id"] for p in body] == [ids["page"]]
    code, body = api.post(f"/api/v1/pages/{ids['page']}/ack")
    assert code == 200 and body["status"] == "acknowledged"
    code, body = world.api(world.admin).post(f"/api/v1/pages/{ids['page']}/resolve")
    assert code == 200 and body["status"] == "resolved"


def test_pages_api_ack_and_resolve(world: Any) -> None:
    rotation(world.apac, "SG day", [world.agent], ROT["rrule"], ROT["dtstart"], 540)
    EscalationChain.objects.create(name="G", priorities=["P1"])
    EscalationStep.objects.create(chain=EscalationChain.objects.get(), level=0, user=world.lead)
    # Filed at 04:00 on a Sunday in Singapore, when the weekday day shift is off: a page.
    sunday_night = utc(2026, 12, 5, 20, 0)
    t = services.create_ticket(actor=world.carol, requester=world.carol, subject="down", priority="P1", now=sunday_night)
    page = Page.objects.get(ticket=t)
    api = world.api(world.agent_emea)
    code, body = api.get("/api/v1/pages", {"status": "open"})
    assert code == 200 and [p["id"] for p in body] == [page.pk]
    assert api.get("/api/v1/pages", {"status": "sleepy"})[0] == 422
    code, body = api.post(f"/api/v1/pages/{page.pk}/ack")
    assert code == 200 and body["status"] == "acknowledged"
    code, body = api.post(f"/api/v1/pages/{page.pk}/resolve")
    assert code == 200 and body["status"] == "resolved"
    assert api.post("/api/v1/pages/99999/ack")[0] == 404


def test_oncall_coverage_and_ical(world: Any) -> None:
    tom = make_team_member(world.apac, "tom@relaydesk.test", "Tom", ["en"])
    rotation(world.apac, "SG day", [world.agent], ROT["rrule"], ROT["dtstart"], 540)
    rotation(world.apac, "SG night", [tom], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=18", ROT["dtstart"].replace("09", "18"), 540)
    api = world.api(world.agent)
    code, body = api.get("/api/v1/oncall", {"at": "2026-12-02T11:00:00+08:00"})
    assert code == 200 and [(r["name"], r["layer"]) for r in body] == [("Mei", "SG day")]
    code, body = api.get("/api/v1/oncall", {"at": "2026-12-02T23:00:00+08:00", "language": "zh-Hans"})
    assert code == 200 and body == []
    assert api.get("/api/v1/oncall", {"at": "2026-12-02T23:00:00"})[0] == 422
    code, cov = api.get("/api/v1/coverage", {"start": "2026-12-04T00:00:00+08:00", "days": 3})
    assert code == 200 and len(cov["hours"]) == 72
    h = {x["start"]: x for x in cov["hours"]}
    assert h["2026-12-04T03:00:00+00:00"]["agents"] == ["Mei"] and h["2026-12-04T03:00:00+00:00"]["languages"] == {"en": 1, "zh-Hans": 1}
    assert h["2026-12-04T12:00:00+00:00"]["agents"] == ["Tom"]
    # Day 09:00–18:00 and night 18:00–03:00 SGT on weekdays leave 03:00–09:00 and the weekend
    # uncovered: gaps of every 24×7 promise (P1 of enterprise in Acme's English, for instance).
    gaps = [g for g in cov["gaps"] if g["plan"] == "enterprise" and g["priority"] == "P1" and g["language"] == "en"]
    assert [(g["start"], g["end"]) for g in gaps] == [
        ("2026-12-03T19:00:00+00:00", "2026-12-04T01:00:00+00:00"),  # Friday 03:00–09:00 SGT
        ("2026-12-04T19:00:00+00:00", "2026-12-06T16:00:00+00:00"),  # Saturday 03:00 to the end
    ]
    zh = [g for g in cov["gaps"] if g["plan"] == "enterprise" and g["priority"] == "P1" and g["language"] == "zh-Hans"]
    assert zh == []  # the only enterprise customer (Acme) writes English
    # nobody is on call yet: every gap is unanswered
    assert all(g["on_call_fraction"] == 0 and g["unanswered_hours"] == g["hours"] for g in cov["gaps"])
    # an on-call layer for the weekend (Sat 03:00 to Mon 03:00 SGT) answers P1 and 24x7 P2 gaps
    # by paging; a priority that does not page (P3/P4 24x7 promises) stays unanswered
    rotation(world.apac, "SG weekend on call", [tom], "FREQ=WEEKLY;BYDAY=SA;BYHOUR=3",
             ROT["dtstart"].replace("2026-01-05T09", "2026-01-03T03"), 48 * 60, kind="oncall")
    _, cov = api.get("/api/v1/coverage", {"start": "2026-12-04T00:00:00+08:00", "days": 3})
    by = {(g["plan"], g["priority"], g["language"], g["start"]): g for g in cov["gaps"]}
    weekend = by[("enterprise", "P1", "en", "2026-12-04T19:00:00+00:00")]
    assert weekend["pages_on_call"] and weekend["on_call_fraction"] == 1.0 and weekend["unanswered_hours"] == 0
    friday = by[("enterprise", "P1", "en", "2026-12-03T19:00:00+00:00")]
    assert friday["on_call_fraction"] == 0 and friday["unanswered_hours"] == 6
    for g in cov["gaps"]:
        if g["priority"] not in ("P1", "P2"):
            assert not g["pages_on_call"] and g["unanswered_hours"] == g["hours"]
    assert api.get("/api/v1/coverage", {"days": 90})[0] == 422
    resp = api.client.get(f"/api/v1/teams/{world.apac.pk}/calendar.ics", HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(resp.content)
    assert len(list(cal.walk("VEVENT"))) > 10
    feed = resp["X-Feed-URL"].split("127.0.0.1:8000", 1)[1]
    from django.test import Client

    assert Client().get(feed).status_code == 200
    assert Client().get(feed.replace(".ics", "x.ics")).status_code == 404
    resp = api.client.get(f"/api/v1/agents/{tom.pk}/calendar.ics", HTTP_AUTHORIZATION=f"Bearer {api.token}")
    events = list(icalendar.Calendar.from_ical(resp.content).walk("VEVENT"))
    assert events and all(str(e["summary"]).startswith("Tom") for e in events)


def test_cli_oncall_who(world: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    rotation(world.apac, "SG day", [world.agent], ROT["rrule"], ROT["dtstart"], 540)
    out = StringIO()
    call_command("oncall", "who", "--at", "2026-12-24T11:00+08:00", "--language", "zh-Hans", stdout=out)
    assert "Mei" in out.getvalue() and "SG day" in out.getvalue()
    out = StringIO()
    call_command("oncall", "who", "--at", "2026-12-24T03:00+08:00", stdout=out)
    assert out.getvalue().strip() == "nobody is on shift or on call then"
    with pytest.raises(CommandError, match="--at"):
        call_command("oncall", "who", "--at", "2026-12-24T03:00")
