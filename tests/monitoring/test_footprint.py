"""Customer footprint: staff write (validated, atomic, rows replace), reads respect tenancy,
and the ranking of affected organisations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relaydesk.core.models import APIToken
from relaydesk.monitoring.footprint import affected_organisations
from relaydesk.monitoring.models import FootprintHour

pytestmark = pytest.mark.django_db

H0 = datetime(2026, 11, 24, 12, tzinfo=UTC)


def hour(k: int) -> str:
    return (H0 + timedelta(hours=k)).isoformat().replace("+00:00", "Z")


def row(org, k: int = 0, **kw):
    r = {
        "organisation": org,
        "service": "rtc",
        "region": "sg",
        "hour": hour(k),
        "sessions": 100,
        "minutes": 1500.0,
    }
    r.update(kw)
    return r


@pytest.fixture
def feeder_api(topo):
    api = topo.world.api(topo.feeder, ["telemetry:write", "tickets:read"])
    return api


def test_staff_writes_and_reads_back(topo, feeder_api) -> None:
    w = topo.world
    rows = [
        row(w.acme.pk),
        row("Panda Video", 1, sessions=5, minutes=20.5),
        row(w.acme.pk, carrier="AS9506", sessions=60, minutes=900),
    ]
    status, body = feeder_api.post("/api/v1/footprint", {"rows": rows})
    assert status == 200 and body == {"written": 3}
    status, page = topo.world.api(w.lead).get(
        "/api/v1/footprint", {"service": "rtc", "since": hour(0)}
    )
    assert status == 200 and page["count"] == 3 and not page["truncated"]
    assert {(i["organisation"], i["carrier"], i["sessions"]) for i in page["items"]} == {
        (w.acme.pk, None, 100),
        (w.acme.pk, 9506, 60),
        (w.panda.pk, None, 5),
    }


def test_rows_replace_the_same_hour(topo, feeder_api) -> None:
    w = topo.world
    assert feeder_api.post("/api/v1/footprint", {"rows": [row(w.acme.pk)]})[0] == 200
    assert (
        feeder_api.post("/api/v1/footprint", {"rows": [row(w.acme.pk, sessions=7, minutes=3)]})[0]
        == 200
    )
    fh = FootprintHour.objects.get()
    assert (fh.sessions, fh.minutes) == (7, 3)


@pytest.mark.parametrize(
    ("override", "field", "fragment"),
    [
        ({"organisation": 999_999}, "organisation", "unknown organisation"),
        ({"organisation": "No Such Co"}, "organisation", "unknown organisation"),
        ({"service": "fax"}, "service", "unknown service"),
        ({"region": "mars"}, "region", "unknown region"),
        ({"carrier": 1}, "carrier", "unknown carrier"),
        ({"hour": "2026-11-24T12:30:00Z"}, "hour", "start of an hour"),
        ({"hour": "2026-11-24T12:00:00"}, "hour", "UTC offset"),
        ({"hour": "2099-01-01T00:00:00Z"}, "hour", "in the future"),
        ({"sessions": -1}, "sessions", "whole number >= 0"),
        ({"sessions": 1.5}, "sessions", "whole number >= 0"),
        ({"minutes": "lots"}, "minutes", "number >= 0"),
        ({"minutes": None}, "minutes", "required"),
        ({"extra": 1}, "extra", "unknown field"),
    ],
)
def test_bad_row_is_named_and_nothing_written(topo, feeder_api, override, field, fragment) -> None:
    w = topo.world
    rows = [row(w.acme.pk), row(w.panda.pk), row(w.globex.pk, **override)]
    status, body = feeder_api.post("/api/v1/footprint", {"rows": rows})
    assert status == 422, body
    assert f"rows[2].{field}" in body["detail"] and fragment in body["detail"], body["detail"]
    assert FootprintHour.objects.count() == 0


def test_duplicate_row_in_one_request(topo, feeder_api) -> None:
    w = topo.world
    status, body = feeder_api.post("/api/v1/footprint", {"rows": [row(w.acme.pk), row(w.acme.pk)]})
    assert status == 422 and "rows[1].hour: duplicates row 0" in body["detail"]


def test_footprint_write_needs_staff_and_scope(topo) -> None:
    w = topo.world
    status, _ = w.api(w.lead).post("/api/v1/footprint", {"rows": [row(w.acme.pk)]})
    assert status == 403  # session-less token without telemetry:write
    status, _ = w.api(w.alice, ["telemetry:write"]).post(
        "/api/v1/footprint", {"rows": [row(w.acme.pk)]}
    )
    assert status == 403
    assert FootprintHour.objects.count() == 0


@pytest.fixture
def two_orgs(topo, feeder_api):
    w = topo.world
    rows = [
        row(w.acme.pk, sessions=10),
        row(w.globex.pk, sessions=20, region="de"),
        row(w.globex.pk, 1, sessions=30),
    ]
    assert feeder_api.post("/api/v1/footprint", {"rows": rows})[0] == 200
    return w


def test_customer_reads_only_own_organisation(two_orgs) -> None:
    w = two_orgs
    alice = w.api(w.alice)
    status, page = alice.get("/api/v1/footprint")
    assert status == 200
    assert {i["organisation"] for i in page["items"]} == {w.acme.pk} and page["count"] == 1
    # asking for another organisation: not found, never its data
    status, body = alice.get("/api/v1/footprint", {"organisation": w.globex.pk})
    assert status == 404 and "items" not in body
    status, page = alice.get("/api/v1/footprint", {"organisation": w.acme.pk, "region": "de"})
    assert status == 200 and page["items"] == []
    status, page = w.api(w.carol).get("/api/v1/footprint")
    assert {i["organisation"] for i in page["items"]} == {w.globex.pk} and page["count"] == 2


def test_agent_sees_the_organisations_their_team_serves(two_orgs) -> None:
    w = two_orgs
    _, page = w.api(w.agent).get("/api/v1/footprint")  # APAC: acme and panda
    assert {i["organisation"] for i in page["items"]} == {w.acme.pk}
    assert w.api(w.agent).get("/api/v1/footprint", {"organisation": w.globex.pk})[0] == 404
    _, page = w.api(w.lead).get("/api/v1/footprint")
    assert page["count"] == 3


def test_footprint_read_needs_tickets_read(two_orgs) -> None:
    w = two_orgs
    token = APIToken.issue(w.lead, ["telemetry:write"])[1]
    from django.test import Client

    resp = Client().get("/api/v1/footprint", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert resp.status_code == 403


def test_footprint_query_validation(two_orgs) -> None:
    w = two_orgs
    status, body = w.api(w.lead).get("/api/v1/footprint", {"since": "yesterday"})
    assert status == 422 and "since" in body["detail"]
    status, body = w.api(w.lead).get("/api/v1/footprint", {"limit": 0})
    assert status == 422 and "limit" in body["detail"]
    status, page = w.api(w.lead).get("/api/v1/footprint", {"limit": 2})
    assert page["count"] == 2 and page["truncated"] is True


def test_affected_organisations_ranked_by_share(topo, feeder_api) -> None:
    w = topo.world
    rows = [
        # acme: big in sg, and most of its traffic is there
        row(w.acme.pk, 0, sessions=600, minutes=6000),
        row(w.acme.pk, 1, sessions=600, minutes=6000),
        row(w.acme.pk, 0, region="de", sessions=100, minutes=1000),
        # panda: small, all of its traffic in sg
        row(w.panda.pk, 0, sessions=20, minutes=200),
        # globex: big elsewhere, a sliver in sg
        row(w.globex.pk, 0, sessions=10, minutes=100),
        row(w.globex.pk, 0, region="de", sessions=9000, minutes=90000),
        # outside the window
        row(w.globex.pk, 5, sessions=5000, minutes=50000),
    ]
    assert feeder_api.post("/api/v1/footprint", {"rows": rows})[0] == 200
    start, end = H0 + timedelta(minutes=20), H0 + timedelta(hours=1, minutes=10)
    out = affected_organisations("rtc", "sg", start, end)
    assert [a.organisation_id for a in out] == [w.acme.pk, w.panda.pk, w.globex.pk]
    total = 12000 + 200 + 100
    assert out[0].share == pytest.approx(12000 / total)
    assert out[0].exposure == pytest.approx(12000 / 13000)
    assert out[1].exposure == pytest.approx(1.0) and out[0].is_key_account
    assert out[2].exposure == pytest.approx(100 / 90100)
    # thresholds: share of the place's traffic, the organisation's own exposure
    assert [
        a.organisation_id for a in affected_organisations("rtc", "sg", start, end, min_share=0.05)
    ] == [w.acme.pk]
    assert [
        a.organisation_id for a in affected_organisations("rtc", "sg", start, end, min_exposure=0.5)
    ] == [w.acme.pk, w.panda.pk]
    assert affected_organisations("live", "sg", start, end) == []


def test_affected_organisations_by_carrier(topo, feeder_api) -> None:
    w = topo.world
    rows = [
        row(w.acme.pk, 0, carrier=9506, sessions=300, minutes=3000),
        row(w.acme.pk, 0, carrier=4657, sessions=300, minutes=3000),
        row(w.globex.pk, 0, carrier=4657, sessions=50, minutes=500),
        row(w.panda.pk, 0, sessions=40, minutes=400),  # no carrier breakdown
    ]
    assert feeder_api.post("/api/v1/footprint", {"rows": rows})[0] == 200
    out = affected_organisations("rtc", "sg", H0, H0 + timedelta(hours=1), carrier=9506)
    assert [(a.organisation_id, a.by_carrier) for a in out] == [
        (w.acme.pk, True),
        (w.panda.pk, False),
    ]
    whole = affected_organisations("rtc", "sg", H0, H0 + timedelta(hours=1))
    assert {a.organisation_id: a.minutes for a in whole} == {
        w.acme.pk: 6000,
        w.globex.pk: 500,
        w.panda.pk: 400,
    }
