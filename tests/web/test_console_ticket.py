"""The console ticket view over HTTP: escalation (priority, team, lead, on-call page) audited in
the history; the customer context panel (regions in use, recent footprint, active incidents
touching the organisation) within tenancy; routing reasons for an assigned ticket."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relaydesk.incidents import services as incidents
from relaydesk.routing import schedules
from relaydesk.routing import services as routing
from relaydesk.routing.models import EscalationChain, EscalationStep, Page, Rotation
from relaydesk.tickets.models import AuditEntry
from tests.incidents.helpers import footprint, service
from tests.routing.conftest import rotation

from .conftest import file_ticket, login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_schedules() -> Any:
    schedules.invalidate()
    routing.invalidate_directory()
    yield
    schedules.invalidate()
    routing.invalidate_directory()


def _oncall(world: Any) -> EscalationChain:
    """Lena (the APAC lead) is on call around the clock; the APAC chain pages her for P1."""
    oncall = rotation(world.apac, "APAC on call", [world.lead], "FREQ=DAILY;BYHOUR=0", "2026-01-01T00:00:00", 24 * 60,
                      kind=Rotation.KIND_ONCALL)
    chain = EscalationChain.objects.create(name="APAC urgent", team=world.apac, priorities=["P1"])
    EscalationStep.objects.create(chain=chain, level=1, ack_timeout_minutes=10, rotation=oncall)
    schedules.invalidate()
    return chain


def _history_rows(html: str) -> str:
    return html.split('id="history"', 1)[1]


# -- escalation ---------------------------------------------------------------------------------


def test_escalate_raises_priority_moves_team_hands_to_lead_and_pages(world: Any) -> None:
    _oncall(world)
    world.emea.lead = world.agent_emea
    world.emea.save()
    t = file_ticket(world.alice, "Calls drop for everyone", priority="P3")
    c = login(world.agent)
    page = c.get(f"/console/tickets/{t.pk}/").content.decode()
    assert 'id="escalate"' in page and 'name="esc-reason"' in page
    # Only higher priorities are offered.
    options = re.search(r'<select name="esc-priority"[^>]*>(.*?)</select>', page, re.S)
    assert options is not None
    offered = re.findall(r'value="(P\d)"', options.group(1))
    assert offered == ["P1", "P2"]

    r = c.post(f"/console/tickets/{t.pk}/escalate/", {
        "esc-reason": "Whole customer is down", "esc-priority": "P1", "esc-team": str(world.apac.pk), "esc-page": "on",
    })
    assert r.status_code == 302 and r.url == f"/console/tickets/{t.pk}/"
    t.refresh_from_db()
    assert t.priority == "P1" and t.team_id == world.apac.pk
    p = Page.objects.get(ticket=t)
    assert p.status == Page.OPEN and "Whole customer is down" in p.reason
    assert list(p.notifications.values_list("user_id", flat=True)) == [world.lead.pk]
    entry = AuditEntry.objects.get(ticket=t, field="escalated")
    assert entry.actor_id == world.agent.pk and entry.via == "web"
    assert "Whole customer is down" in entry.new and "priority P3 -> P1" in entry.new
    assert "lead@relaydesk.test" in entry.new
    prio = AuditEntry.objects.get(ticket=t, field="priority")
    assert (prio.old, prio.new, prio.via) == ("P3", "P1", "escalation")

    shown = c.get(f"/console/tickets/{t.pk}/").content.decode()
    history = _history_rows(shown)
    assert "escalated" in history and "Whole customer is down" in history
    assert 'id="pages"' in shown and "waiting for acknowledgement" in shown

    # Escalating again pages nobody twice; the second entry says so. Hand to EMEA's lead.
    r = c.post(f"/console/tickets/{t.pk}/escalate/", {
        "esc-reason": "Needs EMEA", "esc-team": str(world.emea.pk), "esc-to_lead": "on", "esc-page": "on",
    })
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.team_id == world.emea.pk and t.assignee_id == world.agent_emea.pk
    assert Page.objects.filter(ticket=t).count() == 1
    second = AuditEntry.objects.filter(ticket=t, field="escalated").order_by("-id").first()
    assert second is not None and "page already open" in second.new and "jonas@relaydesk.test" in second.new


def test_escalate_needs_a_reason_and_an_action_and_writes_nothing_otherwise(world: Any) -> None:
    t = file_ticket(world.alice, "Minor glitch", priority="P3")
    c = login(world.agent)
    r = c.post(f"/console/tickets/{t.pk}/escalate/", {"esc-reason": "", "esc-priority": "P1"})
    assert r.status_code == 400
    assert 'id="field-esc-reason"' in r.content.decode()
    r = c.post(f"/console/tickets/{t.pk}/escalate/", {"esc-reason": "Just because"})
    assert r.status_code == 400 and "Choose at least one way to escalate" in r.content.decode()
    # A lower priority is not an escalation.
    r = c.post(f"/console/tickets/{t.pk}/escalate/", {"esc-reason": "x", "esc-priority": "P4"})
    assert r.status_code == 400
    # The lead of a team that has none.
    world.emea.lead = None
    world.emea.save()
    r = c.post(f"/console/tickets/{t.pk}/escalate/", {"esc-reason": "x", "esc-team": str(world.emea.pk), "esc-to_lead": "on"})
    assert r.status_code == 400 and "no lead" in r.content.decode()
    t.refresh_from_db()
    assert t.priority == "P3" and t.team_id != world.emea.pk
    assert not AuditEntry.objects.filter(ticket=t, field__in=("escalated", "priority", "team")).exists()
    assert not Page.objects.filter(ticket=t).exists()


def test_escalate_without_a_chain_says_nobody_was_paged(world: Any) -> None:
    t = file_ticket(world.alice, "Echo", priority="P2")
    c = login(world.agent)
    r = c.post(f"/console/tickets/{t.pk}/escalate/", {"esc-reason": "Customer is angry", "esc-page": "on"}, follow=True)
    assert r.status_code == 200
    assert "nobody was paged" in r.content.decode()
    assert "no escalation chain" in AuditEntry.objects.get(ticket=t, field="escalated").new


def test_escalate_is_staff_only_and_within_tenancy(world: Any) -> None:
    t = file_ticket(world.alice, "Mine", priority="P3")
    assert login(world.alice).post(f"/console/tickets/{t.pk}/escalate/", {"esc-reason": "x", "esc-priority": "P1"}).status_code == 403
    # Jonas (EMEA) does not serve Acme: the ticket does not exist for him.
    assert login(world.agent_emea).post(f"/console/tickets/{t.pk}/escalate/", {"esc-reason": "x", "esc-priority": "P1"}).status_code == 404
    assert login(world.agent).get(f"/console/tickets/{t.pk}/escalate/").status_code == 405
    t.refresh_from_db()
    assert t.priority == "P3" and not AuditEntry.objects.filter(ticket=t, field="escalated").exists()


# -- customer context ---------------------------------------------------------------------------


def test_customer_panel_shows_regions_footprint_and_active_incidents(world: Any) -> None:
    rtc, vod = service("rtc"), service("vod")
    footprint(world.acme, rtc, world.sg, hours=3, sessions=100)  # 300 sessions, 3000 min
    footprint(world.acme, rtc, world.br, hours=2, sessions=7)  # a region besides home
    old = datetime.now(UTC) - timedelta(days=40)
    footprint(world.acme, vod, world.de, hours=1, sessions=5, end=old)  # older than the window
    footprint(world.globex, vod, world.de, hours=2, sessions=4242)  # another organisation
    on_footprint = incidents.open_incident(service="rtc", region="br", title_en="Jitter in São Paulo", body_en="x", severity="minor")
    elsewhere = incidents.open_incident(service="vod", region="de", title_en="VOD stalls in Frankfurt", body_en="x", severity="minor")
    resolved = incidents.open_incident(service="rtc", region="sg", title_en="Old SG blip", body_en="x", severity="minor")
    incidents.post_update(resolved, status="resolved", body_en="Fixed.")
    # Shown from the footprint alone, even when nobody listed Acme as affected.
    from relaydesk.incidents.models import AffectedOrganisation

    AffectedOrganisation.objects.filter(incident=on_footprint).delete()
    t = file_ticket(world.alice, "Latency")
    html = login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode()
    panel = html.split('id="customer"', 1)[1].split("</section>", 1)[0]
    regions = re.search(r'id="regions-used">(.*?)</dd>', panel, re.S)
    assert regions is not None and regions.group(1).split(", ") == ["Singapore", "São Paulo"]
    places = re.findall(r'data-place="([^"]+)"><td>[^<]*</td><td>[^<]*</td><td class="num">(\d+)</td>', panel)
    assert places == [("rtc:sg", "300"), ("rtc:br", "14")]
    assert "4242" not in html and "Frankfurt" not in panel
    incs = re.findall(r'data-incident="(\d+)"', panel)
    assert incs == [str(on_footprint.pk)]
    assert "Jitter in São Paulo" in panel
    assert str(elsewhere.pk) not in incs and "Old SG blip" not in panel

    # Globex's agent sees Globex's traffic and incident, none of Acme's.
    g = file_ticket(world.carol, "Stalls")
    other = login(world.agent_emea).get(f"/console/tickets/{g.pk}/").content.decode()
    gpanel = other.split('id="customer"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'data-place="([^"]+)"', gpanel) == ["vod:de"]
    assert re.findall(r'data-incident="(\d+)"', gpanel) == [str(elsewhere.pk)]
    assert "Singapore" not in re.search(r'id="regions-used">(.*?)</dd>', gpanel, re.S).group(1)  # type: ignore[union-attr]


def test_incident_naming_the_organisation_is_shown_without_footprint(world: Any) -> None:
    from relaydesk.incidents.models import AffectedOrganisation

    service("rtc")
    inc = incidents.open_incident(service="rtc", region="de", title_en="Named by staff", body_en="x", severity="minor")
    AffectedOrganisation.objects.get_or_create(incident=inc, organisation=world.panda)
    mine = file_ticket(world.bob, "Broken")
    html = login(world.agent).get(f"/console/tickets/{mine.pk}/").content.decode()
    assert f'data-incident="{inc.pk}"' in html
    theirs = file_ticket(world.alice, "Fine")
    assert f'data-incident="{inc.pk}"' not in login(world.agent).get(f"/console/tickets/{theirs.pk}/").content.decode()


def test_customer_panel_in_chinese(world: Any) -> None:
    world.agent.language = "zh-Hans"
    world.agent.save()
    footprint(world.panda, service("rtc"), world.sg, hours=1, sessions=3)
    inc = incidents.open_incident(service="rtc", region="sg", title_en="Loss", title_zh="丢包", body_en="x", severity="minor")
    t = file_ticket(world.bob, "卡顿")
    html = login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode()
    assert "使用的区域" in html and "近 7 天流量" in html and "影响该客户的进行中事件" in html
    assert "丢包" in html and str(inc.pk) in html
    assert "升级" in html  # the escalate panel


# -- routing reasons ----------------------------------------------------------------------------


def test_routing_reasons_for_an_assigned_ticket(world: Any) -> None:
    """The reasons the panel shows come from the assignments API: on shift, load x/y."""
    rotation(world.apac, "SG all day", [world.agent], "FREQ=DAILY;BYHOUR=0", "2026-01-01T00:00:00", 24 * 60)
    schedules.invalidate()
    routing.invalidate_directory()
    t = file_ticket(world.alice, "Routed one", priority="P2")
    t.refresh_from_db()
    assert t.assignee_id == world.agent.pk
    c = login(world.agent)
    html = c.get(f"/console/tickets/{t.pk}/").content.decode()
    assert f'data-url="/api/v1/tickets/{t.pk}/assignments"' in html
    r = c.get(f"/api/v1/tickets/{t.pk}/assignments")
    assert r.status_code == 200
    (a,) = r.json()
    text = "; ".join(a["reasons"])
    assert "on shift" in text and re.search(r"load \d+/\d+", text), text
    # A customer cannot read them.
    assert login(world.alice).get(f"/api/v1/tickets/{t.pk}/assignments").status_code in (403, 404)
