"""Solution templates through the API: listing by category, applying with placeholders,
status and tags through the ticket services, unknown placeholders, tenancy."""

from __future__ import annotations

from typing import Any

import pytest

from relaydesk.kb.models import Macro
from relaydesk.tickets import services as tickets
from relaydesk.tickets.models import Message


@pytest.fixture
def ticket(world: Any) -> Any:
    return tickets.create_ticket(
        actor=world.bob, requester=world.bob, subject="直播卡顿", category="stream_quality",
        context={"region": world.sg, "app_id": "app-7", "platform": "android"},
    )


@pytest.fixture
def macro(world: Any) -> Macro:
    status, body = world.api(world.agent).post(
        "/api/v1/macros",
        {
            "name": "Stutter: collect logs",
            "categories": ["stream_quality"],
            "body_en": "Hi {{ customer.name }}, please send SDK logs for app {{ ticket.app_id }} in {{ ticket.region }}.",
            "body_zh": "{{ customer.name }} 您好，请提供 {{ ticket.region }} 区域应用 {{ ticket.app_id }} 的 SDK 日志。",
            "set_status": "pending_customer",
            "set_tags": ["logs-requested"],
        },
    )
    assert status == 201, body
    return Macro.objects.get(pk=body["id"])


def test_list_suggests_by_ticket_category(world: Any, ticket: Any, macro: Macro) -> None:
    Macro.objects.create(name="Billing answer", categories=["billing"], body_en="Hello {{ customer.name }}", usage_count=50)
    status, body = world.api(world.agent).get("/api/v1/macros", {"ticket": ticket.pk})
    assert status == 200 and body[0]["name"] == "Stutter: collect logs" and body[0]["suggested"] is True
    assert body[0]["placeholders"] == ["customer.name", "ticket.app_id", "ticket.region"]
    assert body[1]["suggested"] is False


def test_apply_adds_reply_in_customer_language_and_sets_status_tags(world: Any, ticket: Any, macro: Macro) -> None:
    status, body = world.api(world.agent).post(f"/api/v1/macros/{macro.pk}/apply", {"ticket": ticket.pk, "public": True})
    assert status == 200, body
    assert body["body"] == "Bob 您好，请提供 Singapore 区域应用 app-7 的 SDK 日志。"
    assert body["status"] == "pending_customer" and "logs-requested" in body["tags"]
    msg = Message.objects.get(pk=body["message"])
    assert msg.is_public and msg.author == world.agent
    macro.refresh_from_db()
    assert macro.usage_count == 1 and macro.last_used_at is not None
    # As an internal note.
    status, body = world.api(world.agent).post(f"/api/v1/macros/{macro.pk}/apply", {"ticket": ticket.pk, "public": False})
    assert status == 200 and Message.objects.get(pk=body["message"]).is_public is False


def test_missing_value_is_a_clear_422_and_writes_nothing(world: Any, ticket: Any) -> None:
    m = Macro.objects.create(name="Incident notice", body_en="See {{ incident.url }}", body_zh="请查看 {{ incident.url }}")
    before = Message.objects.count()
    status, body = world.api(world.agent).post(f"/api/v1/macros/{m.pk}/apply", {"ticket": ticket.pk})
    assert status == 422 and "incident.url" in body["detail"]
    assert Message.objects.count() == before
    m.refresh_from_db()
    assert m.usage_count == 0
    status, body = world.api(world.agent).post(f"/api/v1/macros/{m.pk}/apply", {"ticket": ticket.pk, "incident_url": "https://status.example/incidents/9"})
    assert status == 200 and body["body"] == "请查看 https://status.example/incidents/9"


@pytest.mark.parametrize(
    "field, body, needle",
    [
        ("body_en", "Hi {{ customer.password }}", "customer.password"),
        ("body_zh", "{{ ticket.organisation.plan }}", "ticket.organisation.plan"),
        ("body_en", "{% load os %}", "template tags"),
        ("body_en", "{{ customer.name.__class__ }}", "customer.name.__class__"),
    ],
)
def test_create_refuses_unknown_placeholders(world: Any, field: str, body: str, needle: str) -> None:
    status, out = world.api(world.agent).post("/api/v1/macros", {"name": "bad", field: body})
    assert status == 422 and out["detail"].startswith(field) and needle in out["detail"]
    assert not Macro.objects.exists()


def test_create_validates_status_and_categories(world: Any) -> None:
    api = world.api(world.agent)
    assert api.post("/api/v1/macros", {"name": "x", "body_en": "hi", "set_status": "exploded"})[1]["detail"].startswith("set_status")
    assert api.post("/api/v1/macros", {"name": "x", "body_en": "hi", "categories": ["cooking"]})[1]["detail"].startswith("categories")
    assert api.post("/api/v1/macros", {"name": "x"})[1]["detail"].startswith("body_en")
    assert not Macro.objects.exists()


def test_macros_are_staff_only_and_respect_ticket_tenancy(world: Any, ticket: Any, macro: Macro) -> None:
    status, _ = world.api(world.bob).get("/api/v1/macros")
    assert status == 403
    status, _ = world.api(world.bob).post(f"/api/v1/macros/{macro.pk}/apply", {"ticket": ticket.pk})
    assert status == 403
    # Jonas (EMEA) does not serve Panda Video: the ticket is 404 for him, nothing is written.
    before = Message.objects.count()
    status, _body = world.api(world.agent_emea).post(f"/api/v1/macros/{macro.pk}/apply", {"ticket": ticket.pk})
    assert status == 404
    assert world.api(world.agent_emea).get("/api/v1/macros", {"ticket": ticket.pk})[0] == 404
    assert Message.objects.count() == before
    assert world.api(world.agent).post("/api/v1/macros/999999/apply", {"ticket": ticket.pk})[0] == 404


def test_status_transition_refused_rolls_back_the_message(world: Any, ticket: Any) -> None:
    m = Macro.objects.create(name="Reopen", body_en="Reopening", body_zh="重新打开", set_status="new")
    before = Message.objects.count()
    status, body = world.api(world.agent).post(f"/api/v1/macros/{m.pk}/apply", {"ticket": ticket.pk})
    assert status == 409 and "status" in body["detail"]
    assert Message.objects.count() == before


def test_demo_part_loads_articles_and_valid_templates(world: Any) -> None:
    from datetime import UTC, datetime

    from relaydesk.kb import demo, macros
    from relaydesk.kb.models import Article

    line = demo.load(1, datetime.now(UTC))
    assert "solution templates" in line
    assert Article.objects.exists()
    for m in Macro.objects.all():
        macros.placeholders(m.body_en)
        macros.placeholders(m.body_zh)
    assert demo.load(1, datetime.now(UTC)) == line  # idempotent


def _incident(world: Any, **kw: Any) -> Any:
    from relaydesk.core.models import Service
    from relaydesk.incidents.models import Incident

    service = Service.objects.filter(code="rtc").first() or Service.objects.create(code="rtc", name="RTC")
    return Incident.objects.create(service=service, region=world.sg, title_en="Packet loss in Singapore", title_zh="新加坡丢包", **kw)


def test_incident_placeholders_come_from_the_linked_open_incident(world: Any, ticket: Any, settings: Any) -> None:
    from relaydesk.incidents.models import IncidentTicket

    settings.RELAYDESK_BASE_URL = "https://desk.example"
    m = Macro.objects.create(name="Incident notice", body_en="See {{ incident.url }}", body_zh="{{ incident.title }}：{{ incident.url }}")
    resolved = _incident(world, status="resolved")
    IncidentTicket.objects.create(incident=resolved, ticket=ticket)
    # A resolved incident is not "the incident" of the ticket any more.
    status, body = world.api(world.agent).post(f"/api/v1/macros/{m.pk}/apply", {"ticket": ticket.pk})
    assert status == 422 and "incident." in body["detail"]
    open_one = _incident(world)
    IncidentTicket.objects.create(incident=open_one, ticket=ticket)
    status, body = world.api(world.agent).post(f"/api/v1/macros/{m.pk}/apply", {"ticket": ticket.pk})
    assert status == 200, body
    assert body["body"] == f"新加坡丢包：https://desk.example/status/incidents/{open_one.pk}"
    # An explicit value from the agent still wins.
    status, body = world.api(world.agent).post(
        f"/api/v1/macros/{m.pk}/apply", {"ticket": ticket.pk, "incident_url": "https://status.example/x", "incident_title": "T"}
    )
    assert status == 200 and body["body"] == "T：https://status.example/x"


def test_admin_refuses_unknown_placeholder_on_save(world: Any) -> None:
    from relaydesk.kb.admin import MacroAdminForm

    form = MacroAdminForm(
        data={"name": "Bad", "categories": "[]", "body_en": "Hi {{ customer.password }}", "body_zh": "", "set_status": "", "set_tags": "[]", "usage_count": 0, "is_active": True}
    )
    assert not form.is_valid()
    assert "customer.password" in str(form.errors["body_en"])
    form = MacroAdminForm(
        data={"name": "Good", "categories": "[]", "body_en": "Hi {{ customer.name }}", "body_zh": "{% if %}", "set_status": "", "set_tags": "[]", "usage_count": 0, "is_active": True}
    )
    assert not form.is_valid() and "body_en" not in form.errors and "template tags" in str(form.errors["body_zh"])


def test_admin_add_page_shows_the_placeholder_error(world: Any, client: Any) -> None:
    from relaydesk.core.models import User

    admin = User.objects.filter(is_superuser=True).first()
    if admin is None:
        admin = world.agent
        admin.is_superuser = True
        admin.is_staff = True
        admin.save()
    client.force_login(admin)
    resp = client.post(
        "/admin/kb/macro/add/",
        {"name": "Bad", "categories": "[]", "body_en": "Hi {{ ticket.secret }}", "body_zh": "", "set_status": "", "set_tags": "[]", "usage_count": 0, "is_active": "on"},
    )
    assert resp.status_code == 200  # the form again, not a redirect
    assert "ticket.secret" in resp.content.decode()
    assert not Macro.objects.filter(name="Bad").exists()
