"""The public status page: no login, grid, incidents, maintenance, uptime bars, history,
detail, both languages, JSON summary, Atom feed, cache headers, no third-party assets."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from relaydesk.incidents import lifecycle as lc
from relaydesk.incidents import services
from relaydesk.incidents.models import Component, ComponentStatusChange, Maintenance
from tests.incidents.helpers import footprint, service

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(world: Any) -> Any:
    svc = service("rtc")
    footprint(world.acme, svc, world.sg)
    inc = services.open_incident(
        service="rtc", region="sg", title_en="Packet loss on Telkomsel", title_zh="Telkomsel 丢包",
        body_en="We are investigating packet loss.", body_zh="我们正在调查丢包问题。", severity="major",
        internal_note="SECRET-NOTE route via AS7713", carriers=["Telkomsel"],
    )
    services.component(svc, world.de)  # an operational cell
    t0 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    old = services.open_incident(service="rtc", region="de", title_en="Old Frankfurt blip", body_en="x", severity="major", started_at=t0, now=t0)
    services.post_update(old, status="resolved", body_en="Fixed.", now=t0 + timedelta(hours=6))
    Maintenance.objects.create(service=svc, region=world.br, title_en="Edge upgrade São Paulo", title_zh="圣保罗边缘升级",
                               starts_at=datetime.now(UTC) + timedelta(days=1), ends_at=datetime.now(UTC) + timedelta(days=1, hours=2),
                               notice_at=datetime.now(UTC))
    world.inc, world.old = inc, old
    return world


def test_page_is_public_with_grid_incidents_maintenance_and_bars(live: Any) -> None:
    r = Client().get("/status/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Partial outage" in html and "Packet loss on Telkomsel" in html
    assert "Edge upgrade São Paulo" in html
    assert "SECRET-NOTE" not in html and "Acme" not in html  # nothing internal, no customers
    assert html.count("<svg") == 2  # one uptime bar row per component (sg, de)
    assert len(re.findall(r"<rect ", html)) == 180
    assert re.search(r"public, max-age=\d+", r["Cache-Control"])
    # no third-party assets: no external src/href of scripts, styles or images
    assert not re.search(r'(src|href)="https?://', html.replace('href="http://127.0.0.1:8000', ""))
    # The only script is RelayDesk's own (times in the browser's zone), none inline.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/status/localtime.js">']


def test_chinese_by_query_or_accept_language(live: Any) -> None:
    zh = Client().get("/status/?lang=zh-Hans").content.decode()
    assert "Telkomsel 丢包" in zh and "部分中断" in zh
    zh2 = Client().get("/status/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5").content.decode()
    assert "Telkomsel 丢包" in zh2
    en = Client().get("/status/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "Packet loss on Telkomsel" in en


def test_history_and_detail(live: Any) -> None:
    h = Client().get("/status/incidents/").content.decode()
    assert "Old Frankfurt blip" in h and "Packet loss on Telkomsel" in h
    r = Client().get(f"/status/incidents/{live.inc.pk}?lang=zh-Hans")
    assert r.status_code == 200
    d = r.content.decode()
    assert "我们正在调查丢包问题。" in d and "SECRET-NOTE" not in d
    assert Client().get("/status/incidents/999999").status_code == 404


def test_uptime_bars_count_the_outage(live: Any) -> None:
    from relaydesk.status import data

    cells = {c.region: c for c in data.grid("en")}
    de = cells["de"]
    # 6 h of partial outage (weight 0.5) three days ago = 87.5 % that day
    day = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d")
    u, status, _d = next(x for x in de.days if x[2] == day)
    assert u == pytest.approx(1 - 3 / 24, abs=0.001) and status == lc.PARTIAL
    assert de.uptime is not None and 0.99 < de.uptime < 1.0


def test_day_summaries_pure() -> None:
    d0 = 0.0
    changes = [(3600.0, lc.MAJOR_OUTAGE), (7200.0, lc.OPERATIONAL), (86400.0 + 43200.0, lc.PARTIAL)]
    out = lc.day_summaries(changes, [d0, 86400.0, 2 * 86400.0])
    assert out[0] == (pytest.approx(1 - 1 / 24), lc.MAJOR_OUTAGE)
    assert out[1] == (pytest.approx(0.75), lc.PARTIAL)
    assert out[2] == (pytest.approx(0.5), lc.PARTIAL)


def test_json_summary(live: Any) -> None:
    r = Client().get("/api/v1/status/summary")
    assert r.status_code == 200 and "max-age" in r["Cache-Control"]
    body = r.json()
    assert body["status"]["indicator"] == "major"
    comps = {(c["service"], c["region"]): c["status"] for c in body["components"]}
    assert comps[("rtc", "sg")] == "partial_outage" and comps[("rtc", "de")] == "operational"
    [inc] = body["incidents"]
    assert inc["title"] == "Packet loss on Telkomsel" and inc["updates"][0]["body"] == "We are investigating packet loss."
    assert "internal_note" not in str(body) and "SECRET" not in str(body)
    assert body["scheduled_maintenances"][0]["title"] == "Edge upgrade São Paulo"
    zh = Client().get("/api/v1/status/summary?lang=zh-Hans").json()
    assert zh["incidents"][0]["title"] == "Telkomsel 丢包"


def test_atom_feed_is_valid(live: Any) -> None:
    r = Client().get("/status/feed.atom")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/atom+xml")
    assert "max-age" in r["Cache-Control"]
    root = ET.fromstring(r.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 3  # two opens and one resolve
    ids = [e.find("a:id", ns).text for e in entries]  # type: ignore[union-attr]
    assert len(set(ids)) == 3
    assert "[Investigating] Packet loss on Telkomsel" in entries[0].find("a:title", ns).text  # type: ignore[union-attr,operator]
    assert root.find("a:updated", ns) is not None


def test_operational_when_nothing_happens(world: Any) -> None:
    body = Client().get("/api/v1/status/summary").json()
    assert body["status"]["indicator"] == "none" and body["incidents"] == []
    assert Client().get("/status/").status_code == 200


def test_maintenance_in_progress_shows_under_maintenance(live: Any) -> None:
    m = Maintenance.objects.get()
    start = m.starts_at + timedelta(minutes=1)
    services.maintenance_sweep(now=start)
    assert Component.objects.get(region=live.br).status == lc.MAINTENANCE
    services.maintenance_sweep(now=m.ends_at + timedelta(minutes=1))
    assert Component.objects.get(region=live.br).status == lc.OPERATIONAL
    assert list(ComponentStatusChange.objects.filter(component__region=live.br).values_list("status", flat=True)) == [lc.MAINTENANCE, lc.OPERATIONAL]


def test_times_in_utc_by_default_and_in_the_tz_zone_when_asked(live: Any) -> None:
    started = live.inc.started_at.astimezone(UTC)
    iso = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    html = Client().get("/status/").content.decode()
    assert f'<time datetime="{iso}" data-local>{started:%Y-%m-%d %H:%M} UTC</time>' in html
    assert "data-tz=" not in html
    shanghai = started.astimezone(ZoneInfo("Asia/Shanghai"))
    zh = Client().get("/status/?tz=Asia/Shanghai&lang=zh-Hans").content.decode()
    # The UTC instant stays in the attribute; the text is Shanghai time (UTC+8).
    assert f'<time datetime="{iso}" data-local>{shanghai:%Y-%m-%d %H:%M} Asia/Shanghai</time>' in zh
    assert '<html lang="zh-Hans" data-tz="Asia/Shanghai">' in zh
    # Links keep the zone; the language switch keeps it too.
    assert f"/status/incidents/{live.inc.pk}?lang=zh-Hans&amp;tz=Asia%2FShanghai" in zh
    assert 'href="?lang=en&amp;tz=Asia%2FShanghai"' in zh
    detail = Client().get(f"/status/incidents/{live.inc.pk}?tz=America/Sao_Paulo").content.decode()
    assert f"{started.astimezone(ZoneInfo('America/Sao_Paulo')):%Y-%m-%d %H:%M} America/Sao_Paulo" in detail
    history = Client().get("/status/incidents/?tz=Europe/Berlin").content.decode()
    assert f"{started.astimezone(ZoneInfo('Europe/Berlin')):%Y-%m-%d %H:%M} Europe/Berlin" in history
    # A zone that does not exist (or a path) falls back to UTC.
    for bad in ("Mars/Olympus", "../../etc/passwd", "x" * 100):
        page = Client().get("/status/", {"tz": bad}).content.decode()
        assert f"{started:%Y-%m-%d %H:%M} UTC</time>" in page and "data-tz=" not in page


def test_page_words_come_from_the_catalog(live: Any) -> None:
    """Every fixed phrase of the page is translated (the app's own zh_Hans catalog)."""
    zh = Client().get("/status/?lang=zh-Hans").content.decode()
    for words in ("RelayDesk 网络状态", "进行中的事件", "计划维护", "近 90 天可用性", "历史事件", "90 天前", "今天", "服务", "开始", "更新于"):
        assert words in zh, words
    for english in ("Active incidents", "Scheduled maintenance", "Uptime, last 90 days", "Incident history", "Started"):
        assert english not in zh, english
    h = Client().get("/status/incidents/?lang=zh-Hans").content.decode()
    assert "历史事件" in h and "解决" in h
    assert "<title>RelayDesk 网络状态</title>" in Client().get("/status/feed.atom?lang=zh-Hans").content.decode()
    assert Client().get("/api/v1/status/summary?lang=zh-Hans").json()["status"]["description"] == "部分中断"
    # The English page stays English even when the process last spoke Chinese.
    en = Client().get("/status/?lang=en").content.decode()
    assert "Active incidents" in en and "进行中的事件" not in en


def test_catalog_is_complete() -> None:
    from pathlib import Path

    po = (Path(__file__).resolve().parents[2] / "relaydesk/status/locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8")
    entries = po.split("\n\n")[1:]
    assert len(entries) >= 20
    assert [e for e in entries if e.rstrip().endswith('msgstr ""')] == []
