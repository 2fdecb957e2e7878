"""The off-hours audit page (staff): synthetic probe tickets' first human response per hour
of the week against the target, and the probes one by one with who answered them and when.

Probes are the tickets filed by enrolled probe accounts (``relaydesk audit enrol``, then
``relaydesk audit probe`` or the worker's scheduled sweep); every customer report leaves them
out. Same date range, time zone and
scope as the reports page; ``?format=csv`` answers the probe list as CSV (the hour table's
CSV is ``/api/v1/reports/heatmap?population=probes&format=csv``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from relaydesk.core.models import User
from relaydesk.sla.models import PRIORITIES

from . import queries, stats, svg
from .api import to_csv
from .models import TicketFact
from .views import COMMON_ZONES, _heatmap_chart

PAGE_LIMIT = 200
CSV_LIMIT = 5000

PROBE_COLUMNS = [
    "ticket_id", "number", "subject", "priority", "created_at", "weekday", "hour",
    "first_human_response_at", "responder", "frt_wall_s", "frt_target_s", "outcome",
]  # fmt: skip


def _outcome_words() -> dict[int, str]:
    return {
        stats.NO_TARGET: _("no target"),
        stats.MET: _("met"),
        stats.LATE: _("late"),
        stats.BREACHED: _("breached"),
        stats.PENDING: _("waiting"),
    }


def probe_list(p: queries.ReportParams, limit: int) -> dict[str, Any]:
    """The probe tickets created in the range (newest first) with their first human public
    reply — the time, who wrote it and the wall-clock seconds against the FRT target."""
    from relaydesk.tickets.models import Message, Ticket

    lo, hi = p.bounds
    qs = TicketFact.objects.filter(is_probe=True, created_s__gte=lo, created_s__lt=hi)
    if p.priority:
        qs = qs.filter(priority=p.priority)
    if p.scope is not None:  # the same part of the tickets as every other report
        mine = Q(organisation_id__in=p.scope.organisation_ids)
        if p.scope.team_id is not None:
            mine |= Q(team_id=p.scope.team_id)
        qs = qs.filter(mine)
    total = qs.count()
    facts = list(
        qs.order_by("-created_s", "-ticket_id").values(
            "ticket_id", "created_s", "priority", "frt_wall_s", "frt_target_s", "frt_outcome"
        )[:limit]
    )
    ids = [f["ticket_id"] for f in facts]
    tickets = {
        t["id"]: t
        for t in Ticket.objects.filter(pk__in=ids).values("id", "number", "subject", "created_at")
    }
    first: dict[int, Message] = {}
    replies = (
        Message.objects.filter(
            ticket_id__in=ids, is_public=True, is_auto=False, author_kind=Message.AUTHOR_AGENT
        )
        .select_related("author")
        .order_by("ticket_id", "created_at", "id")
    )
    for m in replies:
        first.setdefault(m.ticket_id, m)
    words = _outcome_words()
    tz = p.tz
    rows = []
    for f in facts:
        t = tickets.get(f["ticket_id"])
        if t is None:
            continue
        local = datetime.fromtimestamp(f["created_s"], UTC).astimezone(tz)
        m = first.get(f["ticket_id"])
        rows.append(
            {
                "ticket_id": t["id"],
                "number": t["number"],
                "subject": t["subject"],
                "priority": f["priority"],
                "created_at": t["created_at"].isoformat(),
                "created": t["created_at"],
                "weekday": stats.WEEKDAYS[local.weekday()],
                "hour": local.hour,
                "first_human_response_at": m.created_at.isoformat() if m else None,
                "responded": m.created_at if m else None,
                "responder": (m.author.get_full_name() or m.author.email)
                if m and m.author
                else None,
                "frt_wall_s": f["frt_wall_s"],
                "frt_target_s": f["frt_target_s"],
                "frt_fmt": svg.fmt_duration(f["frt_wall_s"]),
                "target_fmt": svg.fmt_duration(f["frt_target_s"]),
                "outcome": stats.OUTCOMES.get(f["frt_outcome"], ""),
                "outcome_words": words.get(f["frt_outcome"], ""),
            }
        )
    return {
        "report": "probes",
        **p.describe(),
        "columns": PROBE_COLUMNS,
        "rows": rows,
        "total": total,
    }


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or user.kind != User.KIND_STAFF:
        raise PermissionDenied("only support staff may read the off-hours audit")
    error, status = None, 200
    query = {k: v for k, v in request.GET.items() if k in ("start", "end", "tz", "priority")} | {
        "population": "probes"
    }
    try:
        params = queries.parse_params(query, user)
    except queries.ReportInputError as exc:
        error, status = exc.message, 400
        params = queries.parse_params({"population": "probes"}, user)
    if request.GET.get("format") == "csv" and error is None:
        report = probe_list(params, CSV_LIMIT)
        resp = HttpResponse(to_csv(report), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = (
            f'attachment; filename="relaydesk-audit-probes-{params.start}-{params.end}.csv"'
        )
        return resp
    heat = queries.heatmap(params)
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    hours = []
    for i, r in enumerate(heat["rows"]):
        if r["tickets"]:
            hours.append(
                {
                    **r,
                    "day": weekdays[i // 24],
                    "median_fmt": svg.fmt_duration(r["median_s"]),
                    "p90_fmt": svg.fmt_duration(r["p90_s"]),
                }
            )
    probes = probe_list(params, PAGE_LIMIT)
    desc = {k: v for k, v in params.describe().items() if v is not None}
    context = {
        "params": params,
        "error": error,
        "zones": COMMON_ZONES,
        "priorities": [p for p, _l in PRIORITIES],
        "hours": hours,
        "probes": probes,
        "chart": _heatmap_chart(heat),
        "query": urlencode(desc),
        "csv_limit": CSV_LIMIT,
        "configured_schedule": _schedule(),
    }
    with timezone.override(stats.zone(params.tz_name)):
        return render(request, "reports/audit.html", context, status=status)


def _schedule() -> str:
    from .probe import _setting

    return _setting("RELAYDESK_AUDIT_PROBE_SCHEDULE")
