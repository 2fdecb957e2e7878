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

from relaydesk.core.models import Service
from relaydesk.incidents.models import Incident
from relaydesk.kb import diagnosis
from relaydesk.kb.models import Article
from relaydesk.monitoring import footprint
from relaydesk.monitoring.models import Carrier
from relaydesk.monitoring.store import clear_caches, ingest_samples
from tests.conftest import World

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


def _z(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _hhmm(dt: datetime, tz: str, place: dict[str, Any]) -> str:
    """A time as the verdict writes it: with the date when the window spans two local days."""
    zone = diagnosis._zone(tz)
    two_days = place["start"].astimezone(zone).date() != place["end"].astimezone(zone).date()
    return diagnosis._fmt(dt, zone, two_days)


# -- pure helpers ---------------------------------------------------------------------------------


def test_bad_minutes_are_the_detectors_confirmed_minutes_without_its_tail() -> None:
    # a problem in minutes 2-4: persistence confirms minute 2 at minute 3 and lingers at 5
    instant = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, np.nan]
    score = [0.0, 0.0, 0.35, 1.0, 1.0, 1.0, 0.0, 0.35, 0.0, np.nan]  # minute 7: a blip
    assert list(diagnosis.bad_minutes(score, instant)) == [
        False,
        False,
        True,
        True,
        True,
        False,  # the confirmation's tail: the minute itself was fine
        False,
        False,  # one odd minute is never confirmed
        False,
        False,  # no data is not bad
    ]


def test_explanations_use_the_domain_levels_then_the_usual_level() -> None:
    m = diagnosis.METRICS
    assert diagnosis.explain(m["packet_loss_pct"], 9.6, 0.4, "en") == (
        " — above the 5 % at which quality is poor",
        5.0,
    )
    assert diagnosis.explain(m["packet_loss_pct"], 2.5, 0.4, "en")[1] == 1.0
    assert diagnosis.explain(m["packet_loss_pct"], 0.9, 0.3, "en") == (
        " — 3.0× the usual level",
        None,
    )
    assert diagnosis.explain(m["rtt_ms"], 450.0, 60.0, "zh-Hans") == (
        "，超过常见 RTC SDK 告警的 400 ms",
        400.0,
    )
    assert diagnosis.explain(m["join_success_rate"], 0.91, 0.985, "en")[0] == (
        " — 7.5 points below usual"
    )
    assert diagnosis.explain(m["bitrate_kbps"], 700.0, 1400.0, "en")[0] == " — 50 % below usual"
    assert diagnosis.explain(m["video_freeze_rate"], 0.05, None, "en") == ("", None)
    assert diagnosis.show_value(m["join_in_5s_rate"], 0.873) == "87.3 %"
    # both languages have every word, metric names included
    assert set(diagnosis.WORDS["en"]) == set(diagnosis.WORDS["zh-Hans"])
    assert set(diagnosis.QUALITY_METRICS) <= set(diagnosis.WORDS["en"])


def test_buckets_keep_each_buckets_worst_minute() -> None:
    ts = np.arange(12) * 60 + 1_800_000_000
    rtt = np.full(12, 60.0)
    rtt[3] = 900.0  # a one-minute spike
    rtt[5:10] = np.nan  # a bucket without data
    usual = np.full(12, 55.0)
    score = np.zeros(12)
    score[3] = 0.35
    bad = np.zeros(12, dtype=bool)
    spec = diagnosis.METRICS["rtt_ms"]
    pts = diagnosis.points(spec, ts, rtt, usual, score, bad, 5)
    assert [p["value"] for p in pts] == [900.0, 60.0]  # not the bucket mean (216)
    assert pts[0]["score"] == 0.35 and pts[1]["at"].timestamp() == ts[10]
    assert len(diagnosis.points(spec, ts, rtt, usual, score, bad, 1)) == 7
    join = np.array([0.99, 0.97, 0.6, 0.98, 0.99])  # lower is worse: the minimum
    pts = diagnosis.points(
        diagnosis.METRICS["join_success_rate"], ts[:5], join, usual[:5], score[:5], bad[:5], 5
    )
    assert [p["value"] for p in pts] == [0.6]


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
    assert body["degraded"] is True and body["verdict_kind"] == "network"
    bad_start = place["start"] + timedelta(minutes=BAD.start)
    bad_end = place["start"] + timedelta(minutes=BAD.stop)
    tz = world.alice.timezone or "UTC"
    # the metrics, worst first, explained with the field's levels
    assert "packet loss 9." in body["verdict"] and "against a usual 0.4 %" in body["verdict"]
    assert "above the 5 % at which quality is poor" in body["verdict"]
    assert "round-trip time" in body["verdict"]
    assert [(f["label"], f["metric"], f["domain_level"]) for f in body["findings"]] == [
        ("StarHub (AS4657)", "packet_loss_pct", 5.0),
        ("StarHub (AS4657)", "rtt_ms", None),
    ]
    # the detector's own incident candidate, as the detection sweep would open it
    (found,) = body["detections"]
    assert found["locations"] == ["AS4657"] and found["start"] == _z(bad_start)
    assert body["coverage"] == 1.0 and body["series_resolution"]["step_minutes"] == 1
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
    assert body["degraded"] is False and body["verdict_kind"] == "not_network"
    assert body["verdict"] == diagnosis.WORDS["en"]["clean"]
    assert body["findings"] == [] and body["detections"] == []
    assert all(not c["degraded"] and c["runs"] == [] for c in body["carriers"])
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
    assert body["verdict_kind"] == "incident"


def test_no_telemetry_says_so(world: World, place: dict[str, Any], kb: Any) -> None:
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(place))
    assert status == 200, body
    assert body["carriers"] == [] and "no network measurements" in body["verdict"]
    assert body["verdict_kind"] == "no_data" and body["coverage"] == 0.0


def test_measurements_outside_the_window_are_not_a_clean_answer(
    world: World, place: dict[str, Any]
) -> None:
    """Series exist (history), but not one minute of the window has data: no data, not "no
    anomaly"; data in the window without history to compare with: says so too."""
    _feed(place, degrade=False)
    later = {
        "start": place["end"] + timedelta(minutes=1),
        "end": place["end"] + timedelta(minutes=3),
    }
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(later))
    assert status == 200, body
    assert body["verdict_kind"] == "no_data" and body["degraded"] is False
    assert "no network measurements" in body["verdict"]
    three_days_ago = {k: v - timedelta(days=HISTORY_DAYS) for k, v in place.items()}
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(three_days_ago))
    assert status == 200, body
    assert body["verdict_kind"] == "no_baseline" and body["coverage"] > 0.9
    assert "not yet enough history" in body["verdict"]
    rtt = next(m for m in body["carriers"][0]["metrics"] if m["metric"] == "rtt_ms")
    assert rtt["minutes"] and rtt["usual"] is None and rtt["judged_minutes"] == 0


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


# -- generated telemetry: the detector's verdict, as the detection sweep concludes -----------------

GEN_START = datetime(2026, 10, 5, tzinfo=UTC)
GEN_INCIDENT = datetime(2026, 10, 7, 20, tzinfo=UTC)  # seed 8: StarHub latency from 20:13:43
GEN_CLEAN = datetime(2026, 10, 8, 3, tzinfo=UTC)  # hours away from any injected incident


@pytest.fixture
def generated(world: World) -> Any:
    """Four days of generated Singapore telemetry (seed 8; the generator's labelled incidents),
    of which the store gets the minutes the detector reads for the two windows above."""
    from relaydesk.detection import generator
    from relaydesk.monitoring import demo
    from relaydesk.monitoring.detect import needed_hours

    clear_caches()
    Service.objects.create(code="rtc", name="Real-time audio & video")
    for name, asn, country in demo.CARRIERS["sg"].values():
        Carrier.objects.create(asn=asn, name=name, country=country).regions.add(world.sg)
    tel = generator.generate(
        seed=8, start=GEN_START, days=4.0, regions=("sg",), incidents_per_week=8.0, warmup_days=2.5
    )
    hours: set[int] = set()
    for w0 in (GEN_INCIDENT, GEN_CLEAN):
        t0 = int(w0.timestamp())
        hours.update(needed_hours(t0, t0 + 3600))
    first = int(tel.timestamps[0])
    for n, h in enumerate(sorted(hours)):
        lo = (h * 3600 - first) // 60
        if 0 <= lo < tel.minutes:
            batch = list(demo.samples(tel, lo, lo + 60))
            ingest_samples(batch, f"gen-{n}", source="test", now=GEN_START.timestamp() + 4 * 86400)
    return tel


def test_generated_incident_gives_a_network_verdict_naming_the_metric(
    world: World, generated: Any
) -> None:
    (inc,) = [
        i
        for i in generated.incidents
        if GEN_INCIDENT.timestamp() < i.start < GEN_INCIDENT.timestamp() + 3600
    ]
    assert inc.carriers == ("StarHub",) and inc.group == "latency"
    window = {"start": GEN_INCIDENT, "end": GEN_INCIDENT + timedelta(hours=1)}
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(window))
    assert status == 200, body
    assert body["verdict_kind"] == "network" and body["degraded"] is True
    assert "StarHub (AS4657)" in body["verdict"] and "Singtel" not in body["verdict"]
    assert "round-trip time" in body["verdict"] or "jitter" in body["verdict"]
    assert {f["metric"] for f in body["findings"]} <= set(inc.metrics)
    assert {f["label"] for f in body["findings"]} == {"StarHub (AS4657)"}
    # it begins with the injected incident: the minute it started in, or the first whole one
    starhub = next(c for c in body["carriers"] if c["carrier"] == 4657)
    began = datetime.fromisoformat(starhub["runs"][0]["start"]).timestamp()
    assert inc.start // 60 * 60 <= began <= inc.start // 60 * 60 + 60
    assert body["ticket_url"] and "StarHub" in body["summary"]


def test_generated_clean_window_is_not_the_network(world: World, generated: Any) -> None:
    window = {"start": GEN_CLEAN, "end": GEN_CLEAN + timedelta(hours=1)}
    status, body = world.api(world.bob).get("/api/v1/diagnosis", _params(window))
    assert status == 200, body
    assert body["verdict_kind"] == "not_network" and body["degraded"] is False
    assert body["verdict"] == diagnosis.WORDS["zh-Hans"]["clean"]
    assert body["coverage"] > 0.95 and body["detections"] == []
    assert {c["label"] for c in body["carriers"]} == {
        "Singtel (AS7473)",
        "StarHub (AS4657)",
        "M1 (AS17547)",
        "全部运营商",
    }


def test_the_verdict_agrees_with_the_detection_sweep(
    world: World, generated: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep over the same hour hands the incidents app the very candidate the diagnosis
    shows (same start, carriers and metrics), and nothing for the clean hour."""
    from relaydesk.monitoring import detect

    settings.RELAYDESK_DETECTION_WINDOW_MIN = 60
    for w0, expect in ((GEN_INCIDENT, 1), (GEN_CLEAN, 0)):
        seen: list[dict[str, Any]] = []
        monkeypatch.setattr(detect, "adapter", [lambda c, now, seen=seen: seen.append(c)])
        detect.reset()
        end = w0 + timedelta(hours=1)
        detect.run_detection(now=end + timedelta(seconds=detect.GRACE_S))
        status, body = world.api(world.alice).get(
            "/api/v1/diagnosis", _params({"start": w0, "end": end})
        )
        assert status == 200, body
        swept = [
            (datetime.fromtimestamp(c["start"], UTC), c["locations"], c["metrics"]) for c in seen
        ]
        shown = [
            (datetime.fromisoformat(d["start"]), d["locations"], d["metrics"])
            for d in body["detections"]
        ]
        assert len(swept) == expect and shown == swept
        assert body["degraded"] is bool(expect)


def test_long_windows_come_in_five_minute_buckets_that_keep_the_spikes(
    world: World, place: dict[str, Any]
) -> None:
    end: datetime = place["end"]
    start = end - timedelta(hours=7)
    spike = start + timedelta(hours=3, minutes=7)
    samples = [
        {
            "ts": _z(start + timedelta(minutes=i)),
            "service": "rtc",
            "region": "sg",
            "carrier": STARHUB,
            "metric": "rtt_ms",
            "value": 900.0 if start + timedelta(minutes=i) == spike else 60.0 + i % 3,
            "weight": 40,
        }
        for i in range(7 * 60)
        if not 100 <= i < 110  # a collector gap: no points there, never zeros
    ]
    ingest_samples(samples, "long-window", source="test", now=end.timestamp() + 60)
    status, body = world.api(world.alice).get(
        "/api/v1/diagnosis", _params({"start": start, "end": end})
    )
    assert status == 200, body
    res = body["series_resolution"]
    assert res["step_minutes"] == 5 and res["point"] == "worst" and "worst minute" in res["explain"]
    rtt = next(m for m in body["carriers"][0]["metrics"] if m["metric"] == "rtt_ms")
    pts = rtt["minutes"]
    assert len(pts) == 7 * 12 - 2  # two buckets without data are left out
    assert all(
        (datetime.fromisoformat(p["at"]) - start) % timedelta(minutes=5) == timedelta(0)
        for p in pts
    )
    assert [p["value"] for p in pts if p["value"] > 62] == [900.0]  # not averaged away
    assert rtt["worst"] == 900.0
    six = {"start": end - timedelta(hours=6), "end": end}
    status, body = world.api(world.alice).get("/api/v1/diagnosis", _params(six))
    assert body["series_resolution"]["step_minutes"] == 1
    assert len(body["carriers"][0]["metrics"][0]["minutes"]) == 6 * 60 - 10  # the gap


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


def test_portal_page_always_diagnoses_my_own_organisation(
    world: World, place: dict[str, Any]
) -> None:
    """The page has no organisation field: an ``organisation=`` in the address changes
    nothing, the footprint shown is the reader's own."""
    hour = place["start"].replace(minute=0)
    footprint.ingest_rows(
        [
            {
                "organisation": org.name,
                "service": "rtc",
                "region": "sg",
                "hour": hour.isoformat(),
                "sessions": sessions,
                "minutes": 60.0 * sessions,
            }
            for org, sessions in ((world.acme, 120), (world.panda, 9999))
        ]
    )
    client = Client()
    client.force_login(world.alice)
    resp = client.get(
        "/portal/diagnosis/",
        {
            "organisation": world.panda.pk,
            "region": "sg",
            "start": _z(place["start"]),
            "end": _z(place["end"]),
        },
    )
    html = resp.content.decode()
    assert resp.status_code == 200, html
    fp = html.split('id="footprint"')[1].split("</p>")[0]
    assert ">120 " in fp and "9999" not in html and "Panda" not in html


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
