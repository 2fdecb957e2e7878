"""The console ticket's typed real-time context links to its region's telemetry for the
problem window; the telemetry page shows the diagnosis for staff who serve the organisation."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from relaydesk.core.models import Service
from relaydesk.monitoring.models import Carrier
from relaydesk.monitoring.store import clear_caches
from tests.kb.test_diagnosis import SINGTEL, STARHUB, WINDOW_MIN, _feed

from .conftest import file_ticket, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(world: Any) -> dict[str, Any]:
    """Singapore with two carriers and the rtc service; a one-hour window ending 5 min ago
    (telemetry for it is fed by ``_feed`` of the diagnosis tests, through the real store)."""
    clear_caches()
    Service.objects.create(code="rtc", name="Real-time audio & video")
    for asn, name in ((SINGTEL, "Singtel"), (STARHUB, "StarHub")):
        Carrier.objects.create(asn=asn, name=name, country="SG").regions.add(world.sg)
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    return {"start": end - timedelta(minutes=WINDOW_MIN), "end": end}


def _link(html: str) -> str:
    block = html.split('id="telemetry-link"')[1].split("</p>")[0]
    return htmllib.unescape(re.search(r'href="([^"]+)"', block).group(1))  # type: ignore[union-attr]


def _ticket(world: Any, place: dict[str, Any], **context: Any) -> Any:
    ctx = {
        "region": world.sg,
        "problem_start": place["start"],
        "problem_end": place["end"],
        "app_id": "app-7781",
    } | context
    return file_ticket(
        world.alice,
        "Audio drops in Singapore",
        priority="P1",
        context={k: v for k, v in ctx.items() if v is not None},
    )


def test_ticket_links_to_the_region_telemetry_of_its_problem_window(
    world: Any, place: dict[str, Any]
) -> None:
    _feed(place, degrade=True)
    t = _ticket(world, place)
    c = login(world.agent)
    page = c.get(f"/console/tickets/{t.pk}/").content.decode()
    assert "Telemetry of Singapore in the problem window" in page
    href = _link(page)
    url = urlsplit(href)
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/console/telemetry/"
    assert (
        q["organisation"] == str(world.acme.pk) and q["region"] == "sg" and q["ticket"] == str(t.pk)
    )
    assert (
        datetime.fromisoformat(q["start"]) == place["start"]
        and datetime.fromisoformat(q["end"]) == place["end"]
    )
    resp = c.get(href)
    assert resp.status_code == 200
    body = resp.content.decode()
    verdict = body.split('id="verdict"')[1].split("</p>")[0]
    assert "StarHub (AS4657)" in verdict and "Singtel" not in verdict
    assert f'href="/console/tickets/{t.pk}/"' in body  # back to the ticket
    json_link = htmllib.unescape(
        re.search(r'id="telemetry-link".*?<small><a href="([^"]+)"', page, re.S).group(1)
    )  # type: ignore[union-attr]
    api = c.get(json_link)
    assert (
        api.status_code == 200 and api.json()["degraded"] is True and api.json()["region"] == "sg"
    )


def test_without_a_window_the_hour_before_the_ticket(world: Any, place: dict[str, Any]) -> None:
    t = _ticket(world, place, problem_start=None, problem_end=None)
    page = login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode()
    assert "in the hour before the ticket" in page
    q = {k: v[0] for k, v in parse_qs(urlsplit(_link(page)).query).items()}
    assert datetime.fromisoformat(q["end"]) - datetime.fromisoformat(q["start"]) == timedelta(
        hours=1
    )
    assert abs(datetime.fromisoformat(q["end"]) - t.created_at) < timedelta(minutes=1)
    resp = login(world.agent).get(_link(page))
    assert resp.status_code == 200 and "no network measurements" in resp.content.decode()


def test_without_a_region_no_link(world: Any, place: dict[str, Any]) -> None:
    t = _ticket(world, place, region=None)
    page = login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode()
    assert "No region given, so no telemetry to show." in page
    assert "/console/telemetry/" not in page


def test_only_staff_who_serve_the_organisation(world: Any, place: dict[str, Any]) -> None:
    t = _ticket(world, place)
    href = _link(login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode())
    other = login(world.agent_emea).get(href)  # EMEA does not serve Acme
    assert other.status_code == 404 and "not found" in other.content.decode()
    assert f"/console/tickets/{t.pk}/" not in other.content.decode()  # nor the ticket's subject
    assert login(world.alice).get(href).status_code == 403
    assert Client().get(href).url.startswith("/login/?next=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"region": "sg", "start": "2026-11-20T15:00Z", "end": "2026-11-20T14:00Z"}, "end"),
        ({"region": "mars", "start": "2026-11-20T14:00Z", "end": "2026-11-20T15:00Z"}, "region"),
        ({"organisation": "acme", "region": "sg"}, "organisation"),
        ({"region": "sg", "start": "2026-11-20T14:00Z", "end": "2026-11-22T15:00Z"}, "end"),
    ],
)
def test_bad_input_names_the_field(
    world: Any, place: dict[str, Any], params: dict[str, str], field: str
) -> None:
    q = {"organisation": str(world.acme.pk)} | params
    resp = login(world.agent).get("/console/telemetry/", q)
    assert resp.status_code == 400
    error = resp.content.decode().split('id="telemetry-error"')[1].split("</p>")[0]
    assert f"{field}:" in error


def test_telemetry_page_in_chinese(world: Any, place: dict[str, Any]) -> None:
    world.agent.language = "zh-Hans"
    world.agent.save()
    t = _ticket(world, place)
    c = login(world.agent)
    page = c.get(f"/console/tickets/{t.pk}/").content.decode()
    assert "问题时间段内 Singapore 的遥测" in page
    assert "<h1>区域遥测</h1>" in c.get(_link(page)).content.decode()


def test_window_is_clamped_to_what_the_diagnosis_accepts(world: Any, place: dict[str, Any]) -> None:
    start = datetime.now(UTC) - timedelta(days=3)
    t = _ticket(world, place, problem_start=start, problem_end=start + timedelta(days=2))
    q = {
        k: v[0]
        for k, v in parse_qs(
            urlsplit(
                _link(login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode())
            ).query
        ).items()
    }
    assert datetime.fromisoformat(q["end"]) - datetime.fromisoformat(q["start"]) == timedelta(
        hours=24
    )
