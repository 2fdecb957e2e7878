"""Claims of the ticket API checked end to end: rule matching on category and channel, the
remaining business time, pause/resume in the history, the list filters for staff, and a
health check that touches no database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from relaydesk.sla.models import SLAPolicy
from relaydesk.tickets import services

pytestmark = pytest.mark.django_db


def test_rules_match_on_category_and_channel(world) -> None:
    policy = SLAPolicy.objects.get(is_active=True)
    status, _ = world.api(world.admin).post(
        f"/api/v1/sla/policies/{policy.pk}/rules",
        {"order": 1, "name": "Billing by e-mail", "category": "billing", "channel": "email",
         "first_response_minutes": 600, "resolution_minutes": 6000},
    )
    assert status == 201

    def rule_of(category: str, channel: str) -> str | None:
        t = services.create_ticket(actor=world.carol, requester=world.carol, subject="Invoice", priority="P3",
                                   category=category, channel=channel)
        t.refresh_from_db()
        return t.sla_rule.name if t.sla_rule else None

    assert rule_of("billing", "email") == "Billing by e-mail"
    assert rule_of("billing", "portal") != "Billing by e-mail"
    assert rule_of("stream_quality", "email") != "Billing by e-mail"


def test_detail_gives_the_remaining_business_time_of_a_running_clock(world) -> None:
    _, t = world.api(world.alice).post("/api/v1/tickets", {"subject": "Live show down", "priority": "P1"})
    fr = t["sla"]["first_response"]
    assert fr["state"] == "running" and t["sla"]["calendar"] == "24×7"
    target_s = int(fr["target_minutes"] * 60)
    _, again = world.api(world.alice).get(f"/api/v1/tickets/{t['id']}")
    remaining = again["sla"]["first_response"]["remaining_business_seconds"]
    # 24×7: the remaining time is the target less the (few) seconds since filing
    assert target_s - 120 <= remaining <= target_s
    assert abs(again["sla"]["first_response"]["spent_business_seconds"] + remaining - target_s) <= 1


def test_pending_customer_pauses_and_the_reply_resumes_in_the_history(world) -> None:
    _, t = world.api(world.alice).post("/api/v1/tickets", {"subject": "Echo", "priority": "P2"})
    agent = world.api(world.agent)
    assert agent.post(f"/api/v1/tickets/{t['id']}/messages", {"body": "Which SDK version?"})[0] == 201
    assert agent.patch(f"/api/v1/tickets/{t['id']}", {"status": "pending_customer"})[0] == 200
    _, paused = agent.get(f"/api/v1/tickets/{t['id']}")
    assert paused["sla"]["resolution"]["state"] == "paused"
    assert world.api(world.alice).post(f"/api/v1/tickets/{t['id']}/messages", {"body": "4.3.1"})[0] == 201
    _, hist = agent.get(f"/api/v1/tickets/{t['id']}/history")
    clock = [(h["field"], h["new"].split(" ")[0]) for h in hist if h["kind"] == "clock"]
    assert ("resolution", "paused") in clock and ("resolution", "resumed") in clock
    assert clock.index(("resolution", "paused")) < clock.index(("resolution", "resumed"))
    _, back = agent.get(f"/api/v1/tickets/{t['id']}")
    assert back["status"] == "open" and back["sla"]["resolution"]["state"] == "running"


def test_staff_list_filters_team_assignee_and_organisation(world) -> None:
    lead = world.api(world.lead)
    a = services.create_ticket(actor=world.alice, requester=world.alice, subject="a")
    b = services.create_ticket(actor=world.carol, requester=world.carol, subject="b")
    c = services.create_ticket(actor=world.bob, requester=world.bob, subject="c")
    services.update_ticket(a, actor=world.lead, changes={"assignee": world.agent, "team": world.apac})
    services.update_ticket(b, actor=world.lead, changes={"assignee": world.agent_emea, "team": world.emea})
    services.update_ticket(c, actor=world.lead, changes={"team": world.apac, "assignee": None})

    def ids(**params: object) -> set[int]:
        status, page = lead.get("/api/v1/tickets", {"limit": 100, **params})
        assert status == 200, page
        return {item["id"] for item in page["items"]}

    assert ids(team=world.apac.pk) == {a.pk, c.pk}
    assert ids(team=world.emea.pk) == {b.pk}
    assert ids(assignee=world.agent.pk) == {a.pk}
    assert ids(assignee="none") >= {c.pk} and a.pk not in ids(assignee="none")
    assert ids(organisation=world.globex.pk) == {b.pk}
    assert ids(organisation=world.acme.pk, team=world.apac.pk) == {a.pk}
    assert lead.get("/api/v1/tickets", {"assignee": "somebody"})[0] == 422
    # an agent's "me" is their own work
    _, mine = world.api(world.agent).get("/api/v1/tickets", {"assignee": "me"})
    assert {i["id"] for i in mine["items"]} == {a.pk}


def test_health_touches_no_database_and_ready_does(db) -> None:
    client = Client()
    with CaptureQueriesContext(connection) as health:
        assert client.get("/api/v1/health").status_code == 200
    assert len(health) == 0
    with CaptureQueriesContext(connection) as ready:
        assert client.get("/api/v1/ready").status_code == 200
    assert len(ready) >= 1
