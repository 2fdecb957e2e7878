"""On-call paging with a real SMTP server and a real webhook receiver on loopback: levels,
acknowledgement timeouts, repeats, signed links, signed webhooks with retries, and a page
never counting as a first response."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any

from django.test import Client

from relaydesk.notify.outbox import deliver_due
from relaydesk.routing import paging
from relaydesk.routing.models import (
    Assignment,
    EscalationChain,
    EscalationStep,
    Page,
    PageAttempt,
    PageEvent,
)
from relaydesk.tickets import services
from relaydesk.tickets.models import Ticket

from .conftest import rotation, utc

WEEKEND = utc(2026, 12, 5, 12)  # Saturday: nobody on shift


def chain(w: Any, url: str = "", repeat: int = 0) -> EscalationChain:
    c = EscalationChain.objects.create(name="Global P1", priorities=["P1", "P2"], repeat=repeat, webhook_url=url, webhook_secret="s3cret")
    EscalationStep.objects.create(chain=c, level=0, delay_minutes=0, ack_timeout_minutes=5, user=w.lead)
    EscalationStep.objects.create(chain=c, level=1, delay_minutes=2, ack_timeout_minutes=10, user=w.admin)
    return c


def p1(w: Any, who: Any = None, at: Any = WEEKEND) -> Ticket:
    who = who or w.carol
    return services.create_ticket(actor=who, requester=who, subject="Joins failing in Frankfurt", priority="P1", now=at)


def mails(sink: Any) -> list[tuple[list[str], Any]]:
    """Pages delivered so far (the customer's auto-acknowledgements left out)."""
    deliver_due(now=utc(2030, 1, 1))
    return [(r, m) for r, m in sink.received if m["Subject"].startswith("[PAGE")]


def test_p1_off_hours_pages_levels_in_time_and_ack_by_link_stops_it(shifts: Any, sink: Any) -> None:
    w = shifts
    chain(w)
    t = p1(w)
    page = Page.objects.get(ticket=t)
    assert page.status == Page.OPEN and page.level == 0
    # Nobody on shift: the first level's on-call human owns the P1 at once (no unowned wait).
    assert t.assignee == w.lead
    a = Assignment.objects.get(ticket=t)
    assert a.rule == "on_call" and a.created_at == t.created_at and "on call (Global P1)" in a.summary
    got = mails(sink)
    assert [r for r, _ in got] == [[w.lead.email]]
    body = got[0][1].get_content()
    assert "[PAGE P1]" in got[0][1]["Subject"] and "Acknowledge: " in body
    # Level 2 fires after the 5-minute ack timeout plus its 2-minute delay, not before.
    assert paging.escalation_sweep(now=WEEKEND + timedelta(minutes=6, seconds=59))["levels_fired"] == 0
    assert paging.escalation_sweep(now=WEEKEND + timedelta(minutes=7))["levels_fired"] == 1
    assert [r for r, _ in mails(sink)][1:] == [[w.admin.email]]
    # The admin acknowledges by the signed link: GET shows the form and changes nothing.
    link = re.search(r"Acknowledge: (\S+)", mails(sink)[1][1].get_content()).group(1)  # type: ignore[union-attr]
    path = link.split("127.0.0.1:8000", 1)[1]
    c = Client()
    assert c.get(path).status_code == 200
    assert Page.objects.get(pk=page.pk).status == Page.OPEN
    assert c.post(path).status_code == 200
    page.refresh_from_db()
    assert page.status == Page.ACKED and page.acked_by == w.admin
    assert paging.escalation_sweep(now=WEEKEND + timedelta(hours=2))["levels_fired"] == 0
    assert c.post(path[:-5] + "xx/").status_code == 404  # tampered signature
    # The page never met the first-response clock; only a human public reply does.
    t.refresh_from_db()
    assert t.frt_met_at is None and t.frt_state == "running"
    kinds = list(PageEvent.objects.filter(page=page).order_by("id").values_list("kind", flat=True))
    assert kinds == ["triggered", "level", "level", "acknowledged"]


def test_unacknowledged_page_repeats_then_is_exhausted(shifts: Any) -> None:
    w = shifts
    chain(w, repeat=1)
    t = p1(w)
    page = Page.objects.get(ticket=t)
    at = WEEKEND
    fired = []
    for minute in range(0, 60):
        r = paging.escalation_sweep(now=at + timedelta(minutes=minute))
        if r["levels_fired"]:
            fired.append(minute)
    # Level 1 at 0 (on creation); level 2 at 7; round 2: level 1 at 17 (10 min timeout, 0 delay),
    # level 2 at 24; exhausted at 34.
    assert fired == [7, 17, 24, 34]
    page.refresh_from_db()
    assert page.status == Page.EXHAUSTED and page.round == 1
    assert [n.user for n in page.notifications.order_by("id")] == [w.lead, w.admin, w.lead, w.admin]


def test_agent_reply_acknowledges_and_solving_resolves(shifts: Any) -> None:
    w = shifts
    chain(w)
    t = p1(w)
    services.add_message(t, author=w.agent_emea, body="Looking at it now", now=WEEKEND + timedelta(minutes=3))
    page = Page.objects.get(ticket=t)
    assert page.status == Page.ACKED and page.acked_by == w.agent_emea
    t.refresh_from_db()
    assert t.frt_met_at is not None  # the human reply, not the page
    services.update_ticket(t, actor=w.agent_emea, changes={"status": "solved"})
    page.refresh_from_db()
    assert page.status == Page.RESOLVED


def test_signed_webhook_with_retries_and_oncall_rotation_target(shifts: Any, receiver: Any) -> None:
    w = shifts
    oncall = rotation(w.emea, "EMEA on call", [w.agent_emea, w.lead], "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9", "2026-11-30T09:00:00", 7 * 24 * 60, kind="oncall")
    c = EscalationChain.objects.create(name="EMEA", team=w.emea, priorities=["P1"], webhook_url=receiver.url, webhook_secret="s3cret")
    EscalationStep.objects.create(chain=c, level=0, ack_timeout_minutes=5, rotation=oncall)
    receiver.codes = [500]
    t = p1(w)
    assert Page.objects.get(ticket=t).chain == c  # the team's own chain: EMEA serves Globex
    r = paging.deliver_webhooks(now=WEEKEND)
    assert r == {"webhooks_sent": 0, "webhooks_retried": 1, "webhooks_failed": 0}
    assert paging.deliver_webhooks(now=WEEKEND + timedelta(seconds=10))["webhooks_sent"] == 0  # backoff
    assert paging.deliver_webhooks(now=WEEKEND + timedelta(minutes=3))["webhooks_sent"] == 1
    att = PageAttempt.objects.get(channel="webhook")
    assert (att.status, att.attempts, att.http_status) == ("sent", 2, 200)
    headers, body = receiver.requests[-1]
    expected = hmac.new(b"s3cret", headers["x-relaydesk-timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["x-relaydesk-signature"] == f"sha256={expected}"
    payload = receiver.bodies()[-1]
    assert payload["target"]["email"] == w.agent_emea.email  # first week of the on-call rotation
    assert payload["ticket"]["number"] == t.number and payload["ack_url"].startswith("http")


def test_key_account_p1_pages_the_account_manager(shifts: Any, sink: Any) -> None:
    w = shifts
    chain(w)
    t = p1(w, who=w.alice)  # Acme's manager Mei is off shift on Saturday
    page = Page.objects.get(ticket=t)
    assert sorted(n.user.email for n in page.notifications.all()) == sorted([w.lead.email, w.agent.email])
    assert sorted(r[0] for r, _ in mails(sink)) == sorted([w.lead.email, w.agent.email])


def test_p2_pages_only_where_the_plan_is_24x7(shifts: Any) -> None:
    w = shifts
    chain(w)
    ent = services.create_ticket(actor=w.alice, requester=w.alice, subject="x", priority="P2", now=WEEKEND)
    std = services.create_ticket(actor=w.bob, requester=w.bob, subject="y", priority="P2", now=WEEKEND)
    assert Page.objects.filter(ticket=ent).exists()
    assert not Page.objects.filter(ticket=std).exists()
