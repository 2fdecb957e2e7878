"""The lean INSERT writes exactly what the ORM would have written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from relaydesk.core import fastsql
from relaydesk.notify.models import OutboundEmail
from relaydesk.tickets.models import AuditEntry, Ticket
from relaydesk.tickets.services import create_ticket


def _row(model: Any, pk: int) -> dict[str, Any]:
    return model.objects.filter(pk=pk).values().get()


def test_insert_matches_orm_save(world: Any) -> None:
    t = create_ticket(actor=world.alice, requester=world.alice, subject="Black screen", description="x")
    when = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    via_orm = AuditEntry(ticket=t, field="priority", old="P3", new="P1 ✓ 卡顿", actor=world.agent, actor_kind="agent", via="api", at=when)
    via_orm.save()
    via_fast = AuditEntry(ticket=t, field="priority", old="P3", new="P1 ✓ 卡顿", actor=world.agent, actor_kind="agent", via="api", at=when)
    fastsql.insert([via_fast])
    assert via_fast.pk is not None and via_fast.pk != via_orm.pk
    assert not via_fast._state.adding
    a, b = _row(AuditEntry, via_orm.pk), _row(AuditEntry, via_fast.pk)
    a.pop("id"), b.pop("id")
    assert a == b


def test_insert_json_and_defaults_round_trip(world: Any) -> None:
    rows = [
        OutboundEmail(kind="ack", to=[f"u{i}@example.test", "x@example.test"], subject=f"s{i}", body="b", message_id=f"<m{i}@example.test>")
        for i in range(205)
    ]
    fastsql.insert(rows)  # three statements (100 + 100 + 5)
    assert len({r.pk for r in rows}) == 205
    back = {r.pk: r for r in OutboundEmail.objects.filter(pk__in=[r.pk for r in rows])}
    for r in rows:
        assert back[r.pk].to == r.to and back[r.pk].subject == r.subject
        assert back[r.pk].status == OutboundEmail.PENDING


def test_insert_refuses_saved_or_mixed_instances(world: Any) -> None:
    t = create_ticket(actor=world.alice, requester=world.alice, subject="Echo", description="x")
    with pytest.raises(ValueError):
        fastsql.insert([t])
    with pytest.raises(ValueError):
        fastsql.insert([OutboundEmail(kind="ack", to=["a@example.test"], subject="s", body="b", message_id="<z@example.test>"), Ticket()])


def test_fast_converters_match_the_orm_for_odd_values(world: Any) -> None:
    """Plain str/int/bool values skip the ORM's conversion; anything else (a lazy string, a
    bool or a float in an integer column, a numeric string) still gets it, exactly as save()."""
    from django.utils.translation import gettext_lazy

    from relaydesk.sla.models import ClockEvent

    t = create_ticket(actor=world.alice, requester=world.alice, subject="Join fails", description="x")
    when = datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC)

    def pair(**kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        a = ClockEvent(ticket=t, at=when, **kw)
        a.save()
        b = ClockEvent(ticket_id=str(t.pk), at=when, **kw)  # a numeric string for the key
        fastsql.insert([b])
        ra, rb = _row(ClockEvent, a.pk), _row(ClockEvent, b.pk)
        for r in (ra, rb):
            r.pop("id"), r.pop("recorded_at")  # auto_now_add: the moment of each insert
        return ra, rb

    a, b = pair(metric=gettext_lazy("first_response"), cycle=True, kind="started", spent_s=12.0, target_s=None)
    assert a == b
    assert b["metric"] == "first_response" and b["cycle"] == 1 and b["spent_s"] == 12 and b["ticket_id"] == t.pk
    a, b = pair(metric="resolution", cycle=3, kind="paused", spent_s=7, target_s=3600)
    assert a == b
