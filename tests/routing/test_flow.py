"""Routing through the real ticket services: on creation, on a customer reply, key accounts,
capacity, the next team's queue, manual and round-robin assignment, handover and presence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from relaydesk.notify.models import OutboundEmail
from relaydesk.routing import services as routing
from relaydesk.routing.models import AgentProfile, Assignment, TimeOff
from relaydesk.tickets import services
from relaydesk.tickets.models import AuditEntry, Message, Ticket

from .conftest import make_team_member, utc

# Wednesday 2026-12-02: 03:00 UTC is 11:00 in Singapore (Mei on), 04:00 in Berlin (Jonas off).
SG_DAY = utc(2026, 12, 2, 3)
# 10:00 UTC: 18:00 Singapore (Mei just off), 11:00 Berlin (Jonas on).
DE_DAY = utc(2026, 12, 2, 10)
# Saturday: nobody.
WEEKEND = utc(2026, 12, 5, 12)


def new(world: Any, who: Any, at: Any, **kw: Any) -> Ticket:
    context = {k: kw.pop(k) for k in ("platform", "sdk", "region") if k in kw}
    return services.create_ticket(actor=who, requester=who, subject=kw.pop("subject", "Stream stutters"), now=at, context=context, **kw)


def test_new_ticket_goes_to_agent_on_shift_with_reasons(shifts: Any) -> None:
    w = shifts
    AgentProfile.objects.create(user=w.agent, skills=["sdk:android", "category:billing"])
    t = new(w, w.bob, SG_DAY, platform="android", category="stream_quality")
    assert t.assignee == w.agent  # the instance create_ticket returned shows it
    t.refresh_from_db()
    assert t.assignee == w.agent and t.team == w.apac
    a = Assignment.objects.get(ticket=t)
    assert a.rule == "best" and a.trigger == "created"
    assert a.summary == "assigned to Mei; on shift SG; zh-Hans; skill SDK-Android; load 0/8"
    assert str(w.agent.pk) in a.scores
    audit = AuditEntry.objects.get(ticket=t, field="assignee")
    assert audit.via == "routing" and "Mei" in audit.new


def test_nobody_on_shift_queues_to_the_next_team(shifts: Any) -> None:
    w = shifts
    t = new(w, w.carol, WEEKEND, priority="P3")
    t.refresh_from_db()
    assert t.assignee is None
    a = Assignment.objects.get(ticket=t)
    assert a.rule == "team_queue" and "nobody on shift" in a.summary
    # Monday 09:00 Singapore (01:00 UTC) comes before Monday 09:00 Berlin (08:00 UTC).
    assert t.team == w.apac and "2026-12-07T01:00:00+00:00" in a.summary


def test_language_capacity_and_presence(shifts: Any) -> None:
    w = shifts
    other = make_team_member(w.apac, "tom@relaydesk.test", "Tom", ["en"])
    from .conftest import rotation

    rotation(w.apac, "SG day 2", [other], "FREQ=DAILY;BYHOUR=0", "2026-01-01T00:00:00", 24 * 60)
    # Chinese-speaking customer: Mei; English-speaking: the less loaded / idle one.
    t = new(w, w.bob, SG_DAY)
    assert t.assignee == w.agent
    AgentProfile.objects.update_or_create(user=w.agent, defaults={"capacity": {"P1": 1, "P2": 1, "P3": 1, "P4": 1}})
    t2 = new(w, w.bob, SG_DAY, subject="second")
    assert t2.assignee == other  # Mei is at her P3 capacity 1/1
    assert "load 0/8" in Assignment.objects.get(ticket=t2).summary
    routing.set_presence(other, "away")
    t3 = new(w, w.bob, SG_DAY, subject="third")
    assert t3.assignee is None and Assignment.objects.get(ticket=t3).rule == "team_queue"


def test_key_account_manager_then_backup_and_manager_told(shifts: Any) -> None:
    w = shifts  # Acme's account manager is Mei
    t = new(w, w.alice, SG_DAY, priority="P3")
    a = Assignment.objects.get(ticket=t)
    assert (t.assignee, a.rule) == (w.agent, "key_account")
    told = OutboundEmail.objects.filter(kind="key_account", ticket_id=t.pk)
    assert [m.to for m in told] == [[w.agent.email]]
    # Mei on leave: her backup (Jonas, on shift in Berlin) takes it and Mei is still told.
    AgentProfile.objects.update_or_create(user=w.agent, defaults={"backup": w.agent_emea})
    TimeOff.objects.create(user=w.agent, start=utc(2026, 12, 2, 0), end=utc(2026, 12, 3, 0))
    t2 = new(w, w.alice, DE_DAY, priority="P3", subject="again")
    a2 = Assignment.objects.get(ticket=t2)
    assert (t2.assignee, a2.rule) == (w.agent_emea, "key_account_backup")
    assert OutboundEmail.objects.filter(kind="key_account", ticket_id=t2.pk, to=[w.agent.email]).exists()


def test_key_account_manager_is_told_of_every_routing_but_not_twice_in_a_row(shifts: Any) -> None:
    w = shifts  # Acme's account manager is Mei (APAC, weekdays in Singapore)

    def told(t: Ticket) -> list[str]:
        return [m.subject for m in OutboundEmail.objects.filter(kind="key_account", ticket_id=t.pk).order_by("id")]

    def triggers(t: Ticket) -> list[str]:
        return list(Assignment.objects.filter(ticket=t).order_by("id").values_list("trigger", flat=True))

    # Saturday: nobody on shift, the ticket is queued; Mei is told at once.
    t = new(w, w.alice, WEEKEND, priority="P3")
    assert t.assignee is None and len(told(t)) == 1
    # The customer writes again while it waits: routed again, Mei told again …
    services.add_message(t, author=w.alice, body="any news?", now=WEEKEND + timedelta(hours=1))
    assert triggers(t) == ["created", "customer_reply"] and len(told(t)) == 2
    # … but a second reply in a row that routes it the same way tells her nothing new.
    services.add_message(t, author=w.alice, body="hello?", now=WEEKEND + timedelta(hours=2))
    assert triggers(t) == ["created", "customer_reply", "customer_reply"] and len(told(t)) == 2
    # Monday 09:00 Singapore: the queue is picked up (Mei herself takes it); she is told.
    monday = utc(2026, 12, 7, 1, 30)
    assert routing.handover_sweep(now=monday)["picked_up"] == 1
    t.refresh_from_db()
    assert t.assignee == w.agent and triggers(t)[-1] == "queue" and len(told(t)) == 3
    # Handover at the end of Mei's shift: Jonas (Berlin) takes it; Mei is told where it went.
    assert routing.handover_sweep(now=utc(2026, 12, 7, 10, 30))["handed_over"] == 1
    t.refresh_from_db()
    assert t.assignee == w.agent_emea and triggers(t)[-1] == "handover" and len(told(t)) == 4
    assert "Jonas" in OutboundEmail.objects.filter(kind="key_account", ticket_id=t.pk).order_by("-id").first().body
    # Not a key account: nobody is told.
    other = new(w, w.bob, WEEKEND, priority="P3")
    services.add_message(other, author=w.bob, body="?", now=WEEKEND + timedelta(hours=1))
    assert told(other) == []


def test_service_and_sdk_skills_win(shifts: Any) -> None:
    """Globex (English, served by EMEA) on a weekday in Berlin: Jonas and Hans are both on shift
    and speak English; the one with the ticket's service or SDK skill takes it, either way round."""
    from relaydesk.core.models import Service

    from .conftest import rotation

    w = shifts
    Service.objects.create(code="rtc", name="Real-time audio & video")
    hans = make_team_member(w.emea, "hans@relaydesk.test", "Hans", ["en"])
    rotation(w.emea, "DE day 2", [hans], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9", "2026-01-05T09:00:00", 9 * 60)
    # Stream quality is a problem of the rtc service: Hans knows it (a plain core skill "rtc"
    # is the service's code), Jonas does not.
    hans.skills = ["rtc"]
    hans.save()
    t = new(w, w.carol, DE_DAY, category="stream_quality")
    assert t.assignee == hans
    assert "skill service rtc" in Assignment.objects.get(ticket=t).summary
    # An SDK named by the ticket's context (version dropped): Jonas knows RelayLive.
    AgentProfile.objects.update_or_create(user=w.agent_emea, defaults={"skills": ["sdk:relaylive"]})
    t2 = new(w, w.carol, DE_DAY, subject="player", category="sdk_integration", sdk="RelayLive 4.2")
    assert t2.assignee == w.agent_emea
    assert "skill SDK-Relaylive" in Assignment.objects.get(ticket=t2).summary
    # The platform read from the SDK's name when the ticket gives none.
    AgentProfile.objects.update_or_create(user=hans, defaults={"skills": ["sdk:android"]})
    t3 = new(w, w.carol, DE_DAY, subject="crash", category="sdk_integration", sdk="rtc-sdk-android")
    assert t3.assignee == hans and "skill SDK-Android" in Assignment.objects.get(ticket=t3).summary


def test_ticket_sdk_skill_values() -> None:
    assert routing.ticket_sdk("RelayRTC 4.2.1") == ("relayrtc", "")
    assert routing.ticket_sdk("rtc-sdk-android", "") == ("rtc-sdk-android", "android")
    assert routing.ticket_sdk("rtc-sdk-android", "ios") == ("rtc-sdk-android", "ios")
    assert routing.ticket_sdk("") == ("", "")


def test_customer_reply_to_unassigned_ticket_is_routed(shifts: Any) -> None:
    w = shifts
    t = new(w, w.carol, WEEKEND)
    assert t.assignee is None
    services.add_message(t, author=w.carol, body="any news?", now=DE_DAY)
    t.refresh_from_db()
    assert t.assignee == w.agent_emea
    assert Assignment.objects.filter(ticket=t).order_by("id").values_list("trigger", flat=True).last() == "customer_reply"


def test_manual_and_round_robin_assignment_are_audited(shifts: Any) -> None:
    w = shifts
    t = new(w, w.bob, SG_DAY)
    services.update_ticket(t, actor=w.lead, changes={"assignee": w.agent_emea}, now=SG_DAY)
    last = Assignment.objects.filter(ticket=t).order_by("id").last()
    assert last is not None and (last.rule, last.agent, last.actor) == ("manual", w.agent_emea, w.lead)
    a = routing.assign_round_robin(t, w.apac, actor=w.lead, now=SG_DAY)
    assert a.rule == "round_robin" and a.agent == w.agent and a.previous_agent == w.agent_emea
    assert AuditEntry.objects.filter(ticket=t, field="assignee").count() == 3


def test_handover_moves_running_tickets_keeps_pending_ones_until_reply(shifts: Any) -> None:
    w = shifts
    running = new(w, w.bob, SG_DAY, subject="running")
    pending = new(w, w.bob, SG_DAY, subject="pending")
    services.add_message(pending, author=w.agent, body="Please send logs", status="pending_customer", now=SG_DAY)
    assert routing.handover_sweep(now=SG_DAY)["handed_over"] == 0
    result = routing.handover_sweep(now=DE_DAY)
    assert result["handed_over"] == 1 and result["presence_offline"] == 1
    running.refresh_from_db()
    pending.refresh_from_db()
    assert running.assignee == w.agent_emea and pending.assignee == w.agent
    note = Message.objects.filter(ticket=running, is_public=False).last()
    assert note is not None and note.body.startswith("Handover from Mei")
    assert "Summary: P3" in note.body and "Last action:" in note.body and "Next step: first response due" in note.body
    assert Assignment.objects.filter(ticket=running).order_by("id").last().trigger == "handover"  # type: ignore[union-attr]
    assert AgentProfile.objects.get(user=w.agent).presence == "offline"
    # The customer answers the pending ticket while Mei is off shift: it follows routing.
    services.add_message(pending, author=w.bob, body="here are the logs", now=DE_DAY)
    pending.refresh_from_db()
    assert pending.assignee == w.agent_emea
    # Next morning Mei's presence comes back with her shift.
    assert routing.handover_sweep(now=utc(2026, 12, 3, 3))["presence_available"] == 1


def test_queued_tickets_are_picked_up_when_a_shift_starts(shifts: Any) -> None:
    w = shifts
    t = new(w, w.bob, WEEKEND)
    assert t.assignee is None
    assert routing.handover_sweep(now=WEEKEND + timedelta(hours=1))["picked_up"] == 0
    monday = utc(2026, 12, 7, 1, 5)  # 09:05 in Singapore
    assert routing.handover_sweep(now=monday)["picked_up"] == 1
    t.refresh_from_db()
    assert t.assignee == w.agent
    assert Assignment.objects.filter(ticket=t).order_by("id").last().trigger == "queue"  # type: ignore[union-attr]


def test_rotation_in_a_members_own_zone(shifts: Any) -> None:
    w = shifts
    dubai = make_team_member(w.emea, "omar@relaydesk.test", "Omar", ["ar", "en"])
    from .conftest import rotation

    # 15:00–24:00 in Dubai (UTC+4) is 11:00–20:00 UTC, whatever Berlin's offset.
    rotation(w.emea, "Dubai late", [dubai], "FREQ=DAILY;BYHOUR=15", "2026-01-01T15:00:00", 9 * 60, time_zone="Asia/Dubai")
    from relaydesk.routing import schedules

    assert dubai.pk in schedules.on_shift_at(utc(2026, 12, 2, 19, 59))
    assert dubai.pk not in schedules.on_shift_at(utc(2026, 12, 2, 20, 0))
    assert dubai.pk in schedules.on_shift_at(utc(2026, 7, 2, 11, 0))
