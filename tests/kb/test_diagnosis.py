"""Self-diagnosis ("is it us or the network?"): verdicts from generated telemetry ingested
through the real store, incidents, footprint tenancy, bad input, and the portal page.

The API router is mounted here on a test NinjaAPI in front of the site's URLs (the lead
mounts it on the main API; the endpoint is the same code either way)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import include, path
from ninja import NinjaAPI

from relaydesk.core.models import Service
from relaydesk.incidents.models import Incident
from relaydesk.kb import diagnosis
from relaydesk.kb.diagnosis_api import router as diagnosis_router
from relaydesk.kb.models import Article
from relaydesk.monitoring import footprint
from relaydesk.monitoring.models import Carrier
from relaydesk.monitoring.store import clear_caches, ingest_samples
from tests.conftest import World

_test_api = NinjaAPI(urls_namespace="diagnosis-test", docs_url=None, openapi_url=None)
_test_api.add_router("/v1", diagnosis_router)

urlpatterns = [path("api/", _test_api.urls), path("", include("relaydesk.urls"))]

pytestmark = pytest.mark.urls(__name__)

SINGTEL, STARHUB = 9506, 4657
HISTORY_DAYS = 3
WINDOW_MIN = 60
BAD = slice(20, 41)  # minutes of the window where StarHub degrades


@pytest.fixture
def place(world: World) -> dict[str, Any]:
    clear_caches()
    Service.objects.create(code="rtc", name="Real-time audio & video")
    Service.objects.create(code="live", name="Live streaming")
    for asn, name in ((SINGTEL, "Singtel"), (STARHUB, "StarHub")):
        c = Carrier.objects.create(asn=asn, name=name, country="SG")
        c.regions.add(world.sg)
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    return {"start": end - timedelta(minutes=WINDOW_MIN), "end": end}


def _feed(place: dict[str, Any], degrade: bool, seed: int = 7) -> None:
    """HISTORY_DAYS of normal history around the same hour, then the window itself; with
    ``degrade`` StarHub's RTT and packet loss go bad for minutes 20–40 of the window."""
    rng = np.random.default_rng(seed)
    start: datetime = place["start"]
    samples: list[dict[str, Any]] = []
    for day in range(HISTORY_DAYS, -1, -1):
        t0 = start - timedelta(days=day, minutes=30)
        for i in range(30 + WINDOW_MIN if day == 0 else WINDOW_MIN + 60):
            ts = t0 + timedelta(minutes=i)
            in_window = day == 0 and 30 <= i < 30 + WINDOW_MIN
            bad = degrade and in_window and BAD.start <= i - 30 < BAD.stop
            for asn in (SINGTEL, STARHUB):
                hurt = bad and asn == STARHUB
                rtt = 60.0 + rng.normal(0, 4) + (260.0 if hurt else 0.0)
                loss = max(0.0, 0.4 + rng.normal(0, 0.15)) + (9.0 if hurt else 0.0)
                for metric, value in (("rtt_ms", rtt), ("packet_loss_pct", loss)):
                    samples.append(
                        {
                            "ts": ts.isoformat().replace("+00:00", "Z"),
                            "service": "rtc",
                            "region": "sg",
                            "carrier": asn,
                            "metric": metric,
                            "value": round(value, 3),
                            "weight": 50,
                        }
                    )
    now = place["end"].timestamp() + 60
    for n, lo in enumerate(range(0, len(samples), 500)):
        ingest_samples(samples[lo : lo + 500], f"diag-{seed}-{n}", source="test", now=now)


def _params(place: dict[str, Any], **kw: Any) -> dict[str, Any]:
    p = {
        "region": "sg",
        "start": place["start"].isoformat().replace("+00:00", "Z"),
        "end": place["end"].isoformat().replace("+00:00", "Z"),
    }
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def _hhmm(dt: datetime, tz: str, place: dict[str, Any]) -> str:
    """A time as the verdict writes it: with the date when the window spans two local days."""
    zone = diagnosis._zone(tz)
    two_days = place["start"].astimezone(zone).date() != place["end"].astimezone(zone).date()
    return diagnosis._fmt(dt, zone, two_days)


# -- pure helpers ---------------------------------------------------------------------------------


def test_runs_bridge_short_gaps_and_drop_blips() -> None:
    m = np.zeros(30, dtype=bool)
    m[2] = True  # a one-minute blip
    m[10:14] = True
    m[16:20] = True  # a gap of 2 is bridged
    m[25:27] = True  # too short
    assert diagnosis.runs(m) == [(10, 20)]


def test_degraded_mask_follows_the_worse_direction_and_thresholds() -> None:
    rtt = diagnosis.METRICS["rtt_ms"]
    # usual 100 ms: needs +max(80, 50) = +80 ms
    assert list(diagnosis.degraded_mask(rtt, [170.0, 185.0, 20.0, np.nan], [100.0] * 4)) == [
        False,
        True,
        False,
        False,
    ]
    join = diagnosis.METRICS["join_success_rate"]
    # usual 0.99 (1 % failures): a drop to 0.96 is +3 points of failures (>= 0.02 and >= 1 %)
    assert list(diagnosis.degraded_mask(join, [0.96, 0.985, 1.0], [0.99] * 3)) == [
        True,
        False,
        False,
    ]


# -- verdicts ---------------------------------------------------------------------------------------


def test_degraded_carrier_is_named_with_its_window_and_incident(
    world: World, place: dict[str, Any], kb: Any
) -> None:
    _feed(place, degrade=True)
    inc = Incident.objects.create(
        service=Service.objects.get(code="rtc"),
        region=world.sg,
        title_en="Packet loss on StarHub in Singapore",
        title_zh="新加坡 StarHub 丢包",
        carriers=["StarHub"],
        started_at=place["start"] + timedelta(minutes=18),
    )
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(place))
    assert status == 200, body
    assert body["degraded"] is True
    bad_start = place["start"] + timedelta(minutes=BAD.start)
    bad_end = place["start"] + timedelta(minutes=BAD.stop)
    tz = world.alice.timezone or "UTC"
    assert "StarHub (AS4657)" in body["verdict"] and body["timezone"] == tz
    assert "Singtel" not in body["verdict"]
    assert f"from {_hhmm(bad_start, tz, place)} to {_hhmm(bad_end, tz, place)}" in body["verdict"]
    assert f"(incident #{inc.pk})" in body["verdict"]
    by = {c["carrier"]: c for c in body["carriers"]}
    assert by[STARHUB]["degraded"] and not by[SINGTEL]["degraded"]
    run = by[STARHUB]["runs"][0]
    assert set(run["metrics"]) == {"rtt_ms", "packet_loss_pct"}
    rtt = next(m for m in by[STARHUB]["metrics"] if m["metric"] == "rtt_ms")
    assert 50 < rtt["usual"] < 70  # the baseline comes from the previous days
    assert rtt["degraded_minutes"] == BAD.stop - BAD.start
    assert [i["id"] for i in body["incidents"]] == [inc.pk]
    assert set(body["incidents"][0]) == {
        "id",
        "title",
        "status",
        "impact",
        "severity",
        "carriers",
        "started_at",
        "resolved_at",
        "url",
    }
    assert "affected" not in str(body["incidents"])  # no other organisation's data
    assert "ticket_url" in body and "channel_name" not in body["ticket_url"]
    assert body["ticket_url"].startswith("/portal/tickets/new/?")
    assert "StarHub" in body["summary"]


def test_clean_data_says_no_anomaly_and_suggests_articles(
    world: World, place: dict[str, Any], kb: Any
) -> None:
    _feed(place, degrade=False)
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(place))
    assert status == 200, body
    assert body["degraded"] is False
    assert body["verdict"] == diagnosis.WORDS["en"]["clean"]
    assert 1 <= len(body["articles"]) <= 3
    visible = {a.pk for a in Article.objects.exclude(visibility="internal")}
    assert {a["id"] for a in body["articles"]} <= visible
    assert body["incidents"] == []


def test_incident_without_measured_anomaly_is_still_shown(
    world: World, place: dict[str, Any], kb: Any
) -> None:
    _feed(place, degrade=False)
    old = Incident.objects.create(
        service=Service.objects.get(code="rtc"),
        region=world.sg,
        title_en="Old one",
        started_at=place["start"] - timedelta(days=2),
        resolved_at=place["start"] - timedelta(days=2) + timedelta(hours=1),
    )
    inc = Incident.objects.create(
        service=Service.objects.get(code="rtc"),
        region=world.sg,
        title_en="Edge maintenance fallout",
        started_at=place["start"] - timedelta(hours=2),
    )
    Incident.objects.create(  # other service: not shown
        service=Service.objects.get(code="live"),
        region=world.sg,
        title_en="Live only",
        started_at=place["start"],
    )
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(place))
    assert status == 200, body
    assert [i["id"] for i in body["incidents"]] == [inc.pk]
    assert old.pk not in [i["id"] for i in body["incidents"]]
    assert f"#{inc.pk}" in body["verdict"] and not body["degraded"]


def test_no_telemetry_says_so(world: World, place: dict[str, Any], kb: Any) -> None:
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(place))
    assert status == 200, body
    assert body["carriers"] == [] and "no network measurements" in body["verdict"]


def test_chinese_verdict(world: World, place: dict[str, Any], kb: Any) -> None:
    _feed(place, degrade=True)
    world.bob.timezone = "Asia/Shanghai"
    world.bob.save()
    status, body = world.api(world.bob).get("/api/v1/diagnosis", _params(place))
    assert status == 200, body
    assert body["lang"] == "zh-Hans" and body["timezone"] == "Asia/Shanghai"
    bad_start = place["start"] + timedelta(minutes=BAD.start)
    bad_end = place["start"] + timedelta(minutes=BAD.stop)
    shanghai = (
        f"{_hhmm(bad_start, 'Asia/Shanghai', place)} 至 {_hhmm(bad_end, 'Asia/Shanghai', place)}"
    )
    assert shanghai in body["verdict"], body["verdict"]
    assert "StarHub (AS4657)" in body["verdict"] and "网络质量下降" in body["verdict"]


# -- channel name ---------------------------------------------------------------------------------


def test_channel_name_fills_region_and_window_from_a_ticket(
    world: World, place: dict[str, Any], kb: Any
) -> None:
    from relaydesk.tickets import services as tickets

    _feed(place, degrade=True)
    tickets.create_ticket(
        actor=world.alice,
        requester=world.alice,
        subject="Stutter in room-42",
        description="Viewers stutter",
        channel="portal",
        context={
            "channel_name": "room-42",
            "app_id": "app-acme",
            "region": world.sg,
            "problem_start": place["start"],
            "problem_end": place["end"],
        },
    )
    status, body = world.api(world.alice).get("/api/v1/diagnosis", {"channel": "ROOM-42"})
    assert status == 200, body
    assert body["region"] == "sg" and body["app_id"] == "app-acme" and body["matched_ticket"]
    assert body["degraded"] is True
    # another organisation's ticket with that channel is not used
    status, body = world.api(world.bob).get("/api/v1/diagnosis", {"channel": "room-42"})
    assert status == 422 and "region" in body["detail"] and "room-42" in body["detail"]


# -- tenancy ---------------------------------------------------------------------------------------


def test_footprint_is_only_my_own(world: World, place: dict[str, Any], kb: Any) -> None:
    hour = place["start"].replace(minute=0)
    footprint.ingest_rows(
        [
            {
                "organisation": world.acme.name,
                "service": "rtc",
                "region": "sg",
                "hour": hour.isoformat(),
                "sessions": 120,
                "minutes": 3000.0,
            },
            {
                "organisation": world.panda.name,
                "service": "rtc",
                "region": "sg",
                "hour": hour.isoformat(),
                "sessions": 9999,
                "minutes": 77777.0,
            },
            {
                "organisation": world.panda.name,
                "service": "rtc",
                "region": "sg",
                "carrier": STARHUB,
                "hour": hour.isoformat(),
                "sessions": 555,
                "minutes": 4444.0,
            },
        ]
    )
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(place))
    assert status == 200, body
    assert body["footprint"]["sessions"] == 120 and body["footprint"]["by_carrier"] == []
    text = str(body)
    for leaked in ("9999", "77777", "4444", "Panda"):
        assert leaked not in text
    status, body = world.api(world.bob).get("/api/v1/diagnosis", _params(place))
    assert body["footprint"]["sessions"] == 9999
    assert body["footprint"]["by_carrier"][0]["sessions"] == 555


def test_customer_asking_for_another_organisation_gets_404(
    world: World, place: dict[str, Any]
) -> None:
    status, body = world.api(world.alice).get(
        "/api/v1/diagnosis", _params(place, organisation=world.panda.pk)
    )
    assert status == 404 and "organisation" in body["detail"]
    status, _ = world.api(world.alice).get(
        "/api/v1/diagnosis", _params(place, organisation=world.acme.pk)
    )
    assert status == 200


def test_staff_name_a_visible_organisation(world: World, place: dict[str, Any]) -> None:
    status, body = world.api(world.agent).get("/api/v1/diagnosis", _params(place))
    assert status == 422 and body["detail"].startswith("organisation")
    status, body = world.api(world.agent).get(
        "/api/v1/diagnosis", _params(place, organisation=world.acme.pk)
    )
    assert status == 200 and body["organisation"] == world.acme.pk
    # the EMEA agent does not serve Acme
    status, _ = world.api(world.agent_emea).get(
        "/api/v1/diagnosis", _params(place, organisation=world.acme.pk)
    )
    assert status == 404


def test_authentication_required(world: World, place: dict[str, Any]) -> None:
    resp = Client().get("/api/v1/diagnosis", _params(place))
    assert resp.status_code == 401


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"region": "mars"}, "region"),
        ({"region": None}, "region"),
        ({"service": "fax"}, "service"),
        ({"start": None}, "start"),
        ({"end": None}, "end"),
        ({"start": "yesterday-ish"}, "start"),
        ({"end": "2026-13-45T99:00"}, "end"),
        ({"start": "2026-11-25T10:00Z", "end": "2026-11-25T09:00Z"}, "end"),
        ({"start": "2026-11-20T10:00Z", "end": "2026-11-21T10:01Z"}, "end"),
        ({"app_id": "x" * 101}, "app_id"),
        ({"channel": "c" * 201}, "channel"),
        ({"lang": "fr"}, "lang"),
    ],
)
def test_bad_input_names_the_field(
    world: World, place: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(place, **change))
    assert status == 422, body
    assert body["detail"].startswith(f"{field}:"), body


# -- the portal page --------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "words"), [("alice", "en"), ("bob", "zh-Hans")])
def test_portal_page_renders_verdict_and_prefilled_ticket_link(
    world: World, place: dict[str, Any], kb: Any, who: str, words: str
) -> None:
    _feed(place, degrade=True)
    user = getattr(world, who)
    client = Client()
    client.force_login(user)
    resp = client.get("/portal/diagnosis/")
    assert resp.status_code == 200
    assert diagnosis.WORDS[words]["title"] in resp.content.decode()
    tz = diagnosis._zone(user.timezone)
    fmt = "%Y-%m-%dT%H:%M"
    resp = client.get(
        "/portal/diagnosis/",
        {
            "region": "sg",
            "start": place["start"].astimezone(tz).strftime(fmt),
            "end": place["end"].astimezone(tz).strftime(fmt),
        },
    )
    html = resp.content.decode()
    assert resp.status_code == 200, html
    assert 'id="verdict"' in html and "StarHub (AS4657)" in html
    assert diagnosis.WORDS[words]["file"] in html
    assert "/portal/tickets/new/?" in html and "problem_start=" in html
    if words == "zh-Hans":
        assert "网络质量下降" in html


def test_portal_page_shows_field_error(world: World, place: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world.alice)
    resp = client.get(
        "/portal/diagnosis/",
        {"region": "mars", "start": "2026-11-25T10:00", "end": "2026-11-25T11:00"},
    )
    assert resp.status_code == 400
    assert "region: unknown region" in resp.content.decode()


def test_staff_get_the_articles_the_customer_would_see(
    world: World, place: dict[str, Any], kb: Any
) -> None:
    from relaydesk.kb import search

    runbook = kb["internal-escalation-runbook"].pk
    q = diagnosis.build_query(
        world.agent,
        organisation=world.acme.pk,
        region="sg",
        start=place["start"],
        end=place["end"],
    )
    words = " ".join(diagnosis.SYMPTOMS["audio_freeze_rate"][:1])
    # staff searching for themselves would get the internal runbook ...
    assert runbook in {h.article_id for h in search.search(words, user=world.agent).hits}
    # ... the diagnosis for a customer organisation does not
    found = diagnosis._articles(q, world.agent, "en", ["audio_freeze_rate"])
    assert found and runbook not in {a["id"] for a in found}
