"""The reports page: staff only, tables and server-drawn SVG charts, the form, CSV links,
bad input shown on the page, and the SVG helpers."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from relaydesk.reports import svg
from tests.reports.test_reports import MARCH, T0, _p1_world, _reply, _ticket


@pytest.mark.django_db
def test_staff_see_the_report_page(world: Any) -> None:
    _p1_world(world)
    g = _ticket(world.carol, "P2", T0 + timedelta(hours=2))
    _reply(g, world.agent_emea, timedelta(hours=3))
    c = Client()
    c.force_login(world.lead)
    resp = c.get("/reports/", {**MARCH, "by": "priority"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert html.count("<svg") == 9  # frt, ttr, compliance, heatmap, backlog, kb x2, incidents x2
    for anchor in ("frt", "ttr", "compliance", "heatmap", "backlog", "breaches", "kb", "kb-articles", "proactive", "time-to-notice"):
        assert f'id="{anchor}"' in html
    assert "/api/v1/reports/frt?" in html and "format=csv" in html
    assert "6.0 min" in html  # the P1 median (360 s)
    assert "not available yet" not in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    for chart in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        ElementTree.fromstring(chart)  # well-formed


@pytest.mark.django_db
def test_the_page_in_chinese(world: Any) -> None:
    _p1_world(world)
    c = Client()
    c.force_login(world.lead)
    resp = c.get("/reports/", MARCH, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert resp.status_code == 200
    assert 'lang="zh-hans"' in resp.content.decode()


@pytest.mark.django_db
def test_customers_are_refused_and_anonymous_sent_to_login(world: Any) -> None:
    c = Client()
    resp = c.get("/reports/")
    assert resp.status_code == 302 and "login" in resp["Location"]
    c.force_login(world.alice)
    assert c.get("/reports/").status_code == 403


@pytest.mark.django_db
def test_bad_input_is_shown_on_the_page(world: Any) -> None:
    c = Client()
    c.force_login(world.lead)
    resp = c.get("/reports/", {"tz": "Mars/Base"})
    assert resp.status_code == 400
    assert "tz: unknown time zone" in resp.content.decode()


def test_svg_helpers_escape_and_scale() -> None:
    out = svg.bar_chart(["<P1>", "P2"], [svg.Series("median", [60.0, None]), svg.Series("p90", [120.0, 30.0])], title="a & b", fmt=svg.fmt_duration)
    root = ElementTree.fromstring(out)
    assert root.tag.endswith("svg")
    assert "&lt;P1&gt;" in out and "a &amp; b" in out
    assert out.count("<rect") == 3 + 2  # three bars and two legend keys
    heat = svg.heatmap([None] * 24 + [50.0] * 24, ["tip"] * 48, title="h", row_labels=["Mon", "Tue"])
    ElementTree.fromstring(heat)
    with pytest.raises(ValueError):
        svg.heatmap([1.0], ["x"], title="h", row_labels=["Mon"])
    line = svg.line_chart(["a", "b", "c"], [svg.Series("open", [1, 3, 2])], title="l")
    ElementTree.fromstring(line)
    assert "<polyline" in line


def test_formats_and_colours() -> None:
    assert svg.fmt_duration(None) == "—"
    assert svg.fmt_duration(45) == "45 s"
    assert svg.fmt_duration(360) == "6.0 min"
    assert svg.fmt_duration(3600 * 5) == "5.0 h"
    assert svg.fmt_duration(86400 * 3) == "3.0 d"
    assert svg.colour_scale(None) == "#f1f5f9"
    assert svg.colour_scale(0) != svg.colour_scale(100)


@pytest.mark.django_db
def test_the_page_asks_for_a_rebuild_when_facts_are_missing(world: Any) -> None:
    from relaydesk.reports.models import TicketFact

    _p1_world(world)
    c = Client()
    c.force_login(world.lead)
    assert "reports rebuild" not in c.get("/reports/", MARCH).content.decode()
    TicketFact.objects.all().delete()
    assert "reports rebuild" in c.get("/reports/", MARCH).content.decode()
