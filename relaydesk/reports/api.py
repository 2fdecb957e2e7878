"""JSON API of the reports capability; mounted under /api/v1 (paths below carry their own prefix).

Staff only (customers get 403). Common query parameters: ``start``, ``end`` (YYYY-MM-DD, in
the viewer's time zone; default the last 30 days), ``tz`` (IANA name; default the user's),
``population`` (``customers`` — default, synthetic audit-probe tickets excluded — or
``probes``: tickets filed by enrolled probe accounts), ``priority``; ``format=csv`` answers the report's table as a CSV download.
Bad input answers 422 with a message naming the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError

from relaydesk.api.auth import current_user, require_scope, require_staff

from . import queries

router = Router(tags=["reports"])

FORMATS = ("json", "csv")


def _check(request: HttpRequest) -> Any:
    user = current_user(request)
    require_staff(user)
    require_scope(request, "tickets:read")
    return user


def _int(value: str | None, field: str, default: int, lo: int, hi: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(str(value))
    except ValueError:
        raise queries.ReportInputError(field, f"{value!r} is not a whole number") from None
    if not lo <= n <= hi:
        raise queries.ReportInputError(field, f"must be within {lo}..{hi}")
    return n


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet must not run a subject as a formula
    return value


def to_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    cols = report["columns"]
    w.writerow(cols)
    for row in report["rows"]:
        w.writerow([_cell(row.get(c)) for c in cols])
    total = report.get("total")
    if isinstance(total, dict) and set(cols) & set(total):
        w.writerow([_cell(total.get(c)) for c in cols])
    return buf.getvalue()


def csv_filename(report: dict[str, Any]) -> str:
    parts = ["relaydesk", str(report["report"])]
    if report.get("by"):
        parts.append(f"by-{report['by']}")
    parts += [str(report["start"]), str(report["end"])]
    if report.get("population") == "probes":
        parts.append("probes")
    return "-".join(parts).replace("_", "-") + ".csv"


def respond(request: HttpRequest, build: Callable[[queries.ReportParams], dict[str, Any]]) -> Any:
    """Validate the common parameters, build the report, answer JSON or CSV."""
    user = _check(request)
    try:
        fmt = request.GET.get("format") or "json"
        if fmt not in FORMATS:
            raise queries.ReportInputError("format", f"choose one of {', '.join(FORMATS)}")
        params = queries.parse_params(request.GET, user)
        report = build(params)
    except queries.ReportInputError as exc:
        raise HttpError(422, exc.message) from None
    if fmt == "csv":
        resp = HttpResponse(to_csv(report), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="{csv_filename(report)}"'
        return resp
    return report


# The declared query parameters document the API (OpenAPI); values are read and validated
# from request.GET so that every error names its field the same way.
Q = str | None


@router.get("/reports/frt", summary="First response time distribution (median, p90, p95) by a dimension")
def report_frt(request: HttpRequest, by: Q = None, start: Q = None, end: Q = None, tz: Q = None, population: Q = None, priority: Q = None, format: Q = None) -> Any:
    return respond(request, lambda p: queries.distribution("frt", queries.parse_by(request.GET.get("by")), p))


@router.get("/reports/ttr", summary="Resolution time distribution (median, p90, p95) by a dimension")
def report_ttr(request: HttpRequest, by: Q = None, start: Q = None, end: Q = None, tz: Q = None, population: Q = None, priority: Q = None, format: Q = None) -> Any:
    return respond(request, lambda p: queries.distribution("ttr", queries.parse_by(request.GET.get("by")), p))


@router.get("/reports/compliance", summary="SLA compliance % (first response and resolution) by a dimension")
def report_compliance(request: HttpRequest, by: Q = None, start: Q = None, end: Q = None, tz: Q = None, population: Q = None, priority: Q = None, format: Q = None) -> Any:
    return respond(request, lambda p: queries.compliance(queries.parse_by(request.GET.get("by")), p))


@router.get("/reports/heatmap", summary="First response per hour of the week in the viewer's time zone")
def report_heatmap(request: HttpRequest, start: Q = None, end: Q = None, tz: Q = None, population: Q = None, priority: Q = None, format: Q = None) -> Any:
    return respond(request, queries.heatmap)


@router.get("/reports/backlog", summary="Open tickets at the end of each day")
def report_backlog(request: HttpRequest, start: Q = None, end: Q = None, tz: Q = None, population: Q = None, priority: Q = None, format: Q = None) -> Any:
    return respond(request, queries.backlog)


@router.get("/reports/breaches", summary="Tickets whose first response or resolution target passed")
def report_breaches(request: HttpRequest, start: Q = None, end: Q = None, tz: Q = None, population: Q = None, priority: Q = None, limit: Q = None, offset: Q = None, format: Q = None) -> Any:
    def build(p: queries.ReportParams) -> dict[str, Any]:
        lim = _int(request.GET.get("limit"), "limit", 100, 1, queries.BREACH_LIMIT_MAX)
        off = _int(request.GET.get("offset"), "offset", 0, 0, 10_000_000)
        return queries.breaches(p, lim, off)

    return respond(request, build)


@router.get("/reports/proactive-share", summary="Proactive share of incidents (notice before the first customer ticket) by source, service and region")
def report_proactive(request: HttpRequest, start: Q = None, end: Q = None, tz: Q = None, format: Q = None) -> Any:
    return respond(request, queries.proactive_share)


@router.get("/reports/time-to-notice", summary="Incident time to notice and detection delay (median, p90, p95) by source, service and region")
def report_time_to_notice(request: HttpRequest, start: Q = None, end: Q = None, tz: Q = None, format: Q = None) -> Any:
    return respond(request, queries.time_to_notice)


@router.get("/reports/kb-deflection", summary="Knowledge-base deflection per category")
def report_kb_deflection(request: HttpRequest, start: Q = None, end: Q = None, tz: Q = None, format: Q = None) -> Any:
    return respond(request, queries.kb_deflection)


@router.get("/reports/kb-articles", summary="Knowledge-base deflection per article")
def report_kb_articles(request: HttpRequest, start: Q = None, end: Q = None, tz: Q = None, format: Q = None) -> Any:
    return respond(request, queries.kb_articles)
