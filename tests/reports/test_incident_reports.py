"""Proactive share and time to notice over incidents with known timestamps: the share per
source, service and region; median/p90/p95 of first notice − start and of the detection
delay; the range in the viewer's time zone; CSV; and the charts on the reports page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from relaydesk.core.models import Region, Service
from relaydesk.incidents.models import Incident

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MARCH = {"start": "2026-03-01", "end": "2026-03-31", "tz": "UTC"}
MIN = timedelta(minutes=1)


def _incident(service: Service, region: Region, source: str, start: datetime, *, created: timedelta, notice: timedelta | None, ticket: timedelta | None) -> Incident:
    return Incident.objects.create(
        service=service,
        region=region,
        title_en=f"{service.code}/{region.code} {source}",
        impact="degraded_performance",
        source=source,
        started_at=start,
        created_at=start + created,
        first_notice_at=None if notice is None else start + notice,
        first_customer_ticket_at=None if ticket is None else start + ticket,
    )


def _incidents(world: Any) -> dict[str, Any]:
    """Six incidents in March, one in February (outside the range):

    ======  =======  ======  ========  ======  ======  ==========
    #       service  region  source    opened  notice  1st ticket
    ======  =======  ======  ========  ======  ======  ==========
    a       rtc      sg      detection  2 min   4 min   10 min   -> proactive
    b       rtc      sg      detection  1 min   3 min   —        -> proactive (no ticket)
    c       rtc      de      detection  3 min  30 min   12 min   -> reactive
    d       live     sg      alertmgr   5 min   8 min   8 min    -> proactive (same instant)
    e       live     de      manual    40 min   —       20 min   -> reactive (no notice)
    f       live     de      manual    10 min   —       —        -> no signal
    ======  =======  ======  ========  ======  ======  ==========
    """
    rtc = Service.objects.create(code="rtc", name="Real-time calls")
    live = Service.objects.create(code="live", name="Live streaming")
    sg = Region.objects.get(code="sg")
    de = Region.objects.get(code="de")
    made = {
        "a": _incident(rtc, sg, "detection", T0, created=2 * MIN, notice=4 * MIN, ticket=10 * MIN),
        "b": _incident(rtc, sg, "detection", T0 + timedelta(days=1), created=1 * MIN, notice=3 * MIN, ticket=None),
        "c": _incident(rtc, de, "detection", T0 + timedelta(days=2), created=3 * MIN, notice=30 * MIN, ticket=12 * MIN),
        "d": _incident(live, sg, "alertmanager", T0 + timedelta(days=3), created=5 * MIN, notice=8 * MIN, ticket=8 * MIN),
        "e": _incident(live, de, "manual", T0 + timedelta(days=4), created=40 * MIN, notice=None, ticket=20 * MIN),
        "f": _incident(live, de, "manual", T0 + timedelta(days=5), created=10 * MIN, notice=None, ticket=None),
        "feb": _incident(rtc, sg, "detection", T0 - timedelta(days=10), created=MIN, notice=None, ticket=MIN),
    }
    return made


def _by(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["dimension"], r["group"]): r for r in rows}


def test_proactive_share_per_source_service_and_region(world: Any) -> None:
    _incidents(world)
    code, body = world.api(world.lead).get("/api/v1/reports/proactive-share", MARCH)
    assert code == 200, body
    assert body["available"] is True
    total = body["total"]
    # a, b, d proactive; c, e reactive; f has neither a notice nor a ticket; feb is outside.
    assert (total["incidents"], total["with_signal"], total["proactive"], total["reactive"]) == (6, 5, 3, 2)
    assert total["proactive_pct"] == 60.0
    rows = _by(body["rows"])
    assert [r["dimension"] for r in body["rows"]] == ["source"] * 3 + ["service"] * 2 + ["region"] * 2
    assert [r["group"] for r in body["rows"][:3]] == ["detection", "alertmanager", "manual"]
    assert (rows["source", "detection"]["proactive"], rows["source", "detection"]["reactive"]) == (2, 1)
    assert rows["source", "detection"]["proactive_pct"] == pytest.approx(66.7)
    assert rows["source", "alertmanager"]["proactive_pct"] == 100.0
    assert rows["source", "manual"]["incidents"] == 2 and rows["source", "manual"]["proactive_pct"] == 0.0
    assert rows["service", "rtc"]["label"] == "Real-time calls" and rows["service", "rtc"]["proactive_pct"] == pytest.approx(66.7)
    assert rows["service", "live"]["proactive_pct"] == 50.0
    assert (rows["region", "sg"]["proactive"], rows["region", "sg"]["reactive"]) == (3, 0)
    assert (rows["region", "de"]["proactive"], rows["region", "de"]["reactive"], rows["region", "de"]["with_signal"]) == (0, 2, 2)


def test_time_to_notice_and_detection_delay_percentiles(world: Any) -> None:
    _incidents(world)
    code, body = world.api(world.lead).get("/api/v1/reports/time-to-notice", MARCH)
    assert code == 200, body
    total = body["total"]
    # Notices after 4, 3, 30, 8 min (a, b, c, d): sorted 180, 240, 480, 1800 s.
    # median = (240 + 480) / 2 = 360; p90 at rank 2.7 -> 480 + 0.7 * 1320 = 1404; p95 -> 1602.
    assert total["noticed"] == 4
    assert total["notice_median_s"] == 360
    assert total["notice_p90_s"] == pytest.approx(1404)
    assert total["notice_p95_s"] == pytest.approx(1602)
    # Opened after 2, 1, 3, 5, 40, 10 min: sorted 60, 120, 180, 300, 600, 2400 s.
    # median 240; p90 at rank 4.5 -> 600 + 0.5 * 1800 = 1500; p95 at 4.75 -> 1950.
    assert total["detected"] == 6
    assert total["detection_median_s"] == 240
    assert total["detection_p90_s"] == pytest.approx(1500)
    assert total["detection_p95_s"] == pytest.approx(1950)
    rows = _by(body["rows"])
    det = rows["source", "detection"]
    assert (det["noticed"], det["notice_median_s"], det["detection_median_s"]) == (3, 240, 120)
    manual = rows["source", "manual"]
    assert manual["noticed"] == 0 and manual["notice_median_s"] is None and manual["detection_median_s"] == 1500
    assert rows["region", "de"]["notice_median_s"] == 1800


def test_the_range_is_in_the_viewer_time_zone(world: Any) -> None:
    made = _incidents(world)
    # Incident a starts Monday 2 March 10:00 UTC = 23:00 in Auckland (UTC+13): on 2 March
    # there; b (3 March 10:00 UTC) is 3 March 23:00 there.
    api = world.api(world.lead)
    code, body = api.get("/api/v1/reports/proactive-share", {"start": "2026-03-02", "end": "2026-03-02", "tz": "Pacific/Auckland"})
    assert code == 200 and body["total"]["incidents"] == 1
    # In Honolulu (UTC-10) a starts at 00:00 on 2 March and b at 00:00 on 3 March.
    code, body = api.get("/api/v1/reports/time-to-notice", {"start": "2026-03-03", "end": "2026-03-03", "tz": "Pacific/Honolulu"})
    assert code == 200 and body["total"]["incidents"] == 1
    assert body["total"]["notice_median_s"] == (made["b"].first_notice_at - made["b"].started_at).total_seconds()
    code, body = api.get("/api/v1/reports/proactive-share", {"start": "2026-02-01", "end": "2026-02-28", "tz": "UTC"})
    assert body["total"]["incidents"] == 1 and body["total"]["reactive"] == 1


def test_no_incidents_gives_empty_tables(world: Any) -> None:
    api = world.api(world.lead)
    code, body = api.get("/api/v1/reports/proactive-share", MARCH)
    assert code == 200 and body["rows"] == [] and body["total"]["proactive_pct"] is None
    code, body = api.get("/api/v1/reports/time-to-notice", MARCH)
    assert code == 200 and body["rows"] == [] and body["total"]["notice_median_s"] is None


def test_csv_of_both_tables(world: Any) -> None:
    _incidents(world)
    c = Client()
    c.force_login(world.lead)
    resp = c.get("/api/v1/reports/proactive-share", {**MARCH, "format": "csv"})
    assert resp.status_code == 200
    assert resp["Content-Disposition"] == 'attachment; filename="relaydesk-proactive-share-2026-03-01-2026-03-31.csv"'
    rows = list(csv.reader(io.StringIO(resp.content.decode())))
    assert rows[0] == ["dimension", "group", "label", "incidents", "with_signal", "proactive", "reactive", "proactive_pct"]
    assert rows[1] == ["source", "detection", "Detection", "3", "3", "2", "1", "66.7"]
    assert rows[-1] == ["", "", "all", "6", "5", "3", "2", "60"]
    resp = c.get("/api/v1/reports/time-to-notice", {**MARCH, "format": "csv"})
    rows = list(csv.reader(io.StringIO(resp.content.decode())))
    assert rows[-1][rows[0].index("notice_median_s")] == "360"
    assert rows[-1][rows[0].index("detection_p90_s")] == "1500"


def test_the_reports_page_shows_tables_and_charts(world: Any) -> None:
    _incidents(world)
    c = Client()
    c.force_login(world.lead)
    html = c.get("/reports/", MARCH).content.decode()
    section = html.split('id="proactive"')[1].split("</section>")[0]
    assert "/api/v1/reports/proactive-share?" in section and "format=csv" in section
    assert "<svg" in section and "60.0%" in section and "Real-time calls" in section
    notice = html.split('id="time-to-notice"')[1].split("</section>")[0]
    assert "<svg" in notice and "6.0 min" in notice  # the total median time to notice (360 s)
    for chart in re.findall(r"<svg.*?</svg>", section + notice, flags=re.S):
        ElementTree.fromstring(chart)
    assert "not available yet" not in html


def test_the_incident_tables_in_chinese(world: Any) -> None:
    _incidents(world)
    c = Client()
    c.force_login(world.lead)
    html = c.get("/reports/", MARCH, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    section = html.split('id="proactive"')[1].split("</section>")[0]
    assert "事件主动通告占比" in section and "被动" in section and "来源" in section and "自动检测" in section
    assert "通告用时" in html.split('id="time-to-notice"')[1]
