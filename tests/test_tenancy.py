"""A customer never sees another customer's tickets, messages, files or organisation;
agents see the organisations they serve; leads and admins see all."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(world):
    _, acme = world.api(world.alice).post("/api/v1/tickets", {"subject": "acme issue"})
    _, globex = world.api(world.carol).post("/api/v1/tickets", {"subject": "globex issue"})
    return acme, globex


def test_customer_list_only_own_org(world, tickets) -> None:
    acme, _globex = tickets
    _, page = world.api(world.alice).get("/api/v1/tickets", {"limit": 200})
    assert [t["id"] for t in page["items"]] == [acme["id"]]
    assert page["count"] == 1
    # filtering by another organisation gives nothing, not an error that confirms it exists
    _, page = world.api(world.alice).get("/api/v1/tickets", {"organisation": world.globex.pk})
    assert page["count"] == 0


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("get", "", None),
        ("patch", "", {"status": "solved"}),
        ("get", "/messages", None),
        ("post", "/messages", {"body": "hi"}),
        ("get", "/history", None),
        ("get", "/attachments", None),
    ],
)
def test_customer_cannot_touch_other_org_ticket(world, tickets, method, suffix, payload) -> None:
    _, globex = tickets
    api = world.api(world.alice)
    status, body = getattr(api, method)(f"/api/v1/tickets/{globex['id']}{suffix}", payload)
    assert status == 404
    assert "globex" not in str(body).lower()


def test_agent_sees_served_orgs_only(world, tickets) -> None:
    acme, globex = tickets
    _, page = world.api(world.agent).get("/api/v1/tickets")
    assert {t["id"] for t in page["items"]} == {acme["id"]}
    assert world.api(world.agent).get(f"/api/v1/tickets/{globex['id']}")[0] == 404
    _, page = world.api(world.agent_emea).get("/api/v1/tickets")
    assert {t["id"] for t in page["items"]} == {globex["id"]}
    # assigning a ticket to the APAC agent makes it visible to them
    world.api(world.lead).patch(f"/api/v1/tickets/{globex['id']}", {"assignee_id": world.agent.pk})
    assert world.api(world.agent).get(f"/api/v1/tickets/{globex['id']}")[0] == 200


def test_lead_and_admin_see_all(world, tickets) -> None:
    for user in (world.lead, world.admin):
        _, page = world.api(user).get("/api/v1/tickets")
        assert page["count"] == 2


def test_organisations_endpoint_tenancy(world) -> None:
    status, orgs = world.api(world.alice).get("/api/v1/organisations")
    assert status == 200 and [o["name"] for o in orgs] == ["Acme Live"]
    assert world.api(world.alice).get(f"/api/v1/organisations/{world.globex.pk}")[0] == 404
    _, orgs = world.api(world.agent_emea).get("/api/v1/organisations")
    assert [o["name"] for o in orgs] == ["Globex Streams"]
    _, orgs = world.api(world.lead).get("/api/v1/organisations")
    assert len(orgs) == 3


def test_users_endpoint_is_staff_only_and_scoped(world) -> None:
    assert world.api(world.alice).get("/api/v1/users")[0] == 403
    _, users = world.api(world.agent_emea).get("/api/v1/users", {"role": "customer"})
    assert {u["email"] for u in users} == {"carol@globex.test"}


def test_customer_cannot_file_for_another_org_or_assign(world) -> None:
    api = world.api(world.alice)
    status, _ = api.post("/api/v1/tickets", {"subject": "x", "requester_email": "carol@globex.test"})
    assert status == 403
    status, _ = api.post("/api/v1/tickets", {"subject": "x", "assignee_id": world.agent.pk})
    assert status == 403


def test_staff_cannot_file_for_unserved_org(world) -> None:
    api = world.api(world.agent_emea)
    status, body = api.post("/api/v1/tickets", {"subject": "x", "requester_email": "alice@acme.test"})
    assert status == 403
    status, body = api.post("/api/v1/tickets", {"subject": "x", "requester_email": "carol@globex.test"})
    assert status == 201 and body["channel"] == "phone"


def test_customer_may_not_change_priority_or_assignee(world, tickets) -> None:
    acme, _ = tickets
    api = world.api(world.alice)
    assert api.patch(f"/api/v1/tickets/{acme['id']}", {"priority": "P1"})[0] == 403
    assert api.patch(f"/api/v1/tickets/{acme['id']}", {"assignee_id": world.agent.pk})[0] == 403
    status, body = api.patch(f"/api/v1/tickets/{acme['id']}", {"status": "solved"})
    assert status == 200 and body["status"] == "solved"


def test_customer_history_hides_internal_fields(world, tickets) -> None:
    acme, _ = tickets
    world.api(world.agent).patch(f"/api/v1/tickets/{acme['id']}", {"assignee_id": world.agent.pk, "tags": ["vip"]})
    world.api(world.agent).post(f"/api/v1/tickets/{acme['id']}/messages", {"body": "secret", "public": False})
    _, hist = world.api(world.alice).get(f"/api/v1/tickets/{acme['id']}/history")
    fields = {h["field"] for h in hist if h["kind"] == "change"}
    assert "assignee" not in fields and "tags" not in fields and "message" not in fields


def _upload(api, ticket_id: int, name: str = "trace.log"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f = SimpleUploadedFile(name, b"trace\n", content_type="text/plain")
    return api.client.post(
        f"/api/v1/tickets/{ticket_id}/attachments", {"files": [f], "body": "logs"},
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )


def test_customer_cannot_upload_to_another_orgs_ticket(world, tickets) -> None:
    from relaydesk.tickets.models import Attachment, Message

    _, globex = tickets
    r = _upload(world.api(world.alice), globex["id"])
    assert r.status_code == 404 and "globex" not in r.content.decode().lower()
    assert not Attachment.objects.filter(ticket_id=globex["id"]).exists()
    assert not Message.objects.filter(ticket_id=globex["id"], body="logs").exists()


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("get", "", None),
        ("patch", "", {"status": "solved"}),
        ("get", "/messages", None),
        ("post", "/messages", {"body": "hi", "public": False}),
        ("get", "/history", None),
        ("get", "/attachments", None),
    ],
)
def test_agent_cannot_touch_an_unserved_orgs_ticket(world, tickets, method, suffix, payload) -> None:
    """Mei (APAC) does not serve Globex (DE): every per-ticket endpoint answers 404."""
    from relaydesk.tickets.models import Message, Ticket

    _, globex = tickets
    before = Ticket.objects.values_list("status", "updated_at").get(pk=globex["id"])
    messages = Message.objects.filter(ticket_id=globex["id"]).count()
    status, body = getattr(world.api(world.agent), method)(f"/api/v1/tickets/{globex['id']}{suffix}", payload)
    assert status == 404
    assert "globex" not in str(body).lower()
    assert Ticket.objects.values_list("status", "updated_at").get(pk=globex["id"]) == before
    assert Message.objects.filter(ticket_id=globex["id"]).count() == messages
    # and the agent who serves Globex gets through
    assert getattr(world.api(world.agent_emea), method)(f"/api/v1/tickets/{globex['id']}{suffix}", payload)[0] in (200, 201)


def test_agent_cannot_upload_to_or_download_from_an_unserved_org(world, tickets) -> None:
    _, globex = tickets
    r = _upload(world.api(world.carol), globex["id"])
    assert r.status_code == 201
    url = r.json()[0]["url"]
    mei, jonas = world.api(world.agent), world.api(world.agent_emea)
    assert mei.client.get(url, HTTP_AUTHORIZATION=f"Bearer {mei.token}").status_code == 404
    assert jonas.client.get(url, HTTP_AUTHORIZATION=f"Bearer {jonas.token}").status_code == 200
    assert _upload(mei, globex["id"]).status_code == 404
