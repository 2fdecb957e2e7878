"""Directory endpoints: staff read, admins write, with clear errors."""

from __future__ import annotations

import pytest

from relaydesk.sla.models import BusinessCalendar, SLAPolicy

pytestmark = pytest.mark.django_db


def test_regions_calendars_policies_read(world) -> None:
    api = world.api(world.agent)
    status, regions = api.get("/api/v1/regions")
    assert status == 200 and {r["code"] for r in regions} == {"sg", "de", "br"}
    status, cals = api.get("/api/v1/calendars")
    assert status == 200 and len(cals) == 3
    status, policies = api.get("/api/v1/sla/policies")
    assert status == 200 and policies[0]["is_active"] and len(policies[0]["rules"]) == 16
    assert world.api(world.alice).get("/api/v1/calendars")[0] == 403


def test_only_admin_writes(world) -> None:
    spec = {"tz": "Asia/Dubai", "hours": {"mon": ["09:00-18:00"]}, "holidays": {"country": "AE"}}
    status, _ = world.api(world.lead).post("/api/v1/calendars", {"name": "Dubai", "spec": spec})
    assert status == 403
    status, body = world.api(world.admin).post("/api/v1/calendars", {"name": "Dubai", "spec": spec})
    assert status == 201, body
    assert BusinessCalendar.objects.filter(name="Dubai").exists()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"tz": "Mars/Olympus", "hours": {"mon": ["09:00-18:00"]}}, "Mars/Olympus"),
        ({"tz": "UTC", "hours": {"mon": ["9-5"]}}, "9-5"),
        ({"tz": "UTC", "hours": {"funday": ["09:00-10:00"]}}, "funday"),
        ({"tz": "UTC", "hours": {}}, "open"),
    ],
)
def test_bad_calendar_spec(world, spec, needle) -> None:
    status, body = world.api(world.admin).post("/api/v1/calendars", {"name": "bad", "spec": spec})
    assert status == 422 and needle in body["detail"], body
    assert not BusinessCalendar.objects.filter(name="bad").exists()


def test_create_org_user_region_and_rule(world) -> None:
    api = world.api(world.admin)
    status, org = api.post("/api/v1/organisations", {"name": "Nova Chat", "plan": "business", "home_region": "br", "language": "en", "timezone": "America/Sao_Paulo"})
    assert status == 201, org
    assert api.post("/api/v1/organisations", {"name": "Nova Chat", "plan": "business", "home_region": "br"})[0] == 409
    assert api.post("/api/v1/organisations", {"name": "X", "plan": "gold", "home_region": "br"})[0] == 422
    assert api.post("/api/v1/organisations", {"name": "Y", "plan": "business", "home_region": "br", "timezone": "Nowhere/City"})[0] == 422
    status, user = api.post("/api/v1/users", {"email": "nina@nova.test", "role": "customer", "organisation_id": org["id"]})
    assert status == 201 and user["role"] == "customer"
    status, body = api.post("/api/v1/users", {"email": "z@nova.test", "role": "customer"})
    assert status == 422 and "organisation_id" in body["detail"]
    status, region = api.post("/api/v1/regions", {"code": "mx", "name": "Mexico City", "country": "MX", "timezone": "America/Mexico_City"})
    assert status == 201, region
    assert api.post("/api/v1/regions", {"code": "zz", "name": "Nowhere", "country": "QQ", "timezone": "UTC"})[0] == 422
    policy = SLAPolicy.objects.get(is_active=True)
    status, rule = api.post(f"/api/v1/sla/policies/{policy.pk}/rules", {"order": 5, "name": "P1 billing", "priority": "P1", "category": "billing", "first_response_minutes": 120})
    assert status == 201, rule
    assert api.post(f"/api/v1/sla/policies/{policy.pk}/rules", {"order": 5})[0] == 409
    assert api.post(f"/api/v1/sla/policies/{policy.pk}/rules", {"order": 6, "calendar_mode": "calendar"})[0] == 422


def test_plan_change_retargets_open_tickets(world) -> None:
    _, t = world.api(world.carol).post("/api/v1/tickets", {"subject": "x", "priority": "P1"})
    assert t["sla"]["rule"] == "Business P1"
    status, _ = world.api(world.admin).patch(f"/api/v1/organisations/{world.globex.pk}", {"plan": "enterprise"})
    assert status == 200
    _, t2 = world.api(world.carol).get(f"/api/v1/tickets/{t['id']}")
    assert t2["sla"]["rule"] == "Enterprise P1"
    assert t2["sla"]["first_response"]["target_minutes"] == 15
