"""On-call, coverage and presence pages, and the lead pages (SLA, calendars, teams and
rotations, escalation chains): what they show, who may see them, bad input, Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from relaydesk.routing import schedules
from relaydesk.routing import services as routing_services
from relaydesk.routing.models import (
    AgentProfile,
    EscalationChain,
    EscalationStep,
    Page,
    PageNotification,
    Rotation,
)
from tests.routing.conftest import rotation

from .conftest import file_ticket, login

pytestmark = pytest.mark.django_db

# Monday 7 December 2026 (no DST anywhere involved: Singapore has none, Berlin is on CET).
WEEK = {"start": "2026-12-07", "days": "7"}


@pytest.fixture(autouse=True)
def _fresh_schedules() -> Iterator[None]:
    schedules.invalidate()
    routing_services.invalidate_directory()
    yield
    schedules.invalidate()
    routing_services.invalidate_directory()


@pytest.fixture
def rota(world: Any) -> Any:
    """Mei weekdays 09–18 Singapore (01–10 UTC); Jonas weekdays 09–18 Berlin (08–17 UTC);
    Lena on call around the clock for APAC."""
    rotation(
        world.apac,
        "SG day",
        [world.agent],
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9",
        "2026-01-05T09:00:00",
        9 * 60,
    )
    rotation(
        world.emea,
        "DE day",
        [world.agent_emea],
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9",
        "2026-01-05T09:00:00",
        9 * 60,
    )
    rotation(
        world.apac,
        "APAC on call",
        [world.lead],
        "FREQ=DAILY;BYHOUR=0",
        "2026-01-01T00:00:00",
        24 * 60,
        kind=Rotation.KIND_ONCALL,
    )
    return world


def _grid(html: str) -> dict[str, list[tuple[str, str, str]]]:
    """Row label -> [(class, title, count)] for the 24 hours of the coverage table."""
    body = html.split('class="coverage"')[1].split("</table>")[0]
    out = {}
    for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', body, flags=re.S):
        out[label] = re.findall(r'<td class="(\w+)"(?: title="([^"]*)")?>(\d*)</td>', cells)
    return out


def test_coverage_hour_by_hour_with_gaps_of_24x7_promises(rota: Any) -> None:
    resp = login(rota.lead).get("/console/coverage/", WEEK)
    assert resp.status_code == 200
    html = resp.content.decode()
    grid = _grid(html)
    assert list(grid) == [
        "Mon 7 Dec",
        "Tue 8 Dec",
        "Wed 9 Dec",
        "Thu 10 Dec",
        "Fri 11 Dec",
        "Sat 12 Dec",
        "Sun 13 Dec",
    ]
    monday = grid["Mon 7 Dec"]  # the lead's zone is UTC
    assert len(monday) == 24
    assert monday[1][2] == "1" and "Mei" in monday[1][1]  # 09:00 in Singapore
    assert monday[8][2] == "2" and "Mei" in monday[8][1] and "Jonas" in monday[8][1]  # overlap
    assert monday[17][2] == "0" and monday[17][0] == "gap"  # nobody: Enterprise P1 is 24×7
    assert all(c[0] == "gap" for c in grid["Sun 13 Dec"])
    gaps = html.split('id="gaps"')[1].split("</section>")[0]
    assert "enterprise" in gaps and "P1" in gaps and "business" in gaps
    assert "standard" not in gaps  # Standard promises business hours only
    # nobody is on call in this rota: the P1 gaps page nobody, so they are wholly unanswered
    assert "Unanswered hours" in gaps and "0 %" in gaps


def test_coverage_filters_by_language_and_team(rota: Any) -> None:
    c = login(rota.agent)
    zh = _grid(c.get("/console/coverage/", {**WEEK, "language": "zh-Hans"}).content.decode())
    assert zh["Mon 7 Dec"][8][2] == "1" and "Jonas" not in zh["Mon 7 Dec"][8][1]
    emea = c.get("/console/coverage/", {**WEEK, "team": rota.emea.pk})
    html = emea.content.decode()
    assert "On shift in EMEA" in html
    monday = _grid(html)["Mon 7 Dec"]
    assert monday[8][2] == "1" and "Jonas" in monday[8][1] and "Mei" not in monday[8][1]
    assert monday[1][2] == "0"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"days": "40"}, "Days must be a whole number from 1 to 14."),
        ({"start": "7/12/2026"}, "is not a date; use YYYY-MM-DD."),
        ({"team": "999999"}, "Unknown team"),
        ({"language": "xx"}, "Unknown language"),
    ],
)
def test_coverage_bad_input_is_named(rota: Any, params: dict[str, str], message: str) -> None:
    resp = login(rota.agent).get("/console/coverage/", params)
    assert resp.status_code == 400
    assert message in resp.content.decode()


def test_oncall_page_shows_who_pages_and_feeds(rota: Any, client: Client) -> None:
    t = file_ticket(rota.alice, "Whole region down", priority="P1")
    now = datetime.now(UTC)
    acked = Page.objects.create(
        ticket=t,
        reason="P1 with nobody on shift",
        status=Page.ACKED,
        level=0,
        created_at=now - timedelta(minutes=9),
        acked_at=now - timedelta(minutes=5),
        acked_by=rota.lead,
    )
    waiting = Page.objects.create(
        ticket=t,
        reason="second page",
        status=Page.OPEN,
        level=1,
        created_at=now - timedelta(minutes=1),
    )
    resp = login(rota.agent).get("/console/oncall/")
    assert resp.status_code == 200
    html = resp.content.decode()
    on_call = html.split('id="on-call"')[1].split("</section>")[0]
    assert "Lena" in on_call and "APAC" in on_call
    pages = html.split('id="pages"')[1].split("</section>")[0]
    assert f'data-page="{acked.pk}"' in pages and f'data-page="{waiting.pk}"' in pages
    assert pages.index(f'data-page="{waiting.pk}"') < pages.index(
        f'data-page="{acked.pk}"'
    )  # newest first
    assert "waiting for acknowledgement" in pages and "acknowledged" in pages and "Lena" in pages
    feeds = re.findall(r'href="https?://[^"/]+(/routing/ical/[^"]+\.ics)"', html)
    assert len(feeds) == 3  # mine, APAC and EMEA (the teams with rotations)
    feed = Client().get(feeds[0])
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")


def test_oncall_until_is_the_end_of_the_stint(rota: Any) -> None:
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from relaydesk.web.common import when_words

    berlin = ZoneInfo("Europe/Berlin")
    start = datetime.now(UTC).astimezone(berlin).replace(minute=0, second=0, microsecond=0)
    rotation(
        rota.emea,
        "EMEA evening",
        [rota.agent_emea],
        f"FREQ=DAILY;BYHOUR={start.hour}",
        start.strftime("%Y-%m-%dT%H:00:00"),
        120,
        kind=Rotation.KIND_ONCALL,
    )
    schedules.invalidate()
    html = login(rota.lead).get("/console/oncall/").content.decode()
    on_call = html.split('id="on-call"')[1].split("</section>")[0]
    jonas = next(r for r in re.findall(r"<tr><td>.*?</tr>", on_call, re.S) if "Jonas" in r)
    lena = next(r for r in re.findall(r"<tr><td>.*?</tr>", on_call, re.S) if "Lena" in r)
    with timezone.override(UTC):
        assert f"<td>{when_words(start + timedelta(hours=2))}</td>" in jonas
    assert "more than a week" in lena  # on call around the clock


def test_pages_of_other_customers_stay_hidden_from_agents_who_do_not_serve_them(rota: Any) -> None:
    t = file_ticket(rota.alice, "Acme only", priority="P1")
    p = Page.objects.create(ticket=t, reason="P1 with nobody on shift")
    html = login(rota.agent_emea).get("/console/oncall/").content.decode()
    assert "Acme only" not in html and f'data-page="{p.pk}"' not in html
    PageNotification.objects.create(page=p, user=rota.agent_emea, level=0)
    assert (
        f'data-page="{p.pk}"' in login(rota.agent_emea).get("/console/oncall/").content.decode()
    )  # paged: shown
    assert f'data-page="{p.pk}"' in login(rota.lead).get("/console/oncall/").content.decode()


def test_presence_from_the_console(rota: Any) -> None:
    c = login(rota.agent)
    queue = c.get("/console/").content.decode()
    assert 'id="header-presence"' in queue and 'value="available" selected' in queue
    resp = c.post("/console/presence/", {"presence": "away", "next": "/console/"})
    assert resp.status_code == 302 and resp.url == "/console/"
    prof = AgentProfile.objects.get(user=rota.agent)
    assert prof.presence == "away"
    assert 'value="away" selected' in c.get("/console/oncall/").content.decode()
    # Bad value: nothing changes, the message says what to choose.
    resp = c.post("/console/presence/", {"presence": "asleep"}, follow=True)
    assert "Choose a presence: available, busy, away or offline." in resp.content.decode()
    assert AgentProfile.objects.get(user=rota.agent).presence == "away"
    # An outside address is not followed.
    assert (
        c.post("/console/presence/", {"presence": "busy", "next": "https://evil.example/"}).url
        == "/console/oncall/"
    )
    # Someone without a team is told why.
    resp = login(rota.admin).post("/console/presence/", {"presence": "busy"}, follow=True)
    assert "You have no team yet" in resp.content.decode()
    assert not AgentProfile.objects.filter(user=rota.admin).exists()


def test_oncall_pages_are_for_staff(rota: Any) -> None:
    for path in ("/console/oncall/", "/console/coverage/"):
        assert login(rota.alice).get(path).status_code == 403
        assert Client().get(path).url.startswith("/login/?next=")
    assert login(rota.alice).post("/console/presence/", {"presence": "away"}).status_code == 403
    assert login(rota.agent).get("/console/presence/").status_code == 405


def test_oncall_pages_in_chinese(rota: Any) -> None:
    rota.agent.language = "zh-Hans"
    rota.agent.save()
    c = login(rota.agent)
    assert "<h1>待命</h1>" in c.get("/console/oncall/").content.decode()
    assert "7×24 承诺的空档" in c.get("/console/coverage/", WEEK).content.decode()


# -- lead pages ---------------------------------------------------------------------------------------

LEAD_PAGES = [
    "/console/setup/",
    "/console/setup/sla/",
    "/console/setup/calendars/",
    "/console/setup/teams/",
    "/console/setup/escalation/",
]


@pytest.fixture
def chain(rota: Any) -> EscalationChain:
    c = EscalationChain.objects.create(
        name="APAC urgent",
        team=rota.apac,
        priorities=["P1"],
        repeat=1,
        webhook_url="https://pager.example/hook",
        webhook_secret="s3cret-value",
    )
    EscalationStep.objects.create(
        chain=c,
        level=1,
        delay_minutes=0,
        ack_timeout_minutes=10,
        rotation=Rotation.objects.get(name="APAC on call"),
    )
    EscalationStep.objects.create(
        chain=c, level=2, delay_minutes=0, ack_timeout_minutes=15, user=rota.lead
    )
    return c


def test_lead_pages_show_the_setup_with_admin_links(rota: Any, chain: EscalationChain) -> None:
    c = login(rota.lead)
    pages = {path: c.get(path) for path in LEAD_PAGES}
    assert all(r.status_code == 200 for r in pages.values())
    sla = pages["/console/setup/sla/"].content.decode()
    assert "Standard support promise" in sla and "active" in sla
    assert "15 min" in sla and "24×7" in sla  # Enterprise P1 first response
    assert "/admin/sla/slarule/" in sla
    cals = pages["/console/setup/calendars/"].content.decode()
    assert "Asia/Singapore" in cals and "/admin/sla/businesscalendar/" in cals
    teams = pages["/console/setup/teams/"].content.decode()
    assert (
        "SG day" in teams
        and "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9" in teams
        and "Mei" in teams
    )
    assert "/admin/routing/rotation/" in teams
    esc = pages["/console/setup/escalation/"].content.decode()
    assert (
        "APAC urgent" in esc
        and "whoever is on call in APAC on call (APAC)" in esc
        and "10 min" in esc
    )
    assert "also pages by signed webhook" in esc and "s3cret-value" not in esc
    assert 'href="/console/setup/"' in c.get("/console/").content.decode()  # in the navigation


def test_lead_pages_refuse_agents_and_customers(rota: Any) -> None:
    for path in LEAD_PAGES:
        assert login(rota.agent).get(path).status_code == 403, path
        assert login(rota.alice).get(path).status_code == 403, path
        assert Client().get(path).url.startswith("/login/?next="), path
    assert 'href="/console/setup/"' not in login(rota.agent).get("/console/").content.decode()


def test_lead_pages_in_chinese(rota: Any, chain: EscalationChain) -> None:
    rota.lead.language = "zh-Hans"
    rota.lead.save()
    c = login(rota.lead)
    assert "<h1>升级链</h1>" in c.get("/console/setup/escalation/").content.decode()
    assert "<h1>团队与轮班</h1>" in c.get("/console/setup/teams/").content.decode()


def test_new_catalog_is_complete() -> None:
    from pathlib import Path

    po = (
        Path(__file__).resolve().parents[2] / "relaydesk/web/locale/zh_Hans/LC_MESSAGES/django.po"
    ).read_text("utf-8")
    entries = [e for e in po.split("\n\n")[1:] if "msgid" in e]
    assert len(entries) > 100
    assert [e for e in entries if e.rstrip().endswith('msgstr ""') or 'msgstr[0] ""' in e] == []
    assert "#, fuzzy" not in po
