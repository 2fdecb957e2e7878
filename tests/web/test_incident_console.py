"""The incident console over the real URLs, services and database: list and filters, the
timeline, posting an update through the incident services (with its notice rows), refused
changes that name the field and write nothing, affected customers with their notices'
delivery state, linked tickets, a manual incident, staff only, Chinese pages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from relaydesk.incidents import intake, linking, services
from relaydesk.incidents.models import (
    AffectedOrganisation,
    Incident,
    IncidentTicket,
    IncidentUpdate,
    Notice,
)
from relaydesk.web.incidents import PROPOSAL_BODY_EN, PROPOSAL_BODY_ZH
from relaydesk.web.templatetags.web import stamp
from tests.incidents.helpers import footprint, service

from .conftest import file_ticket, login
from .test_browser import browser, log_in, new_page, shot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(world: Any) -> Any:
    """Service ``rtc`` with Acme (key account, small share) and Panda (zh-Hans, larger
    share) in Singapore, Globex in Frankfurt."""
    svc = service("rtc")
    footprint(world.acme, svc, world.sg, sessions=1000)
    footprint(world.panda, svc, world.sg, sessions=5000)
    footprint(world.globex, svc, world.de, sessions=3000)
    world.rtc = svc
    return world


def open_sg(world: Any, **kw: Any) -> Incident:
    return services.open_incident(
        service="rtc",
        region="sg",
        title_en="Packet loss on Telkomsel",
        title_zh="Telkomsel 丢包",
        body_en="Investigating packet loss.",
        body_zh="正在调查丢包问题。",
        severity="major",
        internal_note="Paged the network on-call.",
        created_by=world.lead,
        **kw,
    )


def counts() -> tuple[int, int, int]:
    return Incident.objects.count(), IncidentUpdate.objects.count(), Notice.objects.count()


# -- staff only ----------------------------------------------------------------------------------


def test_incident_console_is_staff_only(place: Any) -> None:
    inc = open_sg(place)
    customer = login(place.alice)
    for path in ("/console/incidents/", f"/console/incidents/{inc.pk}/", "/console/incidents/new/"):
        assert customer.get(path).status_code == 403, path
    before = counts()
    post = customer.post(
        f"/console/incidents/{inc.pk}/update/", {"status": "resolved", "body_en": "Fixed."}
    )
    assert post.status_code == 403
    assert (
        customer.post(
            "/console/incidents/new/",
            {
                "service": "rtc",
                "region": "sg",
                "title_en": "x",
                "body_en": "y",
                "severity": "minor",
                "status": "investigating",
            },
        ).status_code
        == 403
    )
    assert counts() == before
    anon = Client().get("/console/incidents/")
    assert anon.status_code == 302 and anon.url.startswith("/login/?next=/console/incidents/")
    assert login(place.agent).get("/console/incidents/999999/").status_code == 404


def test_posting_needs_csrf(place: Any) -> None:
    inc = open_sg(place)
    c = Client(enforce_csrf_checks=True)
    c.force_login(place.agent)
    page = c.get(f"/console/incidents/{inc.pk}/")
    assert b"csrfmiddlewaretoken" in page.content
    before = counts()
    assert (
        c.post(
            f"/console/incidents/{inc.pk}/update/", {"status": "identified", "body_en": "x"}
        ).status_code
        == 403
    )
    assert counts() == before


# -- list ----------------------------------------------------------------------------------------


def test_list_shows_active_first_then_recent_with_filters(place: Any) -> None:
    old = open_sg(place)
    services.post_update(old, status="resolved", body_en="Fixed.")
    de = services.open_incident(
        service="rtc", region="de", title_en="Frankfurt jitter", body_en="Looking."
    )
    sg = open_sg(place)
    c = login(place.agent)
    resp = c.get("/console/incidents/")
    html = resp.content.decode()
    assert resp.status_code == 200
    active_part, recent_part = html.split('id="recent-incidents"')
    assert f'data-incident="{sg.pk}"' in active_part and f'data-incident="{de.pk}"' in active_part
    assert (
        f'data-incident="{old.pk}"' not in active_part
        and f'data-incident="{old.pk}"' in recent_part
    )
    # newest active first
    assert active_part.index(f'data-incident="{sg.pk}"') < active_part.index(
        f'data-incident="{de.pk}"'
    )
    # the nav links here from the console
    assert 'href="/console/incidents/"' in c.get("/console/").content.decode()

    def shown(query: str) -> set[int]:
        body = c.get(f"/console/incidents/?{query}").content.decode()
        return {i.pk for i in (old, de, sg) if f'data-incident="{i.pk}"' in body}

    assert shown("region=de") == {de.pk}
    assert shown("region=sg") == {old.pk, sg.pk}
    assert shown("status=resolved") == {old.pk}
    assert shown("status=active&region=sg") == {sg.pk}
    assert shown("service=rtc") == {old.pk, de.pk, sg.pk}
    bad = c.get("/console/incidents/?status=exploded&region=mars")
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "“exploded”" in text and "“status”" in text and "“mars”" in text and "“region”" in text


# -- detail --------------------------------------------------------------------------------------


def test_detail_shows_timeline_affected_ranked_delivery_and_tickets(place: Any) -> None:
    inc = open_sg(place)
    # Panda has five times Acme's traffic, yet Acme is a key account and comes first.
    affected = list(
        AffectedOrganisation.objects.filter(incident=inc).values_list("organisation_id", flat=True)
    )
    assert set(affected) == {place.acme.pk, place.panda.pk}
    # One of Panda's notices failed, Acme's is still queued.
    Notice.objects.filter(organisation=place.panda).update(
        status=Notice.FAILED, last_error="550 no such user"
    )
    t = file_ticket(place.alice, "Audio drops in Singapore")
    linking.link_ticket(inc, t, reason="linked by staff")
    other = file_ticket(place.carol, "Frankfurt issue")
    linking.link_ticket(inc, other, reason="linked by staff")
    resp = login(place.agent).get(f"/console/incidents/{inc.pk}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    # timeline: public texts in both languages and the internal note
    assert "Investigating packet loss." in html and "正在调查丢包问题。" in html
    assert "Paged the network on-call." in html
    # affected: key account first, with per-channel state
    assert html.index(f'data-org="{place.acme.pk}"') < html.index(f'data-org="{place.panda.pk}"')
    acme_row = html.split(f'data-org="{place.acme.pk}"')[1].split("</tr>")[0]
    panda_row = html.split(f'data-org="{place.panda.pk}"')[1].split("</tr>")[0]
    assert 'data-channel="email" data-state="queued"' in acme_row and "key account" in acme_row
    assert (
        'data-channel="email" data-state="failed"' in panda_row and "550 no such user" in panda_row
    )
    totals = html.split('id="delivery"')[1].split("</table>")[0]
    assert '<td class="queued">1</td><td class="sent">0</td><td class="failed">1</td>' in totals
    # linked tickets: the agent (APAC) may open Acme's ticket, not Globex's (EMEA)
    linked = html.split('id="linked-tickets"')[1]
    assert f'href="/console/tickets/{t.pk}/"' in linked
    assert f'href="/console/tickets/{other.pk}/"' not in linked and f"#{other.number}" in linked
    assert IncidentTicket.objects.filter(incident=inc).count() == 2
    # A lead sees every ticket, so both are links.
    lead_html = login(place.lead).get(f"/console/incidents/{inc.pk}/").content.decode()
    assert f'href="/console/tickets/{other.pk}/"' in lead_html


# -- posting an update ---------------------------------------------------------------------------


def test_posting_an_update_goes_through_the_services_with_its_notices(place: Any) -> None:
    inc = open_sg(place)
    Notice.objects.update(status=Notice.SENT)  # the first notices went out
    c = login(place.agent)
    resp = c.post(
        f"/console/incidents/{inc.pk}/update/",
        {
            "status": "identified",
            "body_en": "Upstream route flap found.",
            "body_zh": "已找到上游路由抖动。",
            "internal_note": "Carrier ticket 4711.",
            "severity": "critical",
            "notify": "on",
        },
    )
    assert resp.status_code == 302 and resp.url == f"/console/incidents/{inc.pk}/"
    inc.refresh_from_db()
    assert inc.status == "identified" and inc.identified_at is not None
    assert inc.severity == "critical" and inc.impact == "major_outage"
    update = inc.updates.order_by("-id").first()
    assert update is not None and update.created_by == place.agent
    assert (update.body_en, update.body_zh, update.internal_note) == (
        "Upstream route flap found.",
        "已找到上游路由抖动。",
        "Carrier ticket 4711.",
    )
    rows = Notice.objects.filter(update=update)
    assert {n.organisation_id for n in rows} == {place.acme.pk, place.panda.pk}
    assert {n.language for n in rows if n.organisation_id == place.panda.pk} == {"zh-Hans"}
    page = c.get(resp.url).content.decode()
    assert (
        "Update posted." in page
        and "Upstream route flap found." in page
        and "Carrier ticket 4711." in page
    )
    # Without "notify" the update writes no notice rows.
    before = Notice.objects.count()
    c.post(f"/console/incidents/{inc.pk}/update/", {"status": "monitoring", "body_en": "Watching."})
    assert inc.updates.count() == 3 and Notice.objects.count() == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"status": "identified", "body_en": "  "}, "body_en", "This field is required."),
        ({"status": "exploded", "body_en": "x"}, "status", "Select a valid choice."),
        (
            {"status": "identified", "body_en": "x", "severity": "apocalyptic"},
            "severity",
            "Select a valid choice.",
        ),
        ({"status": "identified", "body_en": "x" * 10001}, "body_en", "at most 10000 characters"),
        (
            {"status": "identified", "body_en": "x", "body_zh": "字" * 10001},
            "body_zh",
            "at most 10000 characters",
        ),
        (
            {"status": "identified", "body_en": "x", "internal_note": "x" * 10001},
            "internal_note",
            "at most 10000 characters",
        ),
    ],
)
def test_bad_update_names_the_field_and_writes_nothing(
    place: Any, data: dict[str, str], field: str, message: str
) -> None:
    inc = open_sg(place)
    before = counts()
    resp = login(place.agent).post(f"/console/incidents/{inc.pk}/update/", data)
    assert resp.status_code == 400
    html = resp.content.decode()
    block = html.split(f'id="field-{field}"')[1].split('<div class="field')[0]
    assert 'class="error"' in block and message in block
    assert counts() == before
    inc.refresh_from_db()
    assert inc.status == "investigating"


def test_update_of_a_resolved_incident_is_a_conflict_and_writes_nothing(place: Any) -> None:
    inc = open_sg(place)
    services.post_update(inc, status="resolved", body_en="Fixed.")
    c = login(place.agent)
    page = c.get(f"/console/incidents/{inc.pk}/").content.decode()
    assert 'id="resolved-final"' in page and 'id="post-update"' not in page
    before = counts()
    resp = c.post(
        f"/console/incidents/{inc.pk}/update/",
        {"status": "investigating", "body_en": "It is back."},
    )
    assert resp.status_code == 409
    block = resp.content.decode().split('id="field-status"')[1].split('<div class="field')[0]
    assert "a resolved incident is final" in block and 'class="error"' in block
    assert counts() == before
    inc.refresh_from_db()
    assert inc.status == "resolved"


# -- the detector's proposal to resolve ----------------------------------------------------------


def _detected(world: Any, now: datetime, **kw: Any) -> Incident:
    """An incident from a detection candidate, through the intake the worker uses."""
    candidate = {
        "key": "rtc:sg:packet_loss_pct:1",
        "service": "rtc",
        "region": "sg",
        "start": (now - timedelta(minutes=40)).timestamp(),
        "detected_at": (now - timedelta(minutes=38)).timestamp(),
        "locations": ["Telkomsel"],
        "metrics": ["packet_loss_pct"],
        "severity": "major",
        **kw,
    }
    inc = intake.open_or_update_from_detection(candidate, now=now)
    assert inc is not None
    return inc


def _hidden_inputs(html: str, form_id: str) -> dict[str, str]:
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)
    }


def test_resolve_proposal_banner_only_while_proposed_and_unresolved(place: Any) -> None:
    place.agent.timezone = "Asia/Singapore"
    place.agent.save()
    now = timezone.now().replace(microsecond=0)
    inc = _detected(place, now - timedelta(minutes=20))
    c = login(place.agent)
    url = f"/console/incidents/{inc.pk}/"

    # Detected and still bad: no proposal, no banner, no marker in the list.
    assert inc.resolve_proposed_at is None
    assert 'id="resolve-proposal"' not in c.get(url).content.decode()
    assert "data-proposal=" not in c.get("/console/incidents/").content.decode()

    # Metrics recovered for a while: the detector proposes to resolve.
    recovered = now - timedelta(minutes=5)
    inc = _detected(place, now, ongoing=False, propose_resolve_at=recovered.timestamp())
    assert inc.resolve_proposed_at == recovered and inc.status == "investigating"
    html = c.get(url).content.decode()
    banner = html.split('id="resolve-proposal"')[1].split("</div>")[0]
    with timezone.override(ZoneInfo("Asia/Singapore")):
        local = stamp(recovered)
    assert f"Metrics recovered at {local} — propose to resolve" in banner
    listing = c.get("/console/incidents/").content.decode()
    active_part = listing.split('id="recent-incidents"')[0]
    marker = active_part.split(f'data-incident="{inc.pk}"')[1].split("</tr>")[0]
    assert f'data-proposal="{inc.pk}"' in marker and "resolve proposed" in marker

    # "Edit the update first" fills the ordinary form with the resolve.
    edit = c.get(url + "?resolve=1").content.decode()
    status_field = edit.split('id="field-status"')[1].split("</select>")[0]
    assert '<option value="resolved" selected>' in status_field
    assert PROPOSAL_BODY_EN in edit.split('id="field-body_en"')[1].split("</textarea>")[0]
    # The banner's button posts a resolved update through the update flow, with notices.
    fields = _hidden_inputs(html, "resolve-proposal-form")
    assert fields["status"] == "resolved" and fields["notify"] == "on"
    assert fields["body_en"] == PROPOSAL_BODY_EN and fields["body_zh"] == PROPOSAL_BODY_ZH
    action = html.split('id="resolve-proposal-form"')[0].rsplit("<form", 1)[1]
    assert f'action="/console/incidents/{inc.pk}/update/"' in action
    resp = c.post(f"/console/incidents/{inc.pk}/update/", fields)
    assert resp.status_code == 302 and resp.url == url
    inc.refresh_from_db()
    assert inc.status == "resolved" and inc.resolved_at is not None
    update = inc.updates.order_by("-id").first()
    assert update is not None and update.created_by == place.agent
    assert (update.status, update.body_en, update.body_zh) == (
        "resolved",
        PROPOSAL_BODY_EN,
        PROPOSAL_BODY_ZH,
    )
    assert "metrics recovered at" in update.internal_note
    assert Notice.objects.filter(update=update).exists()

    # Resolved: the proposal is still stored, but neither page points at it any more.
    assert inc.resolve_proposed_at is not None
    after = c.get(url).content.decode()
    assert 'id="resolve-proposal"' not in after and 'id="resolved-final"' in after
    assert "data-proposal=" not in c.get("/console/incidents/").content.decode()
    assert 'id="resolve-proposal"' not in c.get(url + "?resolve=1").content.decode()


def test_resolve_proposal_in_chinese_and_not_for_manual_incidents(place: Any) -> None:
    manual = open_sg(place)
    place.agent.language = "zh-Hans"
    place.agent.save()
    c = login(place.agent)
    html = c.get(f"/console/incidents/{manual.pk}/?resolve=1").content.decode()
    # No proposal: no banner, and ?resolve=1 does not pre-fill a resolve.
    assert 'id="resolve-proposal"' not in html
    assert '<option value="resolved" selected>' not in html
    Incident.objects.filter(pk=manual.pk).update(resolve_proposed_at=timezone.now())
    html = c.get(f"/console/incidents/{manual.pk}/").content.decode()
    banner = html.split('id="resolve-proposal"')[1].split("</div>")[0]
    assert "恢复 — 建议解决" in banner and "解决并通知客户" in banner
    assert "propose to resolve" not in banner
    assert "建议解决" in c.get("/console/incidents/").content.decode()


# -- manual incident -----------------------------------------------------------------------------


def test_new_manual_incident(place: Any) -> None:
    c = login(place.agent)
    form = c.get("/console/incidents/new/")
    assert form.status_code == 200 and 'name="title_zh"' in form.content.decode()
    resp = c.post(
        "/console/incidents/new/",
        {
            "service": "rtc",
            "region": "sg",
            "title_en": "Join failures",
            "title_zh": "加入失败",
            "severity": "minor",
            "status": "investigating",
            "carriers": "Telkomsel, AS7713",
            "body_en": "Some joins fail.",
            "body_zh": "部分加入失败。",
            "notify": "on",
        },
    )
    inc = Incident.objects.get(title_en="Join failures")
    assert resp.status_code == 302 and resp.url == f"/console/incidents/{inc.pk}/"
    assert inc.source == "manual" and inc.created_by == place.agent
    assert inc.carriers == ["Telkomsel", "AS7713"] and inc.title_zh == "加入失败"
    assert Notice.objects.filter(incident=inc).exists()
    # the new active incident is pointed out on the next form
    assert (
        f'href="/console/incidents/{inc.pk}/"' in c.get("/console/incidents/new/").content.decode()
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title_en": ""}, "title_en"),
        ({"service": "nope"}, "service"),
        ({"region": ""}, "region"),
        ({"status": "resolved"}, "status"),
        ({"body_en": ""}, "body_en"),
        ({"body_en": "x" * 10001}, "body_en"),
        ({"body_zh": "字" * 10001}, "body_zh"),
        ({"internal_note": "x" * 10001}, "internal_note"),
        ({"started_at": "2999-01-01T10:00"}, "started_at"),
        ({"started_at": "yesterday"}, "started_at"),
    ],
)
def test_new_incident_bad_input_names_the_field_and_writes_nothing(
    place: Any, change: dict[str, str], field: str
) -> None:
    data = {
        "service": "rtc",
        "region": "sg",
        "title_en": "Join failures",
        "severity": "minor",
        "status": "investigating",
        "body_en": "Some joins fail.",
        **change,
    }
    before = counts()
    resp = login(place.agent).post("/console/incidents/new/", data)
    assert resp.status_code == 400
    block = resp.content.decode().split(f'id="field-{field}"')[1].split('<div class="field')[0]
    assert 'class="error"' in block
    assert counts() == before


# -- language ------------------------------------------------------------------------------------


def test_pages_in_chinese(place: Any) -> None:
    inc = open_sg(place)
    place.agent.language = "zh-Hans"
    place.agent.save()
    c = login(place.agent)
    listing = c.get("/console/incidents/").content.decode()
    assert "<h1>故障</h1>" in listing and "Telkomsel 丢包" in listing and "调查中" in listing
    detail = c.get(f"/console/incidents/{inc.pk}/")
    html = detail.content.decode()
    assert detail["Content-Language"] == "zh-hans"
    assert (
        "发布更新" in html and "受影响的客户" in html and "通知送达" in html and "重点客户" in html
    )
    assert "Post an update" not in html and "Affected customers" not in html
    refused = c.post(
        f"/console/incidents/{inc.pk}/update/", {"status": "identified", "body_en": ""}
    )
    assert refused.status_code == 400 and "必填项" in refused.content.decode()
    assert "手动新建故障" in c.get("/console/incidents/new/").content.decode()


# -- in a real browser ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_in_the_browser_open_an_incident_and_post_an_update(
    live_server: Any,
    place: Any,
    new_page: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    """Staff open a manual incident from the console's nav and post an update; screenshots
    of the list and the incident page go to artifacts/screenshots/."""
    from playwright.sync_api import expect

    base = live_server.url
    page = new_page()
    log_in(page, base, place.agent.email)
    page.click("header.top nav a[href='/console/incidents/']")
    expect(page.locator("h1")).to_have_text("Incidents")
    page.click("#new-incident")
    page.select_option("#id_service", "rtc")
    page.select_option("#id_region", "sg")
    page.fill("#id_title_en", "Join failures in Singapore")
    page.fill("#id_title_zh", "新加坡加入失败")
    page.fill("#id_body_en", "Some joins fail; investigating.")
    page.click("#new-incident-form button[type=submit]")
    page.wait_for_url("**/console/incidents/*/")
    expect(page.locator("h1")).to_contain_text("Join failures in Singapore")
    expect(page.locator(f"#affected tr[data-org='{place.acme.pk}']")).to_contain_text("Acme Live")
    page.select_option("#id_status", "monitoring")
    page.fill("#id_body_en", "Fix deployed; watching.")
    page.fill("#id_body_zh", "已部署修复，正在观察。")
    page.click("#post-update button[type=submit]")
    expect(page.locator("#incident-status")).to_have_text("Monitoring")
    expect(page.locator("#timeline article").first).to_contain_text("已部署修复，正在观察。")
    shot(page, "console-incident")
    page.goto(f"{base}/console/incidents/")
    expect(page.locator("#active-incidents")).to_contain_text("Join failures in Singapore")
    shot(page, "console-incidents")
    inc = Incident.objects.get(title_en="Join failures in Singapore")
    assert inc.status == "monitoring" and inc.updates.count() == 2
    expect(page.locator(f"[data-proposal='{inc.pk}']")).to_have_count(0)
    # The detector proposes to resolve: the list marks it, the page shows the banner, and its
    # button posts the resolve.
    Incident.objects.filter(pk=inc.pk).update(resolve_proposed_at=timezone.now())
    page.reload()
    expect(page.locator(f"[data-proposal='{inc.pk}']")).to_have_text("resolve proposed")
    page.click(f"#active-incidents tr[data-incident='{inc.pk}'] a")
    expect(page.locator("#resolve-proposal")).to_contain_text("propose to resolve")
    shot(page, "console-incident-resolve-proposal")
    page.click("#resolve-proposal-form button[type=submit]")
    expect(page.locator("#incident-status")).to_have_text("Resolved")
    expect(page.locator("#resolve-proposal")).to_have_count(0)
    expect(page.locator("#resolved-final")).to_be_visible()
    inc.refresh_from_db()
    assert inc.status == "resolved" and inc.updates.count() == 3
