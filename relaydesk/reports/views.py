"""The reports page (staff only): tables, server-side SVG charts, date range and time zone
form, CSV links to the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from relaydesk.core.models import User
from relaydesk.sla.models import PRIORITIES

from . import queries, stats, svg

COMMON_ZONES = [
    "UTC", "Asia/Singapore", "Asia/Shanghai", "Asia/Jakarta", "Asia/Bangkok", "Asia/Manila",
    "Asia/Riyadh", "Asia/Dubai", "Europe/Berlin", "Europe/London", "America/New_York",
    "America/Sao_Paulo", "America/Mexico_City", "America/Los_Angeles",
]  # fmt: skip


def _dimension_labels() -> dict[str, str]:
    return {
        "priority": _("priority"),
        "plan": _("plan"),
        "region": _("region"),
        "team": _("team"),
        "channel": _("channel"),
        "language": _("language"),
    }


def _distribution_chart(report: dict[str, Any], title: str) -> str:
    rows = report["rows"]
    return svg.bar_chart(
        [str(r["label"]) for r in rows],
        [
            svg.Series(_("median"), [r["median_s"] for r in rows]),
            svg.Series("p90", [r["p90_s"] for r in rows]),
            svg.Series("p95", [r["p95_s"] for r in rows]),
        ],
        title=title,
        fmt=svg.fmt_duration,
    )


def _heatmap_chart(report: dict[str, Any]) -> str:
    # Abbreviated weekdays come from Django's own catalog (shared with every page).
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    rows = report["rows"]
    tips = [
        f"{weekdays[i // 24]} {r['hour']:02d}:00 · {r['tickets']} {_('tickets')} · {_('median')} "
        f"{svg.fmt_duration(r['median_s'])} · {svg.fmt_pct(r['compliance_pct'])} {_('within target')}"
        for i, r in enumerate(rows)
    ]
    return svg.heatmap(
        [r["compliance_pct"] for r in rows],
        tips,
        title=_("First response within target, by hour of the week"),
        row_labels=weekdays,
    )


def _incident_label(row: dict[str, Any], dims: dict[str, str]) -> str:
    return f"{dims.get(row['dimension'], row['dimension'])}: {row['label']}"


def _incident_charts(proactive: dict[str, Any], notice: dict[str, Any]) -> dict[str, str]:
    dims = {"source": _("source"), "service": _("service"), "region": _("region")}
    sources = {"detection": _("detection"), "alertmanager": "Alertmanager", "manual": _("manual")}
    for report in (proactive, notice):
        for row in report["rows"]:
            row["dimension_label"] = dims.get(row["dimension"], row["dimension"])
            if row["dimension"] == "source":
                row["label"] = sources.get(row["group"], row["label"])
    for row in [*notice["rows"], notice["total"]]:
        row["fmt"] = {k: svg.fmt_duration(row[k]) for k in queries.NOTICE_COLUMNS if k.endswith("_s")}
    return {
        "proactive": svg.bar_chart(
            [_incident_label(r, dims) for r in proactive["rows"]],
            [svg.Series(_("proactive share"), [r["proactive_pct"] for r in proactive["rows"]])],
            title=_("Incidents noticed before the first customer ticket"),
            fmt=svg.fmt_pct,
            max_value=100.0,
        ),
        "notice": svg.bar_chart(
            [_incident_label(r, dims) for r in notice["rows"]],
            [
                svg.Series(_("median"), [r["notice_median_s"] for r in notice["rows"]]),
                svg.Series("p90", [r["notice_p90_s"] for r in notice["rows"]]),
                svg.Series("p95", [r["notice_p95_s"] for r in notice["rows"]]),
            ],
            title=_("Time from incident start to first notice"),
            fmt=svg.fmt_duration,
        ),
    }


def _kb_charts(kb: dict[str, Any], articles: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, report, key, title in (
        ("kb", kb, "category", _("Knowledge-base deflection by category")),
        ("kb_articles", articles, "article", _("Knowledge-base deflection by article (top 12)")),
    ):
        rows = report["rows"][:12] if report.get("available") else []
        for row in report["rows"] if report.get("available") else []:
            rate = row.get("deflection_rate")
            row["rate_pct"] = None if rate is None else round(100.0 * rate, 1)
        out[name] = svg.bar_chart(
            [str(r[key]) for r in rows],
            [
                svg.Series(_("deflected"), [r["deflected"] for r in rows]),
                svg.Series(_("filed"), [r["filed"] for r in rows]),
            ],
            title=title,
        )
    return out


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or user.kind != User.KIND_STAFF:
        raise PermissionDenied("only support staff may read reports")
    error = None
    status = 200
    try:
        params = queries.parse_params(request.GET, user)
        by = queries.parse_by(request.GET.get("by"))
    except queries.ReportInputError as exc:
        error, status = exc.message, 400
        params = queries.parse_params({}, user)
        by = "priority"
    frt = queries.distribution("frt", by, params)
    ttr = queries.distribution("ttr", by, params)
    comp = queries.compliance(by, params)
    heat = queries.heatmap(params)
    backlog = queries.backlog(params)
    breaches = queries.breaches(params, limit=50)
    for row in breaches["rows"]:
        row["created"] = datetime.fromisoformat(row["created_at"])
        row["frt_fmt"] = svg.fmt_duration(row["frt_wall_s"])
        row["frt_target_fmt"] = svg.fmt_duration(row["frt_target_s"])
    dims = _dimension_labels()
    by_label = dims[by]
    query = {k: v for k, v in params.describe().items() if v is not None}
    query["by"] = by
    charts = {
        "frt": _distribution_chart(frt, _("First response time by %(by)s") % {"by": by_label}),
        "ttr": _distribution_chart(ttr, _("Resolution time by %(by)s") % {"by": by_label}),
        "compliance": svg.bar_chart(
            [str(r["label"]) for r in comp["rows"]],
            [
                svg.Series(_("first response"), [r["frt_compliance_pct"] for r in comp["rows"]]),
                svg.Series(_("resolution"), [r["ttr_compliance_pct"] for r in comp["rows"]]),
            ],
            title=_("SLA compliance by %(by)s") % {"by": by_label},
            fmt=svg.fmt_pct,
            max_value=100.0,
        ),
        "heatmap": _heatmap_chart(heat),
        "backlog": svg.line_chart(
            [r["date"][5:] for r in backlog["rows"]],
            [svg.Series(_("open tickets"), [r["open"] for r in backlog["rows"]])],
            title=_("Open tickets at the end of each day"),
        ),
    }
    proactive = queries.proactive_share(params)
    notice = queries.time_to_notice(params)
    charts |= _incident_charts(proactive, notice)
    kb = queries.kb_deflection(params)
    kb_articles = queries.kb_articles(params)
    charts |= _kb_charts(kb, kb_articles)
    from relaydesk.tickets.models import Ticket

    from .models import TicketFact

    needs_rebuild = not TicketFact.objects.exists() and Ticket.objects.exists()
    context = {
        "needs_rebuild": needs_rebuild,
        "params": params,
        "by": by,
        "by_label": by_label,
        "dimensions": list(dims.items()),
        "priorities": [p for p, _l in PRIORITIES],
        "zones": COMMON_ZONES,
        "error": error,
        "frt": frt,
        "ttr": ttr,
        "compliance": comp,
        "heatmap": heat,
        "backlog": backlog,
        "breaches": breaches,
        "kb": kb,
        "kb_articles": kb_articles,
        "proactive": proactive,
        "notice": notice,
        "charts": charts,
        "query": urlencode(query),
    }
    for report in (frt, ttr):
        for row in [*report["rows"], report["total"]]:
            row["fmt"] = {k: svg.fmt_duration(row[k]) for k in queries.DIST_COLUMNS if k.endswith("_s")}
    with timezone.override(stats.zone(params.tz_name)):
        return render(request, "reports/index.html", context, status=status)
