"""New tickets matching an open incident are linked; the acknowledgement says so and is not
a first response; at resolve linked tickets get the approved template; proactive share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relaydesk.incidents import services
from relaydesk.incidents.models import Incident, IncidentTicket
from relaydesk.notify.models import OutboundEmail
from relaydesk.tickets import services as tickets
from relaydesk.tickets.models import Message

pytestmark = pytest.mark.django_db


def open_sg(world: Any) -> Incident:
    return services.open_incident(
        service="rtc", region="sg", title_en="Joins failing in Singapore", title_zh="新加坡加入频道失败",
        body_en="Investigating.", severity="major", created_by=world.lead,
        started_at=datetime.now(UTC) - timedelta(minutes=10),
    )


def file(world: Any, user: Any, subject: str, **context: Any) -> Any:
    return tickets.create_ticket(actor=user, requester=user, subject=subject, description="Users cannot join", priority="P1", context=context)


def test_ticket_from_affected_org_in_region_is_linked_and_told(place: Any) -> None:
    inc = open_sg(place)
    t = file(place, place.alice, "Joins failing", region=place.sg)
    link = IncidentTicket.objects.get()
    assert link.incident_id == inc.pk and link.ticket_id == t.pk and link.how == "auto"
    msg = t.messages.get(is_auto=True, author_kind=Message.AUTHOR_SYSTEM, body__contains="known incident")
    assert msg.is_public and "Joins failing in Singapore" in msg.body
    ack = OutboundEmail.objects.get(ticket=t, kind="auto_ack")
    assert f"incident #{inc.pk}" in ack.body
    # the link is not a first response: the FRT clock still runs
    t.refresh_from_db()
    assert t.frt_met_at is None and t.frt_state == "running"
    inc.refresh_from_db()
    assert inc.first_customer_ticket_at == t.created_at
    # visible to the agent and to the customer, not to another organisation
    for user in (place.agent, place.alice):
        status, rows = place.api(user).get(f"/api/v1/tickets/{t.pk}/incidents")
        assert status == 200 and [r["incident_id"] for r in rows] == [inc.pk]
    assert place.api(place.carol).get(f"/api/v1/tickets/{t.pk}/incidents")[0] == 404
    _, detail = place.api(place.lead).get(f"/api/v1/incidents/{inc.pk}")
    assert [x["ticket_id"] for x in detail["tickets"]] == [t.pk]


def test_region_named_in_text_matches_in_chinese_too(place: Any) -> None:
    inc = open_sg(place)
    t = file(place, place.bob, "Singapore 用户无法加入频道")
    assert IncidentTicket.objects.get(ticket=t).incident_id == inc.pk
    msg = t.messages.get(is_auto=True, body__contains="已知事件")
    assert "新加坡加入频道失败" in msg.body


@pytest.mark.parametrize(
    ("who", "subject", "context"),
    [
        ("carol", "Joins failing in sg", {}),  # Globex is not affected
        ("alice", "Billing question", {}),  # no region typed or named
        ("alice", "Joins failing", {"region": "de"}),  # another region typed
        ("alice", "Joins failing", {"region": "sg", "problem_start": "old"}),  # long before the incident
    ],
)
def test_no_link_when_org_region_or_time_do_not_match(place: Any, who: str, subject: str, context: dict[str, Any]) -> None:
    open_sg(place)
    ctx = dict(context)
    if ctx.get("region"):
        ctx["region"] = getattr(place, ctx["region"])
    if ctx.get("problem_start") == "old":
        ctx["problem_start"] = datetime.now(UTC) - timedelta(days=2)
    file(place, getattr(place, who), subject, **ctx)
    assert not IncidentTicket.objects.exists()


def test_resolve_posts_the_approved_template_once(place: Any) -> None:
    inc = open_sg(place)
    t1 = file(place, place.alice, "Joins failing", region=place.sg)
    t2 = file(place, place.bob, "加入失败", region=place.sg)
    api = place.api(place.agent, ["incidents:write"])
    status, _ = api.post(f"/api/v1/incidents/{inc.pk}/resolution-template", {"body_en": "The route issue is fixed; joins are back to normal.", "body_zh": "线路问题已修复，加入频道已恢复正常。"})
    assert status == 200
    services.post_update(inc, status="resolved", body_en="Resolved.")
    m1 = t1.messages.filter(body__startswith="The route issue is fixed").get()
    m2 = t2.messages.filter(body__startswith="线路问题已修复").get()
    for m in (m1, m2):
        assert m.is_auto and m.is_public and m.author_id == place.agent.pk
        assert not m.counts_as_human_staff_reply
    t1.refresh_from_db()
    assert t1.frt_met_at is None  # an automatic update is still not a first response
    assert OutboundEmail.objects.filter(ticket=t1, kind="agent_reply", body__contains="route issue is fixed").exists()
    # approving again does not post twice
    api.post(f"/api/v1/incidents/{inc.pk}/resolution-template", {"body_en": "again"})
    assert not t1.messages.filter(body="again").exists()


def test_template_approved_after_resolve_is_posted_then(place: Any) -> None:
    inc = open_sg(place)
    t = file(place, place.alice, "Joins failing", region=place.sg)
    services.post_update(inc, status="resolved", body_en="Resolved.")
    assert not t.messages.filter(author=place.agent).exists()
    services.approve_resolution_template(inc, body_en="Fixed at 10:40 UTC.", body_zh="", approved_by=place.agent)
    assert t.messages.filter(body="Fixed at 10:40 UTC.").count() == 1


def test_proactive_share_notice_before_ticket(place: Any, mail: Any) -> None:
    from relaydesk.incidents import notices

    inc = open_sg(place)
    notices.deliver_due()
    file(place, place.alice, "Joins failing", region=place.sg)
    inc.refresh_from_db()
    assert inc.first_notice_at is not None and inc.first_customer_ticket_at is not None
    assert inc.proactive is True
    inc2 = services.open_incident(service="rtc", region="de", title_en="Frankfurt", body_en="x", organisations=[place.globex.pk])
    file(place, place.carol, "Frankfurt stutter", region=place.de)
    notices.deliver_due()
    inc2.refresh_from_db()
    assert inc2.proactive is False


def test_an_audit_probe_is_linked_but_is_no_customer_ticket(place: Any) -> None:
    from relaydesk.incidents import linking
    from relaydesk.reports.models import ProbeAccount

    ProbeAccount.objects.create(user=place.alice)
    inc = open_sg(place)
    probe = file(place, place.alice, "Joins failing", region=place.sg)
    assert IncidentTicket.objects.filter(incident=inc, ticket=probe).exists()
    inc.refresh_from_db()
    assert inc.first_customer_ticket_at is None  # a probe never counts as "the customer told us"
    real = file(place, place.bob, "Joins failing", region=place.sg)  # Panda: affected in sg
    assert IncidentTicket.objects.filter(incident=inc, ticket=real).exists()
    inc.refresh_from_db()
    assert inc.first_customer_ticket_at == real.created_at
    other = open_sg(place)  # linked by hand: still no customer ticket
    linking.link_ticket(other, probe)
    other.refresh_from_db()
    assert other.first_customer_ticket_at is None
