"""Incidents through the API: create, timeline, lifecycle (409), validation (422), who may."""

from __future__ import annotations

from typing import Any

import pytest

from relaydesk.incidents.models import (
    AffectedOrganisation,
    Component,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    Notice,
)
from relaydesk.notify.models import OutboundEmail

pytestmark = pytest.mark.django_db

NEW = {
    "service": "rtc",
    "region": "sg",
    "title_en": "Join failures on Telkomsel",
    "title_zh": "Telkomsel 加入频道失败",
    "body_en": "We are investigating join failures.",
    "body_zh": "我们正在调查加入频道失败的问题。",
    "severity": "major",
    "carriers": ["AS7713"],
}


def ops(world: Any) -> Any:
    return world.api(world.lead, ["incidents:write"])


def counts() -> tuple[int, int, int, int]:
    return (
        Incident.objects.count(),
        IncidentUpdate.objects.count(),
        Notice.objects.count(),
        AffectedOrganisation.objects.count(),
    )


def test_create_manual_incident_finds_affected_and_writes_notices(place: Any) -> None:
    status, body = ops(place).post("/api/v1/incidents", NEW)
    assert status == 201, body
    assert body["status"] == "investigating" and body["impact"] == "partial_outage"
    assert [a["name"] for a in body["affected"]] == ["Acme Live", "Panda Video"]  # key account first
    assert body["affected"][0]["is_key_account"] is True
    assert body["updates"][0]["notices"] == 2  # alice@acme and bob@panda
    assert Component.objects.get(service__code="rtc", region=place.sg).status == "partial_outage"
    # Globex is in Frankfurt: not told
    assert not Notice.objects.filter(organisation=place.globex).exists()
    # the account manager of the key account is told by e-mail
    mgr = OutboundEmail.objects.get(kind="incident_key_account")
    assert mgr.to == [place.agent.email] and "Acme Live" in mgr.subject


def test_lifecycle_updates_and_resolved_is_final(place: Any) -> None:
    api = ops(place)
    _, inc = api.post("/api/v1/incidents", NEW)
    path = f"/api/v1/incidents/{inc['id']}/updates"
    for st in ("identified", "monitoring", "resolved"):
        status, body = api.post(path, {"status": st, "body_en": f"now {st}"})
        assert status == 201, body
    _, detail = api.get(f"/api/v1/incidents/{inc['id']}")
    assert [u["status"] for u in detail["updates"]] == ["investigating", "identified", "monitoring", "resolved"]
    assert detail["identified_at"] and detail["monitoring_at"] and detail["resolved_at"]
    assert Component.objects.get(service__code="rtc", region=place.sg).status == "operational"
    hist = list(ComponentStatusChange.objects.values_list("status", flat=True))
    assert hist == ["partial_outage", "operational"]
    before = counts()
    status, body = api.post(path, {"status": "investigating", "body_en": "again?"})
    assert status == 409 and "resolved" in body["detail"]
    assert counts() == before


def test_step_back_is_allowed_while_active(place: Any) -> None:
    api = ops(place)
    _, inc = api.post("/api/v1/incidents", NEW)
    path = f"/api/v1/incidents/{inc['id']}/updates"
    assert api.post(path, {"status": "monitoring", "body_en": "fix deployed"})[0] == 201
    assert api.post(path, {"status": "investigating", "body_en": "fix did not hold", "severity": "critical"})[0] == 201
    assert Component.objects.get(service__code="rtc", region=place.sg).status == "major_outage"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service": "nope"}, "service"),
        ({"region": "mars"}, "region"),
        ({"severity": "huge"}, "severity"),
        ({"status": "resolved"}, "status"),
        ({"title_en": ""}, "title_en"),
        ({"body_en": None}, "body_en"),
        ({"impact": "operational"}, "impact"),
        ({"organisations": [999999]}, "organisations"),
        ({"started_at": "2999-01-01T00:00:00Z"}, "started_at"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(place: Any, change: dict[str, Any], field: str) -> None:
    before = counts()
    status, body = ops(place).post("/api/v1/incidents", {**NEW, **change})
    assert status == 422, body
    assert field in body["detail"]
    assert counts() == before
    assert not OutboundEmail.objects.exists()


def test_update_validation(place: Any) -> None:
    api = ops(place)
    _, inc = api.post("/api/v1/incidents", NEW)
    path = f"/api/v1/incidents/{inc['id']}/updates"
    before = counts()
    for bad, field in (({"status": "fixed", "body_en": "x"}, "status"), ({"status": "identified", "body_en": "  "}, "body_en")):
        status, body = api.post(path, bad)
        assert status == 422 and field in body["detail"], body
    assert counts() == before
    assert api.post("/api/v1/incidents/999999/updates", {"status": "identified", "body_en": "x"})[0] == 404


def test_who_may(place: Any) -> None:
    # customers may not run incidents nor read staff detail
    status, _ = place.api(place.alice).post("/api/v1/incidents", NEW)
    assert status == 403
    # staff without the incidents:write scope may read but not write
    reader = place.api(place.agent, ["tickets:read"])
    assert reader.post("/api/v1/incidents", NEW)[0] == 403
    _, inc = ops(place).post("/api/v1/incidents", NEW)
    assert reader.get(f"/api/v1/incidents/{inc['id']}")[0] == 200
    assert place.api(place.alice).get(f"/api/v1/incidents/{inc['id']}")[0] == 403
    assert place.api(place.alice).get("/api/v1/incidents")[0] == 403
    status, rows = reader.get("/api/v1/incidents", {"active": True, "region": "sg"})
    assert status == 200 and [r["id"] for r in rows] == [inc["id"]]


def test_portal_banner_shows_only_incidents_affecting_my_organisation(place: Any) -> None:
    _, inc = ops(place).post("/api/v1/incidents", NEW)
    status, rows = place.api(place.bob).get("/api/v1/incidents/active")
    assert status == 200 and [r["id"] for r in rows] == [inc["id"]]
    assert rows[0]["title"] == NEW["title_zh"]  # Bob reads Chinese
    assert place.api(place.carol).get("/api/v1/incidents/active") == (200, [])  # Globex: not affected
    assert len(ops(place).get("/api/v1/incidents/active")[1]) == 1


def test_maintenance_schedule_and_validation(place: Any) -> None:
    api = ops(place)
    ok = {"service": "rtc", "region": "sg", "title_en": "Edge upgrade", "starts_at": "2999-01-01T02:00:00Z", "ends_at": "2999-01-01T03:00:00Z"}
    status, body = api.post("/api/v1/maintenances", ok)
    assert status == 201 and body["state"] == "scheduled"
    status, body = api.post("/api/v1/maintenances", {**ok, "ends_at": "2999-01-01T01:00:00Z"})
    assert status == 422 and "ends_at" in body["detail"]
    status, body = api.post("/api/v1/maintenances", {**ok, "starts_at": "2000-01-01T01:00:00Z"})
    assert status == 422 and "starts_at" in body["detail"]
