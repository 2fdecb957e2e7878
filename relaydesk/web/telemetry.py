"""Region telemetry for a problem window, for staff: the self-diagnosis of
``relaydesk.kb.diagnosis`` (network quality per carrier against the usual level, overlapping
incidents, the organisation's own footprint, a verdict) for one organisation the agent serves,
a region, a service and a window of at most 24 h. The console's ticket view links here from
the typed real-time context (region + problem window); the same answer as JSON is
``GET /api/v1/diagnosis`` with the same parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from relaydesk.core.models import User
from relaydesk.kb import diagnosis
from relaydesk.kb.diagnosis_views import form_context
from relaydesk.tickets.models import Ticket

from .common import page, query_string

STAFF = User.KIND_STAFF
FIELDS = ("organisation", "region", "service", "start", "end", "app_id", "channel")
DEFAULT_WINDOW = timedelta(hours=1)


def ticket_window(ticket: Ticket, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The window to look at for a ticket: its typed problem window; without one, the hour
    before the ticket was filed. Never longer than the diagnosis allows (24 h), never after now."""
    now = now or datetime.now(UTC)
    start = ticket.problem_start or (ticket.created_at - DEFAULT_WINDOW)
    end = ticket.problem_end or min(start + DEFAULT_WINDOW, now)
    end = min(end, start + diagnosis.MAX_WINDOW)
    if end <= start:
        end = start + timedelta(minutes=1)
    return start, end


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="minutes").replace("+00:00", "Z")


def params_for(ticket: Ticket, now: datetime | None = None) -> dict[str, Any] | None:
    """The telemetry query of a ticket's typed context (``None`` without a region)."""
    if ticket.region_id is None:
        return None
    start, end = ticket_window(ticket, now)
    return {
        "organisation": ticket.organisation_id,
        "region": ticket.region.code,
        "start": _iso(start),
        "end": _iso(end),
        "app_id": ticket.app_id or "",
        "ticket": ticket.pk,
    }


def links_for(ticket: Ticket) -> dict[str, str] | None:
    params = params_for(ticket)
    if params is None:
        return None
    api = {k: v for k, v in params.items() if k != "ticket"}
    return {
        "page": f"{reverse('web:console-telemetry')}?{query_string(params)}",
        "api": f"/api/v1/diagnosis?{query_string(api)}",
    }


@page(STAFF)
def telemetry(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    back = None
    ticket_id = request.GET.get("ticket", "")
    if ticket_id.isdigit():
        from relaydesk.api.auth import visible_tickets

        t = visible_tickets(user).filter(pk=int(ticket_id)).only("id", "number", "subject").first()
        if t is not None:
            back = {
                "href": reverse("web:console-ticket", args=[t.pk]),
                "number": t.number,
                "subject": t.subject,
            }
    ctx, status = form_context(request, FIELDS, FIELDS)
    ctx["back"] = back
    ctx["api"] = (
        f"/api/v1/diagnosis?{query_string(ctx['values'])}" if ctx["result"] is not None else None
    )
    return render(request, "web/console/telemetry.html", ctx, status=status)
