"""/api/v1/tickets: create, list, detail, update, messages, attachments, history."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import NinjaJSONEncoder

from relaydesk.core import lookups, prepared
from relaydesk.core.models import Region, Team, User
from relaydesk.domain import clock as clk
from relaydesk.sla import engine
from relaydesk.tickets import services
from relaydesk.tickets.models import Attachment, AuditEntry, Message, Ticket

from . import schemas as s
from .auth import (
    current_user,
    get_visible_ticket,
    require_scope,
    require_staff,
    visibility,
    visible_filter,
    visible_tickets,
)

router = Router(tags=["tickets"])

MAX_LIMIT = 200
COUNT_LIMIT = 1_000


# -- serialisation ---------------------------------------------------------------


def _user_ref(u: User | None) -> dict[str, Any] | None:
    if u is None:
        return None
    return {"id": u.pk, "email": u.email, "name": u.get_full_name() or u.email}


def _clock_out(c: clk.Clock, cal: Any, now_us: int) -> dict[str, Any]:
    remaining = c.remaining_at(cal, now_us) if c.state in (clk.RUNNING, clk.PAUSED) else None
    return {
        "state": c.state,
        "target_minutes": None if c.target_us is None else c.target_us / 60_000_000,
        "due_at": engine._us_dt(c.due_us),
        "warned": c.warned,
        "breached": c.breached,
        "met_at": engine._us_dt(c.met_at_us),
        "cycle": c.cycle,
        "spent_business_seconds": c.spent_at(cal, now_us) // 1_000_000,
        "remaining_business_seconds": None if remaining is None else remaining // 1_000_000,
    }


def _tag_links(*pks: int) -> QuerySet[Any]:
    return Ticket.tags.through.objects.filter(ticket_id__in=list(pks)).values_list("ticket_id", "tag__name")


def _tag_names(t: Ticket) -> list[str]:
    """The ticket's tag names, sorted (the list's tag query, for one ticket)."""
    prefetched = getattr(t, "_prefetched_objects_cache", {}).get("tags")
    if prefetched is not None:
        return sorted(tag.name for tag in prefetched)
    return sorted(name for _tid, name in prepared.fetch("tickets_tags", _tag_links, [t.pk]))


def ticket_out(t: Ticket, *, detail: bool = False, tags: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": t.pk,
        "number": t.number,
        "subject": t.subject,
        "status": t.status,
        "priority": t.priority,
        "category": t.category,
        "channel": t.channel,
        "organisation": {"id": t.organisation_id, "name": t.organisation.name},
        "requester": _user_ref(t.requester),
        "assignee": _user_ref(t.assignee),
        "team": {"id": t.team.pk, "name": t.team.name} if t.team else None,
        "tags": tags if tags is not None else _tag_names(t),
        "context": {
            "app_id": t.app_id,
            "channel_name": t.channel_name,
            "sdk": t.sdk,
            "sdk_version": t.sdk_version,
            "platform": t.platform,
            "region": t.region.code if t.region_id and t.region else None,
            "affected_user_ids": t.affected_user_ids,
            "problem_start": t.problem_start,
            "problem_end": t.problem_end,
        },
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "solved_at": t.solved_at,
        "closed_at": t.closed_at,
        "reopen_count": t.reopen_count,
        "first_response_due_at": t.frt_due_at,
        "next_response_due_at": t.nrt_due_at,
        "resolution_due_at": t.ttr_due_at,
        "sla_state": t.sla_state,
        "sla_due_at": t.sla_due_at,
    }
    if detail:
        cal = engine.ticket_calendar(t)
        now = engine.now_us()
        clocks = engine.clocks_from_ticket(t)
        data["description"] = t.description
        data["sla"] = {
            "state": t.sla_state,
            "due_at": t.sla_due_at,
            "policy": t.sla_policy.name if t.sla_policy_id and t.sla_policy else None,
            "rule": str(t.sla_rule) if t.sla_rule_id and t.sla_rule else None,
            "rule_id": t.sla_rule_id,
            "calendar": t.sla_calendar.name if t.sla_calendar_id and t.sla_calendar else "24×7",
            **{m: _clock_out(c, cal, now) for m, c in clocks.items()},
        }
    return data


# -- create -------------------------------------------------------------------------


def _region(code: str | None) -> Region | None:
    if code is None:
        return None
    region = lookups.region_by_code(code)
    if region is None:
        codes = ", ".join(Region.objects.values_list("code", flat=True))
        raise HttpError(422, f"context.region: unknown region {code!r}; known: {codes}")
    return region


def _context(ctx: s.ContextIn | None, fields: set[str] | None = None) -> dict[str, Any]:
    if ctx is None:
        return {}
    data = ctx.model_dump(exclude_unset=fields is None)
    if "region" in data:
        data["region"] = _region(data["region"])
    return data


def _staff_user(user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    found = User.objects.filter(pk=user_id, kind=User.KIND_STAFF, is_active=True).first()
    if found is None:
        raise HttpError(422, f"{field}: no active staff user with id {user_id}")
    return found


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise HttpError(422, f"team_id: no team with id {team_id}")
    return team


def _raise(exc: services.TicketError) -> None:
    prefix = f"{exc.field}: " if exc.field else ""
    raise HttpError(exc.status, prefix + exc.message)


@router.post("", response={201: s.TicketDetailOut}, summary="Create a ticket")
def create_ticket(request: HttpRequest, payload: s.TicketIn) -> Status[dict[str, Any]]:
    require_scope(request, "tickets:write")
    user = current_user(request)
    if user.is_customer:
        if payload.requester_id or payload.requester_email or payload.assignee_id or payload.team_id:
            raise HttpError(403, "customers file tickets for themselves; remove requester/assignee/team")
        requester = user
        channel = payload.channel or "api"
        if channel not in ("api", "portal", "email"):
            raise HttpError(422, f"channel: customers may use api, portal or email, not {channel!r}")
    else:
        require_staff(user)
        requester = _requester(user, payload)
        channel = payload.channel or "phone"
    try:
        ticket = services.create_ticket(
            actor=user,
            requester=requester,
            subject=payload.subject,
            description=payload.description,
            priority=payload.priority,
            category=payload.category,
            channel=channel,
            tags=payload.tags,
            context=_context(payload.context),
            assignee=_staff_user(payload.assignee_id, "assignee_id"),
            team=_team(payload.team_id),
        )
    except services.TicketError as exc:
        _raise(exc)
    # The service returns the ticket with every relation the answer shows already loaded.
    return Status(201, ticket_out(ticket, detail=True, tags=sorted(set(payload.tags or []))))


def _requester(staff: User, payload: s.TicketIn) -> User:
    qs = User.objects.filter(kind=User.KIND_CUSTOMER, is_active=True)
    if payload.requester_id is not None:
        found = qs.filter(pk=payload.requester_id).first()
    elif payload.requester_email:
        found = qs.filter(email__iexact=payload.requester_email).first()
    else:
        raise HttpError(422, "requester_id: staff must name the customer (requester_id or requester_email)")
    if found is None:
        raise HttpError(422, "requester_id: no active customer user matches")
    from .auth import visible_organisations

    if not visible_organisations(staff).filter(pk=found.organisation_id).exists():
        raise HttpError(403, "requester belongs to an organisation you do not serve")
    return found


def _reload(user: User, ticket_id: int) -> Ticket:
    return get_visible_ticket(user, ticket_id)


# -- list ---------------------------------------------------------------------------


class TicketFilters(Schema):
    status: list[s.Status] | None = None
    priority: list[s.Priority] | None = None
    organisation: int | None = None
    assignee: str | None = None
    team: int | None = None
    sla_state: list[str] | None = None
    updated_since: datetime | None = None
    q: str | None = None
    limit: int = 50
    cursor: str | None = None
    exact_count: bool = Field(False, description="count every match (slower on large queues)")


SLA_STATE_VALUES = {"none", "ok", "warning", "breached", "paused"}
# What a list item shows (see ticket_out without detail), read as plain rows: a page reads
# these columns only (not the description, the clock internals or people's profiles) and
# builds no model instances.
LIST_COLUMNS = (
    "id", "number", "subject", "status", "priority", "category", "channel",
    "organisation_id", "organisation__name",
    "requester_id", "requester__email", "requester__first_name", "requester__last_name",
    "assignee_id", "assignee__email", "assignee__first_name", "assignee__last_name",
    "team_id", "team__name",
    "app_id", "channel_name", "sdk", "sdk_version", "platform", "region__code", "affected_user_ids",
    "problem_start", "problem_end", "created_at", "updated_at", "solved_at", "closed_at",
    "reopen_count", "frt_due_at", "nrt_due_at", "ttr_due_at", "sla_state", "sla_due_at", "sla_sort_at",
)


def _person(pk: int | None, email: str, first: str, last: str) -> dict[str, Any] | None:
    if pk is None:
        return None
    return {"id": pk, "email": email, "name": f"{first} {last}".strip() or email}


def _list_item(r: Sequence[Any], tags: list[str]) -> dict[str, Any]:
    """A list item from a LIST_COLUMNS row: the same fields as ``ticket_out`` (a test checks)."""
    return {
        "id": r[0], "number": r[1], "subject": r[2], "status": r[3], "priority": r[4],
        "category": r[5], "channel": r[6],
        "organisation": {"id": r[7], "name": r[8]},
        "requester": _person(*r[9:13]),
        "assignee": _person(*r[13:17]),
        "team": {"id": r[17], "name": r[18]} if r[17] is not None else None,
        "tags": tags,
        "context": {
            "app_id": r[19], "channel_name": r[20], "sdk": r[21], "sdk_version": r[22],
            "platform": r[23], "region": r[24], "affected_user_ids": r[25],
            "problem_start": r[26], "problem_end": r[27],
        },
        "created_at": r[28], "updated_at": r[29], "solved_at": r[30], "closed_at": r[31],
        "reopen_count": r[32],
        "first_response_due_at": r[33], "next_response_due_at": r[34], "resolution_due_at": r[35],
        "sla_state": r[36], "sla_due_at": r[37],
    }



def _filtered(qs: QuerySet[Ticket], spec: Sequence[tuple[str, int]], values: Sequence[Any]) -> QuerySet[Ticket]:
    """Apply the list filters ``spec`` (name, number of values) with ``values`` in order."""
    at = 0
    for name, n in spec:
        vals = values[at : at + n]
        at += n
        if name == "unassigned":
            qs = qs.filter(assignee__isnull=True)
        elif name == "updated_since":
            qs = qs.filter(updated_at__gte=vals[0])
        elif name == "q":
            cond = Q(subject__icontains=vals[0])
            if n == 2:
                cond |= Q(number=vals[1])
            qs = qs.filter(cond)
        elif name in ("status", "priority", "sla_state"):
            qs = qs.filter(**{f"{name}__in": list(vals)})
        else:  # organisation, assignee, team
            qs = qs.filter(**{f"{name}_id": vals[0]})
    return qs


def _encode_cursor(sla_sort_at: datetime, pk: int) -> str:
    raw = f"{sla_sort_at.astimezone(UTC).isoformat()}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = raw.split("|")
        parsed = datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError
        return parsed, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise HttpError(400, "cursor: not a cursor this API returned; start without it") from exc


@router.get("", response=s.TicketListOut, summary="List tickets, next due first")
def list_tickets(request: HttpRequest, filters: Query[TicketFilters]) -> HttpResponse:
    require_scope(request, "tickets:read")
    user = current_user(request)
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise HttpError(422, f"limit: must be between 1 and {MAX_LIMIT}")
    vis = visibility(user) or ("none", [])
    # The filters as a shape (which apply, how many values each) and the values they bind:
    # each query below is compiled once per shape and process (relaydesk.core.prepared).
    spec: list[tuple[str, int]] = []
    values: list[Any] = list(vis[1])

    def want(name: str, vals: list[Any]) -> None:
        spec.append((name, len(vals)))
        values.extend(vals)

    if filters.status:
        want("status", list(filters.status))
    if filters.priority:
        want("priority", list(filters.priority))
    if filters.organisation is not None:
        want("organisation", [filters.organisation])
    if filters.assignee is not None:
        if filters.assignee == "me":
            want("assignee", [user.pk])
        elif filters.assignee == "none":
            want("unassigned", [])
        elif filters.assignee.isdigit():
            want("assignee", [int(filters.assignee)])
        else:
            raise HttpError(422, "assignee: give a user id, 'me' or 'none'")
    if filters.team is not None:
        want("team", [filters.team])
    if filters.sla_state:
        bad = set(filters.sla_state) - SLA_STATE_VALUES
        if bad:
            raise HttpError(422, f"sla_state: unknown {sorted(bad)}; use {sorted(SLA_STATE_VALUES)}")
        want("sla_state", list(filters.sla_state))
    if filters.updated_since is not None:
        if filters.updated_since.tzinfo is None:
            raise HttpError(422, "updated_since: give a time zone offset, e.g. 2026-11-25T00:00:00Z")
        want("updated_since", [filters.updated_since])
    if filters.q:
        if len(filters.q) > 200:
            raise HttpError(422, "q: at most 200 characters")
        term = filters.q.strip().lstrip("#")
        want("q", [term, int(term)] if term.isdigit() else [term])
    shape = (vis[0], tuple(spec))
    n_filter = len(values)
    # Counting is bounded: beyond COUNT_LIMIT matches the answer says so instead of counting
    # a whole large table on every page (see docs/decisions/0005-ticket-list-count.md).
    limit = None if filters.exact_count else COUNT_LIMIT

    def matching(vals: Sequence[Any]) -> QuerySet[Ticket]:
        return _filtered(visible_filter(Ticket.objects.all(), vis[0], vals[: len(vis[1])]), spec, vals[len(vis[1]) :])

    def to_count(*vals: Any) -> QuerySet[Ticket]:
        qs = matching(vals).order_by().values_list("id")
        return qs if limit is None else qs[: limit + 1]

    count = prepared.count(("tickets_count", shape, limit), to_count, values)
    if filters.cursor:
        values.extend(_decode_cursor(filters.cursor))
    after = len(values) > n_filter

    def page_ids(*vals: Any) -> QuerySet[Ticket]:
        page = matching(vals[:n_filter])
        if after:
            when, pk = vals[n_filter:]
            # (sla_sort_at, id) after the cursor's, written so the planner seeks the urgency
            # index at sla_sort_at >= when (a plain OR made SQLite walk every ticket sharing
            # that time, e.g. all without a due time: 40 ms instead of 4 at 100k).
            page = page.filter(Q(sla_sort_at__gte=when), Q(sla_sort_at__gt=when) | Q(pk__gt=pk))
        # The page's ids from the queue indexes alone (no joins, no wide rows) ...
        return page.order_by("sla_sort_at", "id").values_list("id", flat=True)[: filters.limit + 1]

    ids: list[int] = prepared.fetch(("tickets_page", shape, after, filters.limit), page_ids, values)

    def page_rows(*pks: int) -> QuerySet[Any]:
        # ... then those rows with what a list item shows.
        return Ticket.objects.filter(pk__in=list(pks)).order_by().values_list(*LIST_COLUMNS)

    by_id = {r[0]: r for r in prepared.fetch("tickets_rows", page_rows, ids)} if ids else {}
    rows = [by_id[i] for i in ids if i in by_id]
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    tags: dict[int, list[str]] = {r[0]: [] for r in rows}
    if rows:
        for tid, name in prepared.fetch("tickets_tags", _tag_links, list(tags)):
            tags[tid].append(name)
    data = {
        "count": count if limit is None else min(count, limit),
        "count_exact": limit is None or count <= limit,
        "count_limit": limit,
        "items": [_list_item(r, sorted(tags[r[0]])) for r in rows],
        "next": _encode_cursor(rows[-1][-1], rows[-1][0]) if more and rows else None,
    }
    # The page is built here from known columns and types (tests check it against
    # TicketListOut); re-validating 25-200 items per request would cost more than the query.
    return HttpResponse(json.dumps(data, cls=NinjaJSONEncoder), content_type="application/json")


# -- detail / update --------------------------------------------------------------


@router.get("/{int:ticket_id}", response=s.TicketDetailOut, summary="One ticket with its SLA clocks")
def get_ticket(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    require_scope(request, "tickets:read")
    return ticket_out(get_visible_ticket(current_user(request), ticket_id), detail=True)


CUSTOMER_STATUSES = {"solved", "open"}


@router.patch("/{int:ticket_id}", response=s.TicketDetailOut, summary="Change status, priority, assignee, tags…")
def update_ticket(request: HttpRequest, ticket_id: int, payload: s.TicketPatch) -> dict[str, Any]:
    require_scope(request, "tickets:write")
    user = current_user(request)
    ticket = get_visible_ticket(user, ticket_id)
    sent = payload.model_dump(exclude_unset=True)
    if not sent:
        raise HttpError(422, "nothing to change: send at least one field")
    changes: dict[str, Any] = {}
    if user.is_customer:
        allowed = {"status", "context", "subject"}
        extra = set(sent) - allowed
        if extra:
            raise HttpError(403, f"customers may not change {', '.join(sorted(extra))}")
        if "status" in sent and sent["status"] not in CUSTOMER_STATUSES:
            raise HttpError(403, "customers may only mark a ticket solved or reopen it")
    for name in ("status", "priority", "category", "subject", "tags"):
        if name in sent:
            if sent[name] is None:
                raise HttpError(422, f"{name}: must not be null")
            changes[name] = sent[name]
    if "assignee_id" in sent:
        changes["assignee"] = _staff_user(sent["assignee_id"], "assignee_id")
    if "team_id" in sent:
        changes["team"] = _team(sent["team_id"])
    if payload.context is not None:
        changes.update(_context(payload.context, fields=None))
    try:
        services.update_ticket(ticket, actor=user, changes=changes, via=_via(request))
    except services.TicketError as exc:
        _raise(exc)
    return ticket_out(_reload(user, ticket_id), detail=True)


def _via(request: HttpRequest) -> str:
    return "api" if request.headers.get("Authorization", "").startswith("Bearer ") else "web"


# -- messages -------------------------------------------------------------------------


def _attachment_out(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "message_id": a.message_id,
        "created_at": a.created_at,
        "url": f"/api/v1/attachments/{a.pk}",
    }


def _message_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.pk,
        "author": _user_ref(m.author),
        "author_kind": m.author_kind,
        "public": m.is_public,
        "is_auto": m.is_auto,
        "body": m.body,
        "channel": m.channel,
        "created_at": m.created_at,
        "attachments": [_attachment_out(a) for a in m.attachments.all()],
    }


@router.get("/{int:ticket_id}/messages", response=list[s.MessageOut], summary="Conversation")
def list_messages(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    require_scope(request, "tickets:read")
    user = current_user(request)
    ticket = get_visible_ticket(user, ticket_id)
    qs = ticket.messages.select_related("author").prefetch_related("attachments")
    if user.is_customer:
        qs = qs.filter(is_public=True)
    return [_message_out(m) for m in qs.order_by("created_at", "id")]


@router.post("/{int:ticket_id}/messages", response={201: s.MessageOut}, summary="Public reply or internal note")
def add_message(request: HttpRequest, ticket_id: int, payload: s.MessageIn) -> Status[dict[str, Any]]:
    require_scope(request, "tickets:write")
    user = current_user(request)
    ticket = get_visible_ticket(user, ticket_id)
    if user.is_customer and not payload.public:
        raise HttpError(403, "public: customers cannot write internal notes")
    if user.is_customer and payload.status not in (None, "solved"):
        raise HttpError(403, "status: customers may only mark a ticket solved")
    try:
        msg = services.add_message(
            ticket,
            author=user,
            body=payload.body,
            is_public=payload.public,
            channel=_via(request) if not user.is_customer else "portal",
            status=payload.status,
        )
    except services.TicketError as exc:
        _raise(exc)
    return Status(201, _message_out(msg))


# -- attachments -----------------------------------------------------------------------


@router.post(
    "/{int:ticket_id}/attachments",
    response={201: list[s.AttachmentOut]},
    summary="Upload files (multipart), optionally with a message",
)
def upload(
    request: HttpRequest,
    ticket_id: int,
    files: File[list[UploadedFile]],
    body: Form[str] = "",
    public: Form[bool] = True,
) -> Status[list[dict[str, Any]]]:
    require_scope(request, "tickets:write")
    user = current_user(request)
    ticket = get_visible_ticket(user, ticket_id)
    if not files:
        raise HttpError(422, "files: attach at least one file")
    if len(files) > 10:
        raise HttpError(422, "files: at most 10 files per upload")
    uploads = []
    for f in files:
        if f.size is not None and f.size > services.settings.RELAYDESK_MAX_ATTACHMENT_BYTES:
            raise HttpError(
                413,
                f"files: {f.name!r} is {f.size} bytes; the limit is "
                f"{services.settings.RELAYDESK_MAX_ATTACHMENT_BYTES}",
            )
        uploads.append(
            services.Upload(filename=f.name or "attachment", content_type=f.content_type or "", data=f.read())
        )
    text = body.strip() or "Attached: " + ", ".join(u.filename for u in uploads)
    if user.is_customer and not public:
        raise HttpError(403, "public: customers cannot write internal notes")
    try:
        msg = services.add_message(
            ticket, author=user, body=text, is_public=public, attachments=uploads,
            channel="portal" if user.is_customer else _via(request),
        )
    except services.TicketError as exc:
        _raise(exc)
    return Status(201, [_attachment_out(a) for a in msg.attachments.all()])


@router.get("/{int:ticket_id}/attachments", response=list[s.AttachmentOut], summary="Files on a ticket")
def list_attachments(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    require_scope(request, "tickets:read")
    user = current_user(request)
    ticket = get_visible_ticket(user, ticket_id)
    qs = ticket.attachments.select_related("message")
    if user.is_customer:
        qs = qs.filter(Q(message__isnull=True) | Q(message__is_public=True))
    return [_attachment_out(a) for a in qs]


attachments_router = Router(tags=["tickets"])


@attachments_router.get("/{int:attachment_id}", summary="Download a file")
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    require_scope(request, "tickets:read")
    user = current_user(request)
    att = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if att is None or not visible_tickets(user).filter(pk=att.ticket_id).exists():
        raise HttpError(404, f"attachment {attachment_id} not found")
    if user.is_customer and att.message is not None and not att.message.is_public:
        raise HttpError(404, f"attachment {attachment_id} not found")
    resp = FileResponse(att.file.open("rb"), as_attachment=True, filename=att.filename)
    resp["Content-Type"] = att.content_type
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


# -- history ---------------------------------------------------------------------------

CUSTOMER_HISTORY_FIELDS = {"created", "status", "priority", "subject", "category"}


@router.get("/{int:ticket_id}/history", response=list[s.HistoryOut], summary="Audit trail and clock events")
def history(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    require_scope(request, "tickets:read")
    user = current_user(request)
    ticket = get_visible_ticket(user, ticket_id)
    rows: list[dict[str, Any]] = []
    audit = AuditEntry.objects.filter(ticket=ticket).select_related("actor")
    if user.is_customer:
        audit = audit.filter(field__in=CUSTOMER_HISTORY_FIELDS)
    for a in audit:
        rows.append(
            {
                "at": a.at,
                "kind": "change",
                "field": a.field,
                "old": a.old,
                "new": a.new,
                "actor": (str(a.actor) if a.actor else a.actor_kind),
                "via": a.via,
            }
        )
    for ev in ticket.clock_events.all():
        rows.append(
            {
                "at": ev.at,
                "kind": "clock",
                "field": ev.metric,
                "old": "",
                "new": ev.kind + (f" (due {ev.due_at:%Y-%m-%d %H:%M} UTC)" if ev.due_at else ""),
                "actor": "sla",
                "via": "",
            }
        )
    rows.sort(key=lambda r: r["at"])
    return rows
