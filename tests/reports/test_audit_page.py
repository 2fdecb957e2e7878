"""The off-hours audit page: probe first response per hour of the week against the target,
the probes with their first human reply, CSV, kept apart from customer tickets, staff only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from relaydesk.reports import probe
from relaydesk.tickets.services import add_message, create_ticket

# Wednesday 25 November 2026, 03:10 in Shanghai (19:10 UTC the day before).
AT = datetime(2026, 11, 24, 19, 10, tzinfo=UTC)
RANGE = {"start": "2026-11-20", "end": "2026-11-26", "tz": "Asia/Shanghai"}


def _probes(world: Any) -> tuple[Any, Any]:
    probe.enrol(world.bob)
    answered = probe.file_probe_local(world.bob.email, now=AT)
    add_message(
        answered,
        author=world.agent,
        body="Internal look first",
        is_public=False,
        now=AT + timedelta(minutes=1),
    )
    add_message(
        answered, author=world.agent, body="Answered the probe", now=AT + timedelta(minutes=4)
    )
    silent = probe.file_probe_local(
        world.bob.email, now=AT + timedelta(days=1, hours=20)
    )  # Thu 23:10
    create_ticket(
        actor=world.alice, requester=world.alice, subject="A real customer ticket", now=AT
    )
    return answered, silent


def _lead(world: Any) -> Client:
    c = Client()
    c.force_login(world.lead)
    return c


@pytest.mark.django_db
def test_hours_and_probes_with_their_first_human_response(world: Any) -> None:
    answered, silent = _probes(world)
    resp = _lead(world).get("/reports/audit/", RANGE)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Off-hours audit" in html and "<svg" in html
    hours = html.split('id="hours"')[1].split("</section>")[0]
    assert "Wed 03:00" in hours and "Thu 23:00" in hours
    assert hours.count("<tr>") == 1 + 2  # header + the two hours that had a probe
    probes = html.split('id="probes"')[1].split("</section>")[0]
    assert "(2)" in probes
    assert f"<td>{answered.number}</td>" in probes and f"<td>{silent.number}</td>" in probes
    assert "Mei" in probes  # who answered first in public (the internal note does not count)
    assert "4.0 min" in probes
    assert "no human reply yet" in probes
    assert "A real customer ticket" not in html
    assert "/api/v1/reports/heatmap?" in html and "population=probes" in html


@pytest.mark.django_db
def test_probe_list_as_csv(world: Any) -> None:
    answered, silent = _probes(world)
    resp = _lead(world).get("/reports/audit/", {**RANGE, "format": "csv"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert "relaydesk-audit-probes-2026-11-20-2026-11-26.csv" in resp["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert [int(r["number"]) for r in rows] == [silent.number, answered.number]
    first = rows[1]
    assert first["responder"] == "Mei" and first["weekday"] == "Wed" and first["hour"] == "3"
    assert 200 <= int(first["frt_wall_s"]) <= 260 and first["outcome"] in ("met", "late")
    assert rows[0]["first_human_response_at"] == "" and rows[0]["responder"] == ""


@pytest.mark.django_db
def test_priority_filter_and_bad_input(world: Any) -> None:
    _probes(world)
    c = _lead(world)
    assert (
        "(0)"
        in c.get("/reports/audit/", {**RANGE, "priority": "P1"})
        .content.decode()
        .split('id="probes"')[1]
    )
    bad = c.get("/reports/audit/", {"tz": "Mars/Base"})
    assert bad.status_code == 400 and "tz: unknown time zone" in bad.content.decode()
    assert c.get("/reports/audit/", {"start": "2026-13-01", "format": "csv"}).status_code == 400


@pytest.mark.django_db
def test_linked_from_the_reports_navigation_and_in_chinese(world: Any) -> None:
    c = _lead(world)
    assert 'href="/reports/audit/"' in c.get("/reports/").content.decode()
    zh = c.get("/reports/audit/", RANGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "非工作时间抽查" in zh


@pytest.mark.django_db
def test_customers_are_refused_and_anonymous_sent_to_login(world: Any) -> None:
    resp = Client().get("/reports/audit/")
    assert resp.status_code == 302 and "login" in resp["Location"]
    c = Client()
    c.force_login(world.bob)
    assert c.get("/reports/audit/").status_code == 403
    assert c.get("/reports/audit/", {"format": "csv"}).status_code == 403


@pytest.mark.django_db
def test_agents_see_only_probes_of_organisations_they_serve(world: Any) -> None:
    _probes(world)
    c = Client()
    c.force_login(world.agent_emea)  # EMEA does not serve the probe account's organisation
    html = c.get("/reports/audit/", RANGE).content.decode()
    assert "(0)" in html.split('id="probes"')[1]
