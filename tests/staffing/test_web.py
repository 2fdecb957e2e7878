"""`POST /api/v1/staffing/plan` and the `/staffing/` page: staff only, validated, nothing written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from relaydesk.core.models import User
from relaydesk.tickets import services as tickets
from relaydesk.tickets.models import Ticket

URL = "/api/v1/staffing/plan"
DAY = [30.0 if 8 <= h % 24 < 20 else 6.0 for h in range(168)]
BODY: dict[str, Any] = {"aht_s": 600, "target": 0.9, "within_s": 300, "arrivals": DAY, "weeks": 1}


def test_staff_get_the_plan(world: Any) -> None:
    status, body = world.api(world.agent).post(URL, {**BODY, "rota": [4] * 168})
    assert status == 200, body
    assert body["model"] == "erlang_c" and body["source"] == "entered"
    assert len(body["rows"]) == 168
    row = body["rows"][10]
    assert row["arrivals"] == 30.0 and row["rostered"] == 4 and row["gap"] == 4 - row["needed"]
    assert 0 <= row["simulated_sl"] <= 1
    assert body["summary"]["hours_short"] > 0


def test_erlang_a_when_patience_is_given(world: Any) -> None:
    status, body = world.api(world.lead).post(URL, {**BODY, "patience_s": 600, "simulate": False})
    assert status == 200, body
    assert body["model"] == "erlang_a" and body["patience_s"] == 600
    assert body["rows"][10]["simulated_sl"] is None


def test_lognormal_handling_in_the_simulation(world: Any) -> None:
    rota = [6 if 8 <= h % 24 < 20 else 2 for h in range(168)]  # busy but not overloaded
    body = {**BODY, "rota": rota, "handling": "lognormal", "handling_cv": 0.5}
    status, out = world.api(world.agent).post(URL, body)
    assert status == 200, out
    assert out["simulation"] == {"enabled": True, "weeks": 1, "seed": 0, "handling": "lognormal", "handling_cv": 0.5}
    _, expo = world.api(world.agent).post(URL, {**BODY, "rota": rota})
    # Less variable handling waits less: the short rota's simulated level is better.
    assert out["summary"]["simulated_sl_rota"] > expo["summary"]["simulated_sl_rota"]


def test_plan_from_history_counts_every_organisation(world: Any) -> None:
    when = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    for user in (world.alice, world.bob, world.carol):
        tickets.create_ticket(actor=user, requester=user, subject="joins fail", now=when)
    status, body = world.api(world.agent_emea).post(
        URL,
        {"aht_s": 600, "target": 0.8, "within_s": 300, "date_from": "2026-11-02", "date_to": "2026-11-08", "simulate": False},
    )
    assert status == 200, body
    assert body["source"] == "history" and body["rows"][9]["arrivals"] == 3.0
    status, body = world.api(world.agent).post(
        URL,
        {"aht_s": 600, "target": 0.8, "within_s": 300, "date_from": "2026-11-02", "date_to": "2026-11-08", "region": "de", "tz": "UTC", "simulate": False},
    )
    assert status == 200 and body["rows"][9]["arrivals"] == 1.0
    # Without a time zone the hours of the week are the region's (09:30 UTC is 10:30 in Berlin).
    status, body = world.api(world.agent).post(
        URL,
        {"aht_s": 600, "target": 0.8, "within_s": 300, "date_from": "2026-11-02", "date_to": "2026-11-08", "region": "de", "simulate": False},
    )
    assert status == 200 and body["filters"]["tz"] == "Europe/Berlin"
    assert body["rows"][10]["arrivals"] == 1.0 and body["rows"][9]["arrivals"] == 0.0


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_customers_are_refused(world: Any, who: str) -> None:
    # Arrival counts span every organisation: no customer may read them, whatever the input.
    status, body = world.api(getattr(world, who)).post(URL, BODY)
    assert status == 403 and "staff" in body["detail"]
    status, _ = world.api(getattr(world, who)).post(URL, {**BODY, "arrivals": None, "date_from": "2026-11-02", "date_to": "2026-11-08"})
    assert status == 403


def test_without_credentials_or_scope(world: Any) -> None:
    status = Client().post(URL, BODY, content_type="application/json").status_code
    assert status == 401
    status, body = world.api(world.agent, scopes=["tickets:write"]).post(URL, BODY)
    assert status == 403 and "tickets:read" in body["detail"]


def test_session_login_works_for_staff_and_not_customers(world: Any) -> None:
    c = Client(enforce_csrf_checks=False)
    c.force_login(world.lead)
    assert c.post(URL, BODY, content_type="application/json").status_code == 200
    c.force_login(world.alice)
    assert c.post(URL, BODY, content_type="application/json").status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"aht_s": None}, "aht_s"),
        ({"aht_s": 0}, "aht_s"),
        ({"target": 1.5}, "target"),
        ({"target": "high"}, "target"),
        ({"within_s": -1}, "within_s"),
        ({"patience_s": 0}, "patience_s"),
        ({"arrivals": [1.0] * 10}, "arrivals"),
        ({"arrivals": [1.0] * 167 + [-2.0]}, "arrivals[167]"),
        ({"arrivals": None}, "arrivals"),
        ({"date_from": "2026-11-02", "date_to": "2026-11-08"}, "arrivals"),  # both
        ({"arrivals": None, "date_from": "2026-11-08", "date_to": "2026-11-02"}, "date_to"),
        ({"arrivals": None, "date_from": "2026-11-02"}, "date_to"),
        ({"arrivals": None, "date_from": "2026-02-30", "date_to": "2026-03-02"}, "date_from"),
        ({"arrivals": None, "date_from": "2026-11-02", "date_to": "2026-11-08", "region": "atlantis"}, "region"),
        ({"arrivals": None, "date_from": "2026-11-02", "date_to": "2026-11-08", "language": "fr"}, "language"),
        ({"arrivals": None, "date_from": "2026-11-02", "date_to": "2026-11-08", "priority": "P7"}, "priority"),
        ({"region": "sg"}, "region"),  # filters need history
        ({"tz": "Nowhere/City"}, "tz"),
        ({"rota": [2] * 167}, "rota"),
        ({"rota": [2.5] * 168}, "rota"),
        ({"weeks": 50}, "weeks"),
        ({"surprise": 1}, "surprise"),
        ({"handling": "gamma"}, "handling"),
        ({"handling_cv": 0}, "handling_cv"),
    ],
)
def test_bad_input_is_422_naming_the_field(world: Any, changes: dict[str, Any], field: str) -> None:
    body = {**BODY, **changes}
    body = {k: v for k, v in body.items() if not (v is None and k == "aht_s")}
    before = Ticket.objects.count()
    status, resp = world.api(world.agent).post(URL, body)
    assert status == 422, resp
    assert resp["detail"].startswith(field) or f"{field}:" in resp["detail"], resp["detail"]
    assert Ticket.objects.count() == before


def test_work_beyond_the_bounds_is_refused_not_hung(world: Any) -> None:
    api = world.api(world.agent)
    big = [10_000.0] * 168
    status, body = api.post(URL, {**BODY, "arrivals": big, "patience_s": 86_400, "within_s": 604_800})
    assert status == 422 and body["detail"].startswith("patience_s"), body
    status, body = api.post(URL, {**BODY, "arrivals": big, "weeks": 8})
    assert status == 422 and body["detail"].startswith("weeks"), body
    status, body = api.post(URL, {**BODY, "arrivals": [10_001.0] * 168})
    assert status == 422 and body["detail"].startswith("arrivals[0]"), body


# -- the page --------------------------------------------------------------------------------

PAGE = "/staffing/"


def page_params(**extra: Any) -> dict[str, Any]:
    return {
        "aht_s": "600",
        "target": "0.9",
        "within_s": "300",
        "arrivals": " ".join(str(a) for a in DAY),
        "rota": ",".join(["4"] * 168),
        **extra,
    }


def test_page_needs_a_login(world: Any) -> None:
    resp = Client().get(PAGE)
    assert resp.status_code == 302 and "/login/" in resp["Location"]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_page_refuses_customers(world: Any, who: str) -> None:
    c = Client()
    c.force_login(getattr(world, who))
    assert c.get(PAGE).status_code == 403
    assert c.get(PAGE, page_params()).status_code == 403


def test_page_shows_table_and_chart(world: Any) -> None:
    c = Client()
    c.force_login(world.agent)
    resp = c.get(PAGE, page_params())
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "<svg" in html and html.count("<polyline") == 2  # needed and rostered
    assert html.count('<tr class="short">') > 0
    assert html.count("<tr") == 169  # header + 168 hours
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html  # no external assets
    # The chart is well-formed SVG: two step lines of 2 × 168 points inside the plot.
    svg = ET.fromstring(html[html.index("<svg") : html.index("</svg>") + 6])
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 2
    for line in lines:
        points = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
        assert len(points) == 336
        width, height = float(svg.get("width", 0)), float(svg.get("height", 0))
        assert all(0 <= x <= width and 0 <= y <= height for x, y in points)
    shaded = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert len(shaded) == html.count('<tr class="short">')


def test_page_default_uses_history(world: Any) -> None:
    c = Client()
    c.force_login(world.lead)
    resp = c.get(PAGE)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "<svg" in html and html.count("<polyline") == 1  # no rota known: needed only
    assert "No stored rota for this region and language" in html


def test_page_reports_bad_input(world: Any) -> None:
    c = Client()
    c.force_login(world.agent)
    resp = c.get(PAGE, page_params(rota="1 2 3"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "must have 168 values" in html and "<svg" not in html
    resp = c.get(PAGE, page_params(target="7"))
    assert "<svg" not in resp.content.decode()


def test_page_in_chinese(world: Any) -> None:
    c = Client()
    c.force_login(world.agent)
    resp = c.get(PAGE, page_params(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'lang="zh-hans"' in html
    assert "人员配置计划" in html and "所需" in html  # "Staffing plan", "Needed"
    assert "星期一" in html  # weekday names from Django's own catalog


def test_staff_kind_is_what_counts(world: Any) -> None:
    # A Django superuser flag on a customer account does not open the page.
    odd = User.objects.create_user(username="x@acme.test", email="x@acme.test", password="a-long-test-password", organisation=world.acme, is_staff=True)
    c = Client()
    c.force_login(odd)
    assert c.get(PAGE).status_code == 403
