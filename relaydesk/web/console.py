"""The agent console: the queue by SLA urgency and the ticket view."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relaydesk.api.auth import (
    TICKET_RELATED,
    find_visible_ticket,
    visible_organisations,
    visible_tickets,
)
from relaydesk.core.models import LANGUAGES, Region, User
from relaydesk.sla.models import PRIORITIES
from relaydesk.tickets import services
from relaydesk.tickets.models import AuditEntry, Ticket

from . import forms as f
from . import queue as q
from .clocks import clock_views, queue_clock
from .common import page, query_string, zone
from .customer import context as customer_context
from .portal import upload_error, uploads
from .telemetry import links_for as telemetry_links

STAFF = User.KIND_STAFF


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _rows(user: User, filters: q.QueueFilters) -> dict[str, Any]:
    rows, count, exact = q.page(user, filters)
    now = timezone.now()
    names = {k: str(v) for k, v in f.status_names().items()}
    cals = q.calendars(rows)
    base = reverse("web:console-ticket", args=[0])[: -len("0/")]
    items = []
    for r in rows:
        person = " ".join(p for p in (r["assignee__first_name"], r["assignee__last_name"]) if p)
        items.append({
            **r,
            "clock": queue_clock(r, cals.get(r["sla_calendar_id"], cals[None]), now),
            "status_name": names.get(r["status"], r["status"]),
            "assignee": person or r["assignee__email"] or "",
            "ago": timesince(r["updated_at"], now),
            "href": f"{base}{r['id']}/",
        })
    return {"rows": items, "count": count, "count_exact": exact}


@page(STAFF)
def queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = q.QueueFilters.from_query(request.GET)
    ctx = _rows(user, filters)
    ctx.update(
        {
            "filters": filters,
            "views": [("all", _("All I can see")), ("mine", _("Mine")), ("team", _("My team")), ("unassigned", _("Unassigned"))],
            "priorities": [c for c, _n in PRIORITIES],
            "regions": Region.objects.order_by("name"),
            "languages": LANGUAGES,
            "statuses": f.status_choices(),
            "query": query_string(filters.params()),
        }
    )
    return render(request, "web/console/queue.html", ctx, status=400 if filters.errors else 200)


@page(STAFF)
def queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's rows alone, for the live refresh."""
    filters = q.QueueFilters.from_query(request.GET)
    return render(request, "web/console/_rows.html", _rows(_user(request), filters))


def _ticket(user: User, ticket_id: int) -> Ticket:
    ticket = find_visible_ticket(user, ticket_id, (*TICKET_RELATED, "organisation__account_manager"))
    if ticket is None:
        raise Http404(_("Ticket not found."))
    return ticket


def _org_tickets(user: User, org_id: int) -> QuerySet[Ticket]:
    """The organisation's tickets this user may see. When the user serves the organisation
    (the same rule as ``visible_tickets``) that is all of them, a plain indexed filter;
    otherwise only those ``visible_tickets`` lets through (assigned to them or their team)."""
    if visible_organisations(user).filter(pk=org_id).exists():
        return Ticket.objects.filter(organisation_id=org_id)
    return visible_tickets(user).filter(organisation_id=org_id)


def _history(ticket: Ticket) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"at": a.at, "kind": "change", "field": a.field, "old": a.old, "new": a.new,
         "actor": str(a.actor) if a.actor else a.actor_kind, "via": a.via}
        for a in AuditEntry.objects.filter(ticket=ticket).select_related("actor")
    ]
    rows += [
        {"at": ev.at, "kind": "clock", "field": ev.metric.replace("_", " "), "old": "", "new": ev.kind,
         "actor": "SLA", "via": ""}
        for ev in ticket.clock_events.all()
    ]
    rows.sort(key=lambda r: r["at"])
    return rows


def _pages(ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's on-call pages (routing), newest first, in the viewer's words."""
    try:
        from relaydesk.routing.models import Page
    except ImportError:  # pragma: no cover - routing is another capability
        return []
    words = {
        Page.OPEN: _("waiting for acknowledgement"), Page.ACKED: _("acknowledged"),
        Page.RESOLVED: _("resolved"), Page.EXHAUSTED: _("nobody acknowledged"),
    }
    return [
        {"id": p.pk, "status": p.status, "status_name": words.get(p.status, p.status), "reason": p.reason,
         "created_at": p.created_at, "acked_by": p.acked_by}
        for p in Page.objects.filter(ticket=ticket).select_related("acked_by").order_by("-created_at", "-id")[:5]
    ]


def _ticket_page(request: HttpRequest, ticket: Ticket, *, reply: f.AgentReplyForm | None = None,
                 update: f.TicketUpdateForm | None = None, escalate: f.EscalateForm | None = None,
                 status: int = 200) -> HttpResponse:
    user = _user(request)
    org = ticket.organisation
    mine = _org_tickets(user, org.pk)
    recent = (
        mine.exclude(pk=ticket.pk)
        .only("id", "number", "subject", "status", "priority", "created_at").order_by("-id")[:6]
    )
    conversation = ticket.messages.select_related("author").prefetch_related("attachments").order_by("created_at", "id")
    update = update or f.TicketUpdateForm(initial={
        "status": ticket.status, "priority": ticket.priority,
        "assignee": str(ticket.assignee_id or ""), "team": str(ticket.team_id or ""),
    })
    return render(
        request,
        "web/console/ticket.html",
        {
            "ticket": ticket,
            "org": org,
            "clocks": clock_views(ticket),
            "conversation": conversation,
            "recent": recent,
            "open_count": mine.filter(status__in=q.ACTIVE).count(),
            "reply": reply or f.AgentReplyForm(),
            "update": update,
            "escalate": escalate or f.EscalateForm(current=ticket.priority),
            "pages": _pages(ticket),
            "history": _history(ticket),
            "names": f.status_names(),
            "category_name": f.category_names().get(ticket.category, ticket.category),
            "channel_name": f.channel_names().get(ticket.channel, ticket.channel),
            "org_now": timezone.now().astimezone(zone(org.timezone)),
            "telemetry": telemetry_links(ticket),
            **customer_context(org),
        },
        status=status,
    )


@page(STAFF)
def ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _ticket_page(request, _ticket(_user(request), ticket_id))


@page(STAFF)
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = _user(request)
    t = _ticket(user, ticket_id)
    form = f.AgentReplyForm(request.POST)
    if form.is_valid():
        public = form.cleaned_data["kind"] == "public"
        try:
            services.add_message(
                t, author=user, body=form.cleaned_data["body"], is_public=public, channel="portal",
                status=form.cleaned_data["status"] or None, attachments=uploads(request),
            )
        except services.TicketError as exc:
            form.add_error("body" if exc.field == "body" else ("status" if exc.field == "status" else None),
                           upload_error(exc) if exc.field == "attachments" else exc.message)
        else:
            messages.success(request, _("Reply sent to the customer.") if public else _("Internal note added."))
            return redirect("web:console-ticket", ticket_id=t.pk)
    return _ticket_page(request, t, reply=form, status=400)


@page(STAFF)
@require_POST
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = _user(request)
    t = _ticket(user, ticket_id)
    form = f.TicketUpdateForm(request.POST)
    if form.is_valid():
        wanted = form.changes()
        changes = {k: v for k, v in wanted.items() if v != getattr(t, k)}
        if not changes:
            messages.info(request, _("Nothing changed."))
            return redirect("web:console-ticket", ticket_id=t.pk)
        try:
            services.update_ticket(t, actor=user, changes=changes, via="web")
        except services.TicketError as exc:
            if exc.field == "status":
                form.add_error("status", _("This ticket cannot move from '%(old)s' to '%(new)s'.") % {
                    "old": f.status_names().get(t.status, t.status),
                    "new": f.status_names().get(wanted["status"], wanted["status"]),
                })
            else:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Ticket updated."))
            return redirect("web:console-ticket", ticket_id=t.pk)
    return _ticket_page(request, t, update=form, status=400)


@page(STAFF)
@require_POST
def ticket_escalate(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Escalate: raise the priority, move to a team, hand to its lead and/or page the on-call
    (routing's escalation chains). One "escalated" history entry says why and what was done,
    next to the field changes it caused."""
    from relaydesk.routing import paging
    from relaydesk.tickets.services import TicketError

    user = _user(request)
    t = _ticket(user, ticket_id)
    form = f.EscalateForm(request.POST, current=t.priority)
    if t.status == "closed":
        form.add_error(None, _("A closed ticket cannot be escalated."))
    if not form.is_valid():
        return _ticket_page(request, t, escalate=form, status=400)
    d = form.cleaned_data
    changes: dict[str, Any] = {}
    done: list[str] = []
    if d["priority"] and d["priority"] != t.priority:
        changes["priority"] = d["priority"]
        done.append(f"priority {t.priority} -> {d['priority']}")
    team = form.target_team()
    if team is not None and team.pk != t.team_id:
        changes["team"] = team
        done.append(f"team -> {team.name}")
    if d["to_lead"]:
        lead_team = team or t.team
        lead = lead_team.lead if lead_team is not None else None
        if lead is None:
            form.add_error("to_lead", _("This team has no lead to hand the ticket to."))
            return _ticket_page(request, t, escalate=form, status=400)
        if lead.pk != t.assignee_id:
            changes["assignee"] = lead
            done.append(f"assigned to lead {lead.email}")
    note = ""
    with transaction.atomic():
        if changes:
            try:
                t = services.update_ticket(t, actor=user, changes=changes, via="escalation")
            except TicketError as exc:
                form.add_error(None, exc.message)
                return _ticket_page(request, t, escalate=form, status=400)
        if d["page"]:
            started = paging.start_page(t, reason=f"escalated by {user.email}: {d['reason']}", team=t.team)
            if started is None:
                note = _("A page for this ticket is already open; nobody was paged again.")
                done.append("page already open")
            elif started.status == started.EXHAUSTED:
                note = _("No escalation chain covers this ticket's priority and team, so nobody was paged.")
                done.append(f"page #{started.pk}: no escalation chain")
            else:
                people = list(started.notifications.values_list("user__email", flat=True))
                done.append(f"paged #{started.pk}: {', '.join(people) or 'nobody on call yet'}")
        AuditEntry.objects.create(
            ticket=t, field="escalated", old="", new=f"{d['reason']} ({'; '.join(done) or 'no change'})"[:2000],
            actor=user, actor_kind="agent", via="web",
        )
    if note:
        messages.warning(request, note)
    messages.success(request, _("Ticket escalated."))
    return redirect("web:console-ticket", ticket_id=t.pk)
