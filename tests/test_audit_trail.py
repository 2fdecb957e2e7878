"""The audit trail cannot be bypassed: the Django admin changes tickets through the ticket
service (audited, clocks re-targeted, transitions enforced), cannot add or edit messages,
attachments or audit entries, and bulk queryset writes on the trail refuse."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from relaydesk.tickets import services
from relaydesk.tickets.models import Attachment, AuditEntry, Message, Ticket
from tests.admin_forms import change_form_data


def _admin(world: Any) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def test_admin_ticket_form_offers_only_the_service_fields(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo on iOS", priority="P3")
    client = _admin(world)
    form = client.get(f"/admin/tickets/ticket/{t.pk}/change/").context["adminform"].form
    assert set(form.fields) == {"subject", "status", "priority", "category", "assignee", "team"}


def test_admin_change_is_audited_and_retargets_the_clocks(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo on iOS", priority="P4")
    due_before = t.frt_due_at
    client = _admin(world)
    url = f"/admin/tickets/ticket/{t.pk}/change/"
    resp = client.post(url, change_form_data(client, url, priority="P1"))
    assert resp.status_code == 302, resp.content[:2000]
    t.refresh_from_db()
    assert t.priority == "P1"
    entry = AuditEntry.objects.get(ticket=t, field="priority")
    assert (entry.old, entry.new, entry.via, entry.actor_id) == ("P4", "P1", "admin", world.admin.pk)
    # a P1 is due much sooner than a P4: the clock was re-targeted, not just the column
    assert t.frt_due_at is not None and due_before is not None
    assert t.frt_due_at < due_before


def test_admin_impossible_transition_changes_nothing(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo on iOS", priority="P3")
    services.update_ticket(t, actor=world.agent, changes={"status": "solved"})
    services.update_ticket(t, actor=world.agent, changes={"status": "closed"})
    audit_before = AuditEntry.objects.filter(ticket=t).count()
    client = _admin(world)
    t.refresh_from_db()
    url = f"/admin/tickets/ticket/{t.pk}/change/"
    resp = client.post(url, change_form_data(client, url, status="open"), follow=True)
    assert resp.status_code == 200
    shown = [str(m) for m in resp.context["messages"]]
    assert any("Not changed" in m and "closed" in m for m in shown), shown
    t.refresh_from_db()
    assert t.status == "closed"
    assert AuditEntry.objects.filter(ticket=t).count() == audit_before


@pytest.mark.parametrize("model", ["ticket", "message", "attachment", "auditentry"])
def test_admin_cannot_add_tickets_messages_attachments_or_audit(world, model: str) -> None:
    assert _admin(world).get(f"/admin/tickets/{model}/add/").status_code == 403


def test_admin_cannot_edit_a_message_or_an_audit_entry(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo on iOS", priority="P3")
    msg = services.add_message(t, author=world.agent, body="We are looking.", is_public=True)
    entry = AuditEntry.objects.filter(ticket=t).first()
    assert entry is not None
    client = _admin(world)
    resp = client.post(f"/admin/tickets/message/{msg.pk}/change/", {"body": "rewritten"})
    assert resp.status_code == 403
    msg.refresh_from_db()
    assert msg.body == "We are looking."
    assert client.post(f"/admin/tickets/auditentry/{entry.pk}/change/", {"new": "x"}).status_code == 403
    assert client.post(f"/admin/tickets/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Message.objects.filter(pk=msg.pk).exists() and AuditEntry.objects.filter(pk=entry.pk).exists()
    assert not Attachment.objects.exists()


def test_bulk_writes_on_the_trail_refuse(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo on iOS", priority="P3")
    n = AuditEntry.objects.filter(ticket=t).count()
    assert n > 0
    with pytest.raises(ValidationError):
        AuditEntry.objects.filter(ticket=t).update(new="forged")
    with pytest.raises(ValidationError):
        AuditEntry.objects.filter(ticket=t).delete()
    with pytest.raises(ValidationError):
        t.audit.all().delete()
    assert AuditEntry.objects.filter(ticket=t).count() == n
    assert not AuditEntry.objects.filter(ticket=t, new="forged").exists()


def test_deleting_a_ticket_still_removes_its_trail(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo on iOS", priority="P3")
    Ticket.objects.filter(pk=t.pk).delete()
    assert not AuditEntry.objects.filter(ticket_id=t.pk).exists()
