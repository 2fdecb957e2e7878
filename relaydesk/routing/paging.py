"""On-call paging: escalation chains (levels, delays, repeats, acknowledgement timeouts), pages
by e-mail (the outbox) and HMAC-SHA256 signed webhooks with retries, acknowledge/resolve by
signed link or API.  Every page, attempt and acknowledgement is recorded.  A page is never a
message on the ticket, so it never meets a first-response clock.

Webhook payload (``POST``, ``Content-Type: application/json``)::

    {"type": "page", "page_id": 7, "level": 0, "round": 0, "reason": "…",
     "ticket": {"id": 12, "number": 1012, "subject": "…", "priority": "P1", "organisation": "…"},
     "target": {"id": 3, "email": "…", "name": "…"},
     "ack_url": "https://…/routing/page/<signed>/", "resolve_url": "…", "sent_at": "…"}

Headers: ``X-RelayDesk-Timestamp`` (unix seconds) and ``X-RelayDesk-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the chain's secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction

from relaydesk.core.models import Team, User
from relaydesk.notify.outbox import queue_email
from relaydesk.tickets.models import Ticket

from . import schedules
from .models import (
    Assignment,
    EscalationChain,
    EscalationStep,
    Page,
    PageAttempt,
    PageEvent,
    PageNotification,
)

log = logging.getLogger(__name__)

SIGN_SALT = "relaydesk.routing.page"
WEBHOOK_MAX_ATTEMPTS = 6
WEBHOOK_TIMEOUT_S = 5.0


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next webhook try after ``attempts`` failed ones: 15 s doubling, at
    most an hour (shared by routing's pages and the incidents' key-account pages)."""
    return timedelta(seconds=min(3600, 15 * 2 ** (attempts - 1)))
SWEEP_BATCH = 100


class ChainError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# -- chains -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    chain_id: int
    step: EscalationStep


def flatten(chain: EscalationChain) -> list[Level]:
    """The chain's levels in order, following ``next_chain`` hand-offs; a loop raises."""
    out: list[Level] = []
    seen: list[int] = []

    def walk(c: EscalationChain) -> None:
        if c.pk in seen:
            names = " → ".join(EscalationChain.objects.get(pk=i).name for i in [*seen, c.pk])
            raise ChainError(f"escalation chain loop: {names}", "steps")
        seen.append(c.pk)
        for step in c.steps.select_related("user", "rotation__team", "next_chain").order_by("level"):
            if step.next_chain_id is not None:
                assert step.next_chain is not None
                walk(step.next_chain)
            else:
                out.append(Level(c.pk, step))
        seen.pop()

    walk(chain)
    return out


def check_chain(chain: EscalationChain) -> None:
    levels = flatten(chain)
    if not levels:
        raise ChainError("an escalation chain needs at least one step with a person or rotation", "steps")


def needs_page(ticket: Ticket) -> bool:
    """P1 always; P2 where the plan promises a 24×7 clock for it."""
    if ticket.priority == "P1":
        return True
    if ticket.priority == "P2":
        rule = ticket.sla_rule
        return rule is not None and rule.calendar_mode == "24x7"
    return False


def chain_for(ticket: Ticket, team: Team | None) -> EscalationChain | None:
    """The chain of a team serving the organisation, else of the queued team, else a global
    one, for the ticket's priority."""
    chains = [c for c in EscalationChain.objects.order_by("name") if ticket.priority in (c.priorities or [])]
    serving = list(ticket.organisation.support_teams.values_list("pk", flat=True))
    order = [*serving, *([team.pk] if team is not None else []), None]
    for team_id in order:
        for c in chains:
            if c.team_id == team_id:
                return c
    return None


def first_oncall(ticket: Ticket, team: Team | None, now: datetime) -> tuple[User, EscalationChain] | None:
    """The person the first level of the ticket's chain pages now (they own the ticket while
    nobody is on shift)."""
    chain = chain_for(ticket, team)
    if chain is None:
        return None
    for level in flatten(chain):
        people = _targets(level.step, now)
        if people:
            return people[0], chain
    return None


# -- signed links ---------------------------------------------------------------------------


def link(notification: PageNotification, action: str) -> str:
    signed = signing.dumps({"n": notification.pk, "a": action}, salt=SIGN_SALT, compress=True)
    return f"{settings.RELAYDESK_BASE_URL.rstrip('/')}/routing/page/{signed}/"


def read_link(signed: str, max_age: timedelta = timedelta(days=7)) -> tuple[PageNotification, str]:
    data = signing.loads(signed, salt=SIGN_SALT, max_age=max_age)
    n = PageNotification.objects.select_related("page__ticket", "user").get(pk=int(data["n"]))
    action = str(data["a"])
    if action not in ("ack", "resolve"):
        raise signing.BadSignature("unknown action")
    return n, action


def sign_body(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# -- pages ------------------------------------------------------------------------------------


def _event(page: Page, kind: str, detail: str = "", actor: User | None = None, via: str = "", at: datetime | None = None) -> None:
    PageEvent.objects.create(page=page, kind=kind, detail=detail[:300], actor=actor, via=via, at=_now(at))


def start_page(ticket: Ticket, *, reason: str, team: Team | None, now: datetime | None = None) -> Page | None:
    when = _now(now)
    if Page.objects.filter(ticket=ticket, status__in=(Page.OPEN, Page.ACKED)).exists():
        return None
    chain = chain_for(ticket, team)
    page = Page.objects.create(ticket=ticket, chain=chain, reason=reason[:300], created_at=when, next_at=when)
    _event(page, "triggered", reason, at=when)
    if chain is None:
        page.status, page.next_at = Page.EXHAUSTED, None
        page.save(update_fields=["status", "next_at"])
        _event(page, "exhausted", "no escalation chain for this priority", at=when)
        return page
    levels = flatten(chain)
    page.next_at = when + timedelta(minutes=levels[0].step.delay_minutes if levels else 0)
    page.save(update_fields=["next_at"])
    if page.next_at <= when:
        advance(page, when)
    return page


def _targets(step: EscalationStep, now: datetime) -> list[User]:
    if step.user_id is not None:
        assert step.user is not None
        return [step.user]
    if step.rotation_id is not None:
        assert step.rotation is not None
        uid = schedules.oncall_person(step.rotation, now)
        if uid is not None:
            return list(User.objects.filter(pk=uid, is_active=True))
    return []


def advance(page: Page, now: datetime) -> None:
    """Fire the page's next level (or start the next round, or give up)."""
    assert page.chain is not None
    levels = flatten(page.chain)
    nxt = page.level + 1
    if nxt >= len(levels):
        if page.round < page.chain.repeat and levels:
            page.round += 1
            nxt = 0
            _event(page, "repeat", f"round {page.round + 1}", at=now)
        else:
            page.status, page.next_at, page.level = Page.EXHAUSTED, None, len(levels) - 1
            page.save(update_fields=["status", "next_at", "level", "round"])
            _event(page, "exhausted", "every level paged without acknowledgement", at=now)
            return
    step = levels[nxt].step
    targets = _targets(step, now)
    for user in targets:
        notify(page, user, level=nxt, now=now)
    _event(page, "level", f"level {nxt + 1}: {', '.join(u.email for u in targets) or 'nobody on call'}", at=now)
    following = levels[nxt + 1].step.delay_minutes if nxt + 1 < len(levels) else levels[0].step.delay_minutes
    page.level = nxt
    page.next_at = now + timedelta(minutes=step.ack_timeout_minutes + following)
    page.save(update_fields=["level", "round", "next_at"])


def notify(page: Page, user: User, *, level: int, now: datetime, note: str = "") -> PageNotification:
    ticket = page.ticket
    n = PageNotification.objects.create(page=page, user=user, level=level, round=page.round, created_at=now)
    ack, resolve = link(n, "ack"), link(n, "resolve")
    subject = f"[PAGE {ticket.priority}] #{ticket.number} {ticket.subject}"
    body = (
        f"{note or 'You are paged for an urgent ticket nobody on shift can take.'}\n\n"
        f"Ticket #{ticket.number} ({ticket.priority}) from {ticket.organisation}: {ticket.subject}\n"
        f"Reason: {page.reason}\n\n"
        f"Acknowledge: {ack}\nResolve: {resolve}\n\n"
        "Acknowledging stops the escalation; only a public reply to the customer counts as a response.\n"
    )
    row = queue_email(kind="page", to=[user.email], subject=subject, body=body, ticket_id=ticket.pk)
    PageAttempt.objects.create(
        notification=n, channel=PageAttempt.EMAIL, status=PageAttempt.SENT if row else PageAttempt.FAILED,
        attempts=1, payload={"outbox_id": row.pk if row else None, "to": user.email},
        error="" if row else "no address", created_at=now, sent_at=now if row else None,
    )
    chain = page.chain
    if chain is not None and chain.webhook_url:
        payload = {
            "type": "page", "page_id": page.pk, "level": level, "round": page.round, "reason": page.reason,
            "ticket": {"id": ticket.pk, "number": ticket.number, "subject": ticket.subject,
                       "priority": ticket.priority, "organisation": str(ticket.organisation)},
            "target": {"id": user.pk, "email": user.email, "name": user.get_full_name() or user.email},
            "ack_url": ack, "resolve_url": resolve, "sent_at": now.isoformat(),
        }
        PageAttempt.objects.create(
            notification=n, channel=PageAttempt.WEBHOOK, payload=payload, next_attempt_at=now, created_at=now
        )
    return n


def tell_account_manager(ticket: Ticket, assignment: Assignment, *, now: datetime) -> None:
    """A key account's manager hears of every routed ticket at once; a P1 also pages them."""
    manager = ticket.organisation.account_manager
    if manager is None:
        return
    if ticket.priority == "P1":
        page = Page.objects.filter(ticket=ticket, status__in=(Page.OPEN, Page.ACKED)).first()
        if page is None:
            page = Page.objects.create(
                ticket=ticket, chain=None, reason=f"key account P1: {assignment.summary}"[:300],
                status=Page.OPEN, created_at=now, next_at=None,
            )
            _event(page, "triggered", "key account P1", at=now)
        if not page.notifications.filter(user=manager).exists():
            notify(page, manager, level=-1, now=now, note="A P1 of your key account came in.")
        return
    queue_email(
        kind="key_account",
        to=[manager.email],
        subject=f"[Key account] #{ticket.number} {ticket.priority} {ticket.subject}",
        body=f"{ticket.organisation} filed #{ticket.number} ({ticket.priority}): {ticket.subject}\nRouting: {assignment.summary}\n",
        ticket_id=ticket.pk,
    )


def acknowledge(page: Page, user: User | None, *, via: str, now: datetime | None = None) -> Page:
    when = _now(now)
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        if page.status == Page.OPEN or page.status == Page.EXHAUSTED:
            page.status, page.acked_at, page.acked_by, page.next_at = Page.ACKED, when, user, None
            page.save(update_fields=["status", "acked_at", "acked_by", "next_at"])
            _event(page, "acknowledged", f"by {user.email if user else 'system'}", actor=user, via=via, at=when)
            ticket = page.ticket
            if user is not None and via != "reply" and ticket.assignee_id is None and user.team_id is not None:
                from .services import assign_on_call

                assign_on_call(ticket, user, now=when)
    return page


def resolve(page: Page, user: User | None, *, via: str, now: datetime | None = None) -> Page:
    when = _now(now)
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        if page.status != Page.RESOLVED:
            page.status, page.resolved_at, page.resolved_by, page.next_at = Page.RESOLVED, when, user, None
            if page.acked_at is None:
                page.acked_at, page.acked_by = when, user
            page.save(update_fields=["status", "resolved_at", "resolved_by", "next_at", "acked_at", "acked_by"])
            _event(page, "resolved", f"by {user.email if user else 'system'}", actor=user, via=via, at=when)
    return page


def acknowledge_open_pages(ticket: Ticket, user: User | None, *, via: str, now: datetime | None = None) -> int:
    n = 0
    for page in Page.objects.filter(ticket=ticket, status__in=(Page.OPEN, Page.EXHAUSTED)):
        acknowledge(page, user, via=via, now=now)
        n += 1
    return n


def resolve_open_pages(ticket: Ticket, user: User | None, *, via: str, now: datetime | None = None) -> int:
    n = 0
    for page in Page.objects.filter(ticket=ticket).exclude(status=Page.RESOLVED):
        resolve(page, user, via=via, now=now)
        n += 1
    return n


# -- sweeps --------------------------------------------------------------------------------


def escalation_sweep(now: datetime | None = None, limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Fire the levels whose acknowledgement timeout (plus the next delay) has passed."""
    when = _now(now)
    fired = 0
    due = Page.objects.filter(status=Page.OPEN, next_at__lte=when, chain__isnull=False)
    if not due.exists():  # the usual case: no transaction, no locks
        return {"levels_fired": 0, **deliver_webhooks(when)}
    with transaction.atomic():
        qs = due.order_by("next_at")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        for page in qs.select_related("chain", "ticket__organisation")[:limit]:
            advance(page, when)
            fired += 1
    return {"levels_fired": fired, **deliver_webhooks(when)}


def deliver_webhooks(now: datetime | None = None, limit: int = SWEEP_BATCH) -> dict[str, int]:
    when = _now(now)
    result = {"webhooks_sent": 0, "webhooks_retried": 0, "webhooks_failed": 0}
    due = PageAttempt.objects.filter(channel=PageAttempt.WEBHOOK, status=PageAttempt.PENDING, next_attempt_at__lte=when)
    if not due.exists():
        return result
    with transaction.atomic():
        qs = due.order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("notification__page__chain")[:limit])
        # Lease: push the next attempt out so a parallel worker does not send it too.
        PageAttempt.objects.filter(pk__in=[r.pk for r in rows]).update(next_attempt_at=when + timedelta(minutes=2))
    for row in rows:
        chain = row.notification.page.chain
        if chain is None or not chain.webhook_url.startswith(("http://", "https://")):
            row.status, row.error, row.next_attempt_at = PageAttempt.FAILED, "no http(s) webhook URL", None
            row.save(update_fields=["status", "error", "next_attempt_at"])
            continue
        body = json.dumps(row.payload, sort_keys=True, separators=(",", ":")).encode()
        ts = int(when.timestamp())
        req = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            chain.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "RelayDesk-Pager/1",
                "X-RelayDesk-Timestamp": str(ts),
                "X-RelayDesk-Signature": sign_body(chain.webhook_secret, ts, body),
            },
        )
        row.attempts += 1
        try:
            with urllib.request.urlopen(req, timeout=WEBHOOK_TIMEOUT_S) as resp:  # noqa: S310 - admin-configured URL
                row.http_status = resp.status
            row.status, row.sent_at, row.error, row.next_attempt_at = PageAttempt.SENT, when, "", None
            result["webhooks_sent"] += 1
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            row.http_status = getattr(exc, "code", None)
            row.error = str(exc)[:500]
            if row.attempts >= WEBHOOK_MAX_ATTEMPTS:
                row.status, row.next_attempt_at = PageAttempt.FAILED, None
                result["webhooks_failed"] += 1
            else:
                row.next_attempt_at = when + retry_delay(row.attempts)
                result["webhooks_retried"] += 1
        row.save(update_fields=["attempts", "http_status", "status", "sent_at", "error", "next_attempt_at"])
    return result


def page_summary(page: Page) -> dict[str, Any]:
    return {
        "id": page.pk,
        "ticket_id": page.ticket_id,
        "status": page.status,
        "reason": page.reason,
        "level": page.level,
        "round": page.round,
        "created_at": page.created_at,
        "acked_at": page.acked_at,
        "resolved_at": page.resolved_at,
        "next_at": page.next_at,
    }
