"""The ticket API contract, its bad-input answers and its atomicity."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.test import Client

from relaydesk.api.schemas import TicketListOut
from relaydesk.notify.models import OutboundEmail
from relaydesk.sla.models import ClockEvent
from relaydesk.tickets.models import AuditEntry, Message, Ticket

pytestmark = pytest.mark.django_db


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_create_contract(world) -> None:
    api = world.api(world.alice)
    status, body = api.post(
        "/api/v1/tickets",
        {
            "subject": "Live show stutters in Jakarta",
            "description": "Viewers see freezes every 30 s since 20:05.",
            "priority": "P1",
            "category": "stream_quality",
            "tags": ["live", "jakarta"],
            "context": {
                "app_id": "app-123",
                "channel_name": "room-9",
                "sdk": "rtc-sdk-android",
                "sdk_version": "4.2.1",
                "platform": "android",
                "region": "sg",
                "affected_user_ids": ["u1", "u2"],
                "problem_start": "2026-11-25T20:05:00+07:00",
            },
        },
    )
    assert status == 201, body
    for key in ("id", "number", "status", "priority", "first_response_due_at", "resolution_due_at"):
        assert key in body
    assert body["status"] == "new" and body["priority"] == "P1"
    assert body["first_response_due_at"].endswith("Z")
    created = _iso(body["created_at"])
    # Enterprise P1: 15 minutes first response, 4 hours resolution, 24x7.
    assert (_iso(body["first_response_due_at"]) - created).total_seconds() == 15 * 60
    assert (_iso(body["resolution_due_at"]) - created).total_seconds() == 4 * 3600
    assert body["sla"]["rule"] == "Enterprise P1"
    assert body["sla"]["calendar"] == "24×7"
    assert body["context"]["region"] == "sg"
    assert body["tags"] == ["jakarta", "live"]
    t = Ticket.objects.get(pk=body["id"])
    assert t.channel == "api" and t.requester == world.alice
    assert AuditEntry.objects.filter(ticket=t, field="created").exists()
    assert ClockEvent.objects.filter(ticket=t, kind="started").count() == 2
    # auto-acknowledgement: an automatic system message and an e-mail in the outbox
    ack = Message.objects.get(ticket=t, is_auto=True)
    assert ack.author_kind == "system"
    assert OutboundEmail.objects.filter(ticket=t, kind="auto_ack").exists()
    status, got = api.get(f"/api/v1/tickets/{body['id']}")
    assert status == 200 and got["number"] == body["number"]


def test_numbers_are_sequential_and_unique(world) -> None:
    api = world.api(world.alice)
    numbers = [api.post("/api/v1/tickets", {"subject": f"t{i}"})[1]["number"] for i in range(3)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def test_list_shape_order_and_cursor(world) -> None:
    api = world.api(world.alice)
    for prio in ("P4", "P1", "P3", "P2", "P1"):
        assert api.post("/api/v1/tickets", {"subject": prio, "priority": prio})[0] == 201
    status, page = api.get("/api/v1/tickets", {"limit": 2})
    assert status == 200 and set(page) >= {"count", "items", "next"}
    assert page["count"] == 5 and len(page["items"]) == 2 and page["next"]
    seen = list(page["items"])
    while page["next"]:
        status, page = api.get("/api/v1/tickets", {"limit": 2, "cursor": page["next"]})
        assert status == 200
        seen += page["items"]
    assert len(seen) == 5 and len({t["id"] for t in seen}) == 5
    dues = [_iso(t["sla_due_at"]) for t in seen if t["sla_due_at"]]
    assert dues == sorted(dues)
    assert seen[0]["priority"] == "P1"
    # the page is written without response validation: it must still match the schema
    TicketListOut.model_validate(page)
    detail = api.get(f"/api/v1/tickets/{seen[0]['id']}")[1]
    assert seen[0]["created_at"] == detail["created_at"]  # same time format as validated answers


def test_cursor_pages_through_tickets_sharing_one_due_time(world) -> None:
    """Ties on the urgency time (every ticket without a due time shares one) page by id:
    each ticket exactly once, in (sla_sort_at, id) order."""
    api = world.api(world.alice)
    ids = [api.post("/api/v1/tickets", {"subject": f"t{i}"})[1]["id"] for i in range(7)]
    same = Ticket.objects.get(pk=ids[0]).sla_sort_at
    Ticket.objects.filter(pk__in=ids[1:6]).update(sla_sort_at=same)
    seen, cursor = [], None
    for _ in range(10):
        page = api.get("/api/v1/tickets", {"limit": 2, **({"cursor": cursor} if cursor else {})})[1]
        seen += [t["id"] for t in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    want = sorted(ids, key=lambda pk: (Ticket.objects.get(pk=pk).sla_sort_at, pk))
    assert seen == want


def test_list_items_say_what_the_detail_says(world) -> None:
    """List items are built from plain rows, the detail from the model: the same fields agree
    (people with and without names, team, region, tags, context and clock times)."""
    api = world.api(world.alice)
    ctx = {"region": "sg", "platform": "android", "sdk": "rtc-sdk", "affected_user_ids": ["u1", "u2"],
           "problem_start": "2026-11-25T10:00:00Z"}
    _, first = api.post("/api/v1/tickets", {"subject": "a", "priority": "P1", "tags": ["jitter", "echo"], "context": ctx})
    api.post("/api/v1/tickets", {"subject": "b", "priority": "P3"})
    world.agent.last_name = "Lin"
    world.agent.save()
    staff = world.api(world.lead)
    patched = staff.patch(f"/api/v1/tickets/{first['id']}", {"assignee_id": world.agent.pk, "status": "open"})
    assert patched[0] == 200
    for viewer in (api, staff):
        items = viewer.get("/api/v1/tickets", {"limit": 10})[1]["items"]
        assert len(items) == 2
        for item in items:
            detail = viewer.get(f"/api/v1/tickets/{item['id']}")[1]
            assert item == {k: detail[k] for k in item}, item["subject"]
    item = next(i for i in staff.get("/api/v1/tickets")[1]["items"] if i["id"] == first["id"])
    assert item["assignee"]["name"] == "Mei Lin" and item["tags"] == ["echo", "jitter"]
    assert item["context"]["region"] == "sg" and item["requester"]["name"] == "Alice"


def test_list_count_is_bounded_unless_asked(world, monkeypatch) -> None:
    from relaydesk.api import tickets as api_tickets

    api = world.api(world.alice)
    for i in range(4):
        api.post("/api/v1/tickets", {"subject": f"s{i}"})
    page = api.get("/api/v1/tickets", {"limit": 1})[1]
    assert (page["count"], page["count_exact"], page["count_limit"]) == (4, True, api_tickets.COUNT_LIMIT)
    monkeypatch.setattr(api_tickets, "COUNT_LIMIT", 2)
    page = api.get("/api/v1/tickets", {"limit": 1})[1]
    assert (page["count"], page["count_exact"], page["count_limit"]) == (2, False, 2)
    page = api.get("/api/v1/tickets", {"limit": 1, "exact_count": "true"})[1]
    assert (page["count"], page["count_exact"], page["count_limit"]) == (4, True, None)
    # another organisation's tickets never count
    assert world.api(world.carol).get("/api/v1/tickets", {"exact_count": "true"})[1]["count"] == 0


def test_list_filters(world) -> None:
    api = world.api(world.alice)
    api.post("/api/v1/tickets", {"subject": "a", "priority": "P1"})
    _, b = api.post("/api/v1/tickets", {"subject": "b", "priority": "P4"})
    staff = world.api(world.agent)
    staff.patch(f"/api/v1/tickets/{b['id']}", {"status": "pending_customer"})
    assert api.get("/api/v1/tickets", {"priority": "P1"})[1]["count"] == 1
    assert api.get("/api/v1/tickets", {"status": "pending_customer"})[1]["count"] == 1
    assert api.get("/api/v1/tickets", {"sla_state": "paused"})[1]["count"] == 1
    assert api.get("/api/v1/tickets", {"updated_since": "2000-01-01T00:00:00Z"})[1]["count"] == 2
    assert api.get("/api/v1/tickets", {"assignee": "none"})[1]["count"] == 2


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({}, 422, "subject"),
        ({"subject": ""}, 422, "subject"),
        ({"subject": "x", "priority": "P9"}, 422, "priority"),
        ({"subject": "x", "colour": "red"}, 422, "colour"),
        ({"subject": "x", "context": {"region": "mars"}}, 422, "region"),
        ({"subject": "x", "context": {"platform": "amiga"}}, 422, "platform"),
        ({"subject": "x", "context": {"problem_start": "2026-11-25T10:00:00"}}, 422, "problem_start"),
        (
            {"subject": "x", "context": {"problem_start": "2026-11-25T10:00:00Z", "problem_end": "2026-11-25T09:00:00Z"}},
            422,
            "problem_end",
        ),
        ({"subject": 5}, 422, "subject"),
        ({"subject": "x", "tags": ["has space"]}, 422, "tag"),
        ({"subject": "x", "requester_id": 1}, 403, "requester"),
    ],
)
def test_create_bad_input_names_the_field_and_writes_nothing(world, payload, status, needle) -> None:
    api = world.api(world.alice)
    got, body = api.post("/api/v1/tickets", payload)
    assert got == status, body
    assert needle in body["detail"]
    assert Ticket.objects.count() == 0 and AuditEntry.objects.count() == 0
    assert OutboundEmail.objects.count() == 0


def test_malformed_json_and_oversize_body(world, settings) -> None:
    api = world.api(world.alice)
    status, body = api.post("/api/v1/tickets", raw=b'{"subject": "x",')
    assert status == 400 and "detail" in body
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    status, body = api.post("/api/v1/tickets", {"subject": "x", "description": "y" * 20_000})
    assert status == 413 and "limit" in body["detail"]
    assert Ticket.objects.count() == 0


def test_auth_required_and_bad_token(world) -> None:
    c = Client()
    assert c.get("/api/v1/tickets").status_code == 401
    assert c.get("/api/v1/tickets", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert c.get("/api/v1/health").status_code == 200
    r = c.get("/api/v1/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"


def test_read_only_token_cannot_write(world) -> None:
    api = world.api(world.alice, scopes=["tickets:read"])
    status, body = api.post("/api/v1/tickets", {"subject": "x"})
    assert status == 403 and "tickets:write" in body["detail"]


def test_unknown_ids(world) -> None:
    api = world.api(world.agent)
    assert api.get("/api/v1/tickets/999999")[0] == 404
    assert api.patch("/api/v1/tickets/999999", {"status": "open"})[0] == 404
    _, t = world.api(world.alice).post("/api/v1/tickets", {"subject": "x"})
    status, body = api.patch(f"/api/v1/tickets/{t['id']}", {"assignee_id": 999999})
    assert status == 422 and "assignee_id" in body["detail"]


def test_impossible_transition_is_409_and_changes_nothing(world) -> None:
    _, t = world.api(world.alice).post("/api/v1/tickets", {"subject": "x"})
    api = world.api(world.agent)
    assert api.patch(f"/api/v1/tickets/{t['id']}", {"status": "closed"})[0] == 200
    before = AuditEntry.objects.count()
    status, body = api.patch(f"/api/v1/tickets/{t['id']}", {"status": "open", "priority": "P1"})
    assert status == 409 and "closed" in body["detail"]
    assert AuditEntry.objects.count() == before
    assert Ticket.objects.get(pk=t["id"]).priority == "P3"


def test_update_records_audit_and_history(world) -> None:
    _, t = world.api(world.alice).post("/api/v1/tickets", {"subject": "x"})
    api = world.api(world.agent)
    status, body = api.patch(
        f"/api/v1/tickets/{t['id']}",
        {"priority": "P2", "assignee_id": world.agent.pk, "tags": ["sdk"], "status": "open"},
    )
    assert status == 200, body
    assert body["assignee"]["id"] == world.agent.pk and body["tags"] == ["sdk"]
    status, hist = api.get(f"/api/v1/tickets/{t['id']}/history")
    fields = {h["field"] for h in hist if h["kind"] == "change"}
    assert {"created", "priority", "assignee", "tags", "status"} <= fields
    assert any(h["kind"] == "clock" and "retargeted" in h["new"] for h in hist)
    prio = next(h for h in hist if h["field"] == "priority")
    assert prio["old"] == "P3" and prio["new"] == "P2" and "Mei" in prio["actor"]


def test_messages_public_and_internal(world) -> None:
    _, t = world.api(world.alice).post("/api/v1/tickets", {"subject": "x"})
    agent = world.api(world.agent)
    assert agent.post(f"/api/v1/tickets/{t['id']}/messages", {"body": "checking logs", "public": False})[0] == 201
    assert agent.post(f"/api/v1/tickets/{t['id']}/messages", {"body": "Hello Alice"})[0] == 201
    _, staff_view = agent.get(f"/api/v1/tickets/{t['id']}/messages")
    _, cust_view = world.api(world.alice).get(f"/api/v1/tickets/{t['id']}/messages")
    assert any(not m["public"] for m in staff_view)
    assert all(m["public"] for m in cust_view)
    assert "checking logs" not in str(cust_view)
    status, _ = world.api(world.alice).post(f"/api/v1/tickets/{t['id']}/messages", {"body": "x", "public": False})
    assert status == 403
    status, body = agent.post(f"/api/v1/tickets/{t['id']}/messages", {"body": "   "})
    assert status == 422 and "body" in str(body), body


def test_attachments_limits_and_download(world, settings) -> None:
    _, t = world.api(world.alice).post("/api/v1/tickets", {"subject": "x"})
    api = world.api(world.alice)
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/v1/tickets/{t['id']}/attachments"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api.token}"}
    log = SimpleUploadedFile("sdk.log", b"line1\nline2\n", content_type="text/plain")
    r = api.client.post(url, {"files": [log], "body": "logs attached"}, **headers)
    assert r.status_code == 201, r.content
    att = r.json()[0]
    assert att["size"] == 12 and att["filename"] == "sdk.log"
    dl = api.client.get(att["url"], **headers)
    assert dl.status_code == 200 and b"".join(dl.streaming_content) == b"line1\nline2\n"
    settings.RELAYDESK_MAX_ATTACHMENT_BYTES = 10
    big = SimpleUploadedFile("big.log", b"x" * 100, content_type="text/plain")
    r = api.client.post(url, {"files": [big]}, **headers)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    settings.RELAYDESK_MAX_ATTACHMENT_BYTES = 10_000
    exe = SimpleUploadedFile("x.html", b"<script>", content_type="text/html")
    r = api.client.post(url, {"files": [exe]}, **headers)
    assert r.status_code == 415
    assert Message.objects.filter(ticket_id=t["id"], author_kind="customer").count() == 1
    other = world.api(world.carol)
    assert other.client.get(att["url"], HTTP_AUTHORIZATION=f"Bearer {other.token}").status_code == 404


def test_users_endpoint_for_staff(world) -> None:
    status, users = world.api(world.lead).get("/api/v1/users", {"role": "customer"})
    assert status == 200
    emails = {u["email"]: u for u in users}
    assert {"alice@acme.test", "bob@panda.test", "carol@globex.test"} <= set(emails)
    assert emails["alice@acme.test"]["organisation"]["name"] == "Acme Live"
    assert world.api(world.alice).get("/api/v1/users", {"role": "customer"})[0] == 403


def test_openapi_and_docs(world) -> None:
    c = Client()
    r = c.get("/api/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/tickets" in r.json()["paths"]
    assert c.get("/api/docs").status_code == 200


def test_session_auth_needs_csrf_for_writes(world) -> None:
    """Web pages use Django sessions; a write without the CSRF token is refused, with it works."""
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    status = client.get("/api/v1/tickets").status_code
    assert status == 200
    body = json.dumps({"subject": "Join fails on 4G", "priority": "P3"})
    resp = client.post("/api/v1/tickets", body, content_type="application/json")
    assert resp.status_code == 403 and "CSRF" in resp.content.decode()
    assert not Ticket.objects.exists()
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    resp = client.post(
        "/api/v1/tickets", body, content_type="application/json", HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret)
    )
    assert resp.status_code == 201, resp.content
