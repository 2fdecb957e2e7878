"""Off-hours audit: synthetic test tickets filed at chosen hours of the week through the real
customer path, so the human response at 3 a.m. is measured, not promised.

A probe is an ordinary ticket from a dedicated customer account that an operator enrolled as
a probe account (``ProbeAccount``: ``relaydesk audit enrol --email E``, or the worker for the
account named by ``RELAYDESK_AUDIT_PROBE_EMAIL``). What makes a ticket a probe is its
requester, never its tags: probes carry the ``audit-probe`` tag as a label for agents, but any
customer can tag a ticket, and a customer's tagged ticket stays a customer ticket. The reports
leave probes out of every customer metric and show them on their own with
``population=probes`` (e.g. ``/api/v1/reports/heatmap?population=probes``: first response per
hour of the week). Agents answer a probe like any ticket; its subject says it is a test.

Enrolling refuses an account that already filed tickets without the ``audit-probe`` tag (it
looks like a real customer's; ``force=True`` / ``--force`` overrides), and re-computes the
report facts of the account's tickets; so does withdrawing it.

- ``file_probe_http(base_url, token)`` posts it to ``/api/v1/tickets`` with the probe
  customer's API token — exactly what a customer's integration does (the token's user must
  be enrolled, or the ticket counts as a customer's).
- ``probe_sweep()`` (a worker sweep) files one at each scheduled hour from the account named by
  ``RELAYDESK_AUDIT_PROBE_EMAIL``, through the same ticket service the API uses. The schedule
  ``RELAYDESK_AUDIT_PROBE_SCHEDULE`` lists hours of the week in that account's time zone, e.g.
  ``"mon 03, wed 15, sat 22"``. Each slot is filed once, however many workers run.
"""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from .facts import PROBE_TAG

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleError(ValueError):
    pass


def parse_schedule(spec: str) -> set[tuple[int, int]]:
    """``"mon 03, sat 22"`` → {(0, 3), (5, 22)} (weekday, hour); a clear error otherwise."""
    slots: set[tuple[int, int]] = set()
    for raw in spec.split(","):
        part = raw.strip().lower()
        if not part:
            continue
        bits = part.split()
        if len(bits) != 2 or bits[0][:3] not in DAYS or not bits[1].isdigit() or not 0 <= int(bits[1]) <= 23:
            raise ScheduleError(f"schedule entry {raw.strip()!r}: write a weekday and an hour, e.g. 'mon 03'")
        slots.add((DAYS.index(bits[0][:3]), int(bits[1])))
    return slots


def subject(when: datetime) -> str:
    return f"[Audit probe] {when:%a %H:%M} — synthetic test ticket, please answer as usual"


BODY = (
    "This is an automatic off-hours audit ticket. Please answer it as you would a customer's "
    "ticket; the time to your first reply is measured per hour of the week and reported "
    "separately from customer metrics."
)


def file_probe_http(base_url: str, token: str, *, priority: str = "P2", timeout: float = 10) -> dict[str, Any]:
    """File a probe through the public API as the probe customer; returns the API's answer."""
    now = datetime.now(UTC)
    body = json.dumps(
        {"subject": subject(now), "description": BODY, "priority": priority, "category": "other", "tags": [PROBE_TAG]}
    ).encode()
    req = urllib.request.Request(  # noqa: S310 - the operator's own server URL
        base_url.rstrip("/") + "/api/v1/tickets",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        answer: dict[str, Any] = json.loads(resp.read())
        return answer


def probe_customer(email: str) -> Any:
    """The active customer account probes are filed from (``None`` if there is none)."""
    from relaydesk.core.models import User

    return User.objects.filter(email__iexact=email, kind=User.KIND_CUSTOMER, is_active=True).first()


def is_enrolled(user: Any) -> bool:
    from .models import ProbeAccount

    return ProbeAccount.objects.filter(user_id=user.pk).exists()


def enrol(user: Any, *, force: bool = False) -> bool:
    """Enrol a customer account as a probe account; ``True`` if it was not enrolled yet.
    Its tickets (past and future) become probes; their report facts are re-computed."""
    from django.db import transaction

    from relaydesk.core.models import User
    from relaydesk.tickets.models import Ticket

    from .facts import refresh_requester
    from .models import ProbeAccount

    if user.kind != User.KIND_CUSTOMER:
        raise ScheduleError(f"probe account {user.email!r}: only a customer account can file probes")
    if is_enrolled(user):
        return False
    if not force:
        real = Ticket.objects.filter(requester=user).exclude(tags__name=PROBE_TAG).count()
        if real:
            raise ScheduleError(
                f"probe account {user.email!r} already filed {real} ticket(s) without the {PROBE_TAG} tag; "
                "use a dedicated account (or --force to count them as probes)"
            )
    with transaction.atomic():
        created = ProbeAccount.objects.get_or_create(user=user)[1]
        refresh_requester(user.pk)
    return created


def withdraw(user: Any) -> bool:
    """Withdraw a probe account; its tickets count as customer tickets again."""
    from django.db import transaction

    from .facts import refresh_requester
    from .models import ProbeAccount

    with transaction.atomic():
        deleted, _detail = ProbeAccount.objects.filter(user_id=user.pk).delete()
        refresh_requester(user.pk)
    return bool(deleted)


def file_probe_local(email: str, *, priority: str = "P2", now: datetime | None = None) -> Any:
    """File a probe from the enrolled probe account ``email`` through the ticket service."""
    user = probe_customer(email)
    if user is None:
        raise ScheduleError(f"probe account {email!r}: no active customer user has this e-mail")
    if not is_enrolled(user):
        raise ScheduleError(f"probe account {email!r} is not enrolled: run 'relaydesk audit enrol --email {email}' first")
    return _file_probe(user, priority=priority, now=now)


def _file_probe(user: Any, *, priority: str = "P2", now: datetime | None = None) -> Any:
    from relaydesk.tickets.services import create_ticket

    when = now or datetime.now(UTC)
    return create_ticket(
        actor=user,
        requester=user,
        subject=subject(when.astimezone(ZoneInfo(user.timezone or "UTC"))),
        description=BODY,
        priority=priority,
        category="other",
        channel="portal",
        tags=[PROBE_TAG],
        now=when,
    )


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or os.environ.get(name, ""))


def probe_sweep(now: datetime | None = None) -> dict[str, Any]:
    """File the probe of the current scheduled hour, once (a worker sweep)."""
    from django.db import transaction

    from relaydesk.core.models import User
    from relaydesk.tickets.models import Ticket

    spec, email = _setting("RELAYDESK_AUDIT_PROBE_SCHEDULE"), _setting("RELAYDESK_AUDIT_PROBE_EMAIL")
    if not spec or not email:
        return {"probes": 0}
    slots = parse_schedule(spec)
    user = probe_customer(email)
    if user is None:
        return {"probes": 0, "error": f"no active customer {email}"}
    when = now or datetime.now(UTC)
    if not is_enrolled(user):
        # The configured account is the operator's choice: enrol it (refused, and reported,
        # if it looks like a real customer's account).
        try:
            enrol(user)
        except ScheduleError as exc:
            return {"probes": 0, "error": str(exc)}
    local = when.astimezone(ZoneInfo(user.timezone or "UTC"))
    if (local.weekday(), local.hour) not in slots:
        return {"probes": 0}
    hour_start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    with transaction.atomic():
        # One per slot: lock the account's row so two workers cannot both file it.
        User.objects.select_for_update().filter(pk=user.pk).first()
        done = Ticket.objects.filter(
            requester=user, created_at__gte=hour_start, created_at__lt=hour_start + timedelta(hours=1)
        ).exists()
        if done:
            return {"probes": 0}
        _file_probe(user, now=when)
    return {"probes": 1}
