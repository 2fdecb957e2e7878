"""API authentication (bearer tokens and Django sessions with CSRF) and who may see what."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from relaydesk.core import prepared
from relaydesk.core.models import APIToken, Organisation, User
from relaydesk.tickets.models import Ticket

SESSION_SCOPES = ["tickets:read", "tickets:write", "admin", "telemetry:write", "incidents:write"]


# Each request checks its token afresh with one small query (revocation, expiry, the user's
# activity, kind, organisation and team take effect at once). The user's object graph
# (organisation, plan, home region, calendar, team, role groups) is reused for a few seconds
# per process when none of those fresh columns changed — the same staleness the SLA rule
# cache already accepts (ADR 0012).
USER_GRAPH_TTL_S = 5.0
_LAST_USED_EVERY = timedelta(minutes=5)
_graph_lock = threading.Lock()
_graphs: dict[str, tuple[float, tuple[Any, ...], User, list[str]]] = {}
_last_used: dict[int, datetime] = {}

_CHECK_SQL = (
    "SELECT t.id, t.scopes, u.id, u.is_active, u.kind, u.organisation_id, u.team_id, "
    "u.is_superuser FROM core_apitoken t JOIN core_user u ON u.id = t.user_id "
    "WHERE t.digest = %s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s)"
)


def forget_token_cache() -> None:
    with _graph_lock:
        _graphs.clear()


def _token_graph(token_id: int) -> QuerySet[APIToken]:
    return APIToken.objects.select_related(
        "user__organisation__plan", "user__organisation__home_region__calendar", "user__team"
    ).filter(pk=token_id)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rdk_…``; the token's digest is looked up, never the secret."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        digest = APIToken.hash(token)
        now = datetime.now(UTC)
        with connection.cursor() as cur:
            cur.execute(_CHECK_SQL, [digest, connection.ops.adapt_datetimefield_value(now)])
            row = cur.fetchone()
        if row is None or not row[3]:
            return None
        token_id, fresh = row[0], tuple(row[2:])
        mono = time.monotonic()
        cached = _graphs.get(digest)
        if cached is not None and cached[1] == fresh and mono - cached[0] < USER_GRAPH_TTL_S:
            user, scopes = cached[2], cached[3]
        else:
            rows = prepared.fetch("token_graph", _token_graph, [token_id])
            found = rows[0] if rows else None
            if found is None or not found.user.is_active:
                return None
            user, scopes = found.user, list(found.scopes)
            user._groups()  # load the role groups once, with the rest of the graph
            with _graph_lock:
                if len(_graphs) > 10_000:
                    _graphs.clear()
                _graphs[digest] = (mono, fresh, user, scopes)
        last = _last_used.get(token_id)
        if last is None or now - last > _LAST_USED_EVERY:
            if len(_last_used) > 10_000:
                _last_used.clear()
            _last_used[token_id] = now
            APIToken.objects.filter(pk=token_id).update(last_used_at=now)
        request.scopes = list(scopes)  # type: ignore[attr-defined]
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """A logged-in browser session; unsafe methods need the CSRF token (Django's check)."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            request.scopes = list(SESSION_SCOPES)  # type: ignore[attr-defined]
            return user  # type: ignore[return-value]
        return None


def current_user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def require_scope(request: HttpRequest, scope: str) -> None:
    scopes: list[str] = getattr(request, "scopes", [])
    if scope not in scopes:
        raise HttpError(403, f"this token lacks the '{scope}' scope")


def require_staff(user: User) -> None:
    if user.kind != User.KIND_STAFF:
        raise HttpError(403, "only support staff may do this")


def require_admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not user.is_admin_role:
        raise HttpError(403, "only admins may change this")
    require_scope(request, "admin")
    return user


def visibility(user: User) -> tuple[str, list[int]] | None:
    """The shape of a user's ticket filter and the values it binds (``None``: sees nothing).
    Customers see their organisation's tickets; agents the organisations their team serves
    plus what is assigned to them or their team; leads and admins all."""
    if user.is_customer:
        return "org", [user.organisation_id]  # type: ignore[list-item]
    if user.kind != User.KIND_STAFF:
        return None
    if user.is_lead_role or (user.team is not None and user.team.serves_all):
        return "all", []
    # The organisations resolved first (a handful of ids), so the ticket query is a plain OR
    # of indexed columns with no join.
    team = [user.team_id] if user.team_id is not None else []

    def served(*vals: int) -> QuerySet[Any]:
        orgs = Q(account_manager_id=vals[0])
        if len(vals) > 1:
            orgs |= Q(support_teams=vals[1])
        return Organisation.objects.filter(orgs).values_list("pk", flat=True)

    org_ids = sorted(set(prepared.fetch("served_orgs", served, [user.pk, *team])))
    return f"agent:{len(org_ids)}:{len(team)}", [user.pk, *org_ids, *team]


def visible_filter(qs: QuerySet[Ticket], shape: str, values: Sequence[int]) -> QuerySet[Ticket]:
    kind, _, rest = shape.partition(":")
    if kind == "org":
        return qs.filter(organisation_id=values[0])
    if kind == "all":
        return qs
    if kind == "none":
        return qs.none()
    n_orgs, n_team = (int(x) for x in rest.split(":"))
    cond = Q(assignee_id=values[0]) | Q(organisation_id__in=list(values[1 : 1 + n_orgs]))
    if n_team:
        cond |= Q(team_id=values[1 + n_orgs])
    return qs.filter(cond)


def visible_tickets(user: User, qs: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The tickets a user may see (see ``visibility``)."""
    qs = qs if qs is not None else Ticket.objects.all()
    vis = visibility(user)
    if vis is None:
        return qs.none()
    return visible_filter(qs, *vis)


def visible_organisations(user: User) -> QuerySet[Organisation]:
    if user.is_customer:
        return Organisation.objects.filter(pk=user.organisation_id)
    if user.kind != User.KIND_STAFF:
        return Organisation.objects.none()
    if user.is_lead_role or (user.team is not None and user.team.serves_all):
        return Organisation.objects.all()
    cond = Q(account_manager_id=user.pk)
    if user.team_id is not None:
        cond |= Q(support_teams=user.team_id)
    return Organisation.objects.filter(cond).distinct()


TICKET_RELATED = (
    "organisation__plan",
    "organisation__home_region",
    "requester",
    "assignee",
    "team",
    "region",
    "sla_rule",
    "sla_policy",
    "sla_calendar",
)


def find_visible_ticket(user: User, ticket_id: int, related: tuple[str, ...] = TICKET_RELATED) -> Ticket | None:
    """One ticket the user may see, with ``related`` rows joined in, or ``None``.

    The hottest read of the product (API detail, update, messages; the console's ticket
    page): its SQL (the joins and the tenancy filter) is compiled once per filter shape and
    process (``relaydesk.core.prepared``), then bound to new values."""
    vis = visibility(user)
    if vis is None:
        return None
    shape, values = vis

    def build(*vals: int) -> QuerySet[Ticket]:
        qs = Ticket.objects.select_related(*related)
        # One row by primary key: no ORDER BY.
        return visible_filter(qs, shape, vals[:-1]).filter(pk=vals[-1]).order_by()[:1]

    found = prepared.fetch(("visible_ticket", shape, related), build, [*values, ticket_id])
    return found[0] if found else None


def get_visible_ticket(user: User, ticket_id: int) -> Ticket:
    """``find_visible_ticket`` for the API: 404 when missing or not the user's."""
    ticket = find_visible_ticket(user, ticket_id)
    if ticket is None:
        # Same answer for "does not exist" and "not yours": no probing across tenants.
        raise HttpError(404, f"ticket {ticket_id} not found")
    return ticket
