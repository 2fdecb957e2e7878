"""Report queries over the fact table: the database groups, ``stats`` does the arithmetic.

Every report takes ``ReportParams`` (date range in the viewer's time zone, population,
optional priority filter, the viewer's scope) and returns a dict with ``columns`` and
``rows`` (the table, also what the CSV export writes) plus report-specific extras.
Tickets are in a report when they were *created* within the range (a cohort), except the
backlog, which counts open tickets at the end of each day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils.translation import gettext as _

from relaydesk.core.models import LANGUAGES, Region, Team, User
from relaydesk.sla.models import PRIORITIES, Plan
from relaydesk.tickets.models import CHANNELS

from . import stats
from .models import TicketFact

TABLE = TicketFact._meta.db_table
MAX_RANGE_DAYS = 1100
DEFAULT_DAYS = 30
POPULATIONS = ("customers", "probes")
DIMENSIONS: dict[str, str] = {
    "priority": "priority",
    "plan": "plan_id",
    "region": "region_id",
    "team": "team_id",
    "channel": "channel",
    "language": "language",
}
METRICS = ("frt", "ttr")


class ReportInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = f"{field}: {message}"


@dataclass(frozen=True)
class Scope:
    """An agent's part of the tickets: the organisations they serve, and their team's."""

    organisation_ids: tuple[int, ...]
    team_id: int | None


@dataclass(frozen=True)
class ReportParams:
    start: date
    end: date
    tz_name: str
    population: str = "customers"
    priority: str | None = None
    scope: Scope | None = None

    @property
    def tz(self) -> ZoneInfo:
        return stats.zone(self.tz_name)

    @property
    def bounds(self) -> tuple[int, int]:
        return stats.range_bounds(self.start, self.end, self.tz)

    def describe(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "tz": self.tz_name,
            "population": self.population,
            "priority": self.priority,
        }


def scope_for(user: User) -> Scope | None:
    """``None`` (everything) for leads, admins and teams that serve all organisations."""
    from relaydesk.api.auth import visible_organisations

    if user.is_lead_role or (user.team is not None and user.team.serves_all):
        return None
    orgs = tuple(sorted(visible_organisations(user).values_list("pk", flat=True)))
    return Scope(orgs, user.team_id)


def _date(value: str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportInputError(field, f"{value!r} is not a date; use YYYY-MM-DD") from None


def parse_params(query: Mapping[str, str], user: User) -> ReportParams:
    """Validate the common parameters (``start``, ``end``, ``tz``, ``population``,
    ``priority``); raises ``ReportInputError`` naming the field."""
    tz_name = (query.get("tz") or user.timezone or "UTC").strip()
    try:
        tz = stats.zone(tz_name)
    except stats.TimeZoneError as exc:
        raise ReportInputError("tz", str(exc)) from None
    today = datetime.now(UTC).astimezone(tz).date()
    end = _date(query.get("end"), "end") or today
    start = _date(query.get("start"), "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ReportInputError("end", f"{end} is before start {start}")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ReportInputError("start", f"the range is at most {MAX_RANGE_DAYS} days")
    if start.year < 1971 or end.year > 9998:
        raise ReportInputError("start", "dates must be within 1971..9998")
    population = query.get("population") or "customers"
    if population not in POPULATIONS:
        raise ReportInputError("population", f"choose one of {', '.join(POPULATIONS)}")
    priority = query.get("priority") or None
    if priority is not None and priority not in {p for p, _ in PRIORITIES}:
        raise ReportInputError("priority", f"choose one of {', '.join(p for p, _ in PRIORITIES)}")
    return ReportParams(start, end, tz_name, population, priority, scope_for(user))


def parse_by(value: str | None) -> str:
    by = value or "priority"
    if by not in DIMENSIONS:
        raise ReportInputError("by", f"choose one of {', '.join(DIMENSIONS)}")
    return by


# -- SQL helpers ------------------------------------------------------------------------------


def _filters(p: ReportParams, *, created_range: bool = True) -> tuple[str, list[Any]]:
    where = ["is_probe = %s"]
    params: list[Any] = [p.population == "probes"]
    if created_range:
        lo, hi = p.bounds
        where.append("created_s >= %s AND created_s < %s")
        params += [lo, hi]
    if p.priority:
        where.append("priority = %s")
        params.append(p.priority)
    if p.scope is not None:
        ors = []
        if p.scope.organisation_ids:
            ors.append(f"organisation_id IN ({', '.join(['%s'] * len(p.scope.organisation_ids))})")
            params += list(p.scope.organisation_ids)
        if p.scope.team_id is not None:
            ors.append("team_id = %s")
            params.append(p.scope.team_id)
        where.append("(" + (" OR ".join(ors) or "1 = 0") + ")")
    return " AND ".join(where), params


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, list(params))
        return list(cur.fetchall())


def _segmented(column: str, segments: list[tuple[int, int, int]], bucket: str) -> tuple[str, list[Any]]:
    """A SQL expression bucketing an epoch-seconds column in local time: ``bucket`` is a
    template over ``{x}`` (the local seconds). One branch per constant-offset segment."""
    if not segments:
        return bucket.format(x=column), []
    parts, params = [], []
    for _lo, hi, off in segments[:-1]:
        parts.append(f"WHEN {column} < %s THEN {bucket.format(x=f'({column} + %s)')}")
        params += [hi, off]
    last = segments[-1][2]
    if not parts:
        return bucket.format(x=f"({column} + %s)"), [last]
    expr = "CASE " + " ".join(parts) + f" ELSE {bucket.format(x=f'({column} + %s)')} END"
    return expr, [*params, last]


def _labels(by: str) -> dict[Any, str]:
    if by == "priority":
        return dict(PRIORITIES)
    if by == "channel":
        return dict(CHANNELS)
    if by == "language":
        return dict(LANGUAGES)
    model: Any = {"plan": Plan, "region": Region, "team": Team}[by]
    return {pk: str(name) for pk, name in model.objects.values_list("pk", "name")}


def _sort_key(by: str, key: Any) -> tuple[int, str]:
    order = {"priority": [p for p, _ in PRIORITIES], "channel": [c for c, _ in CHANNELS], "language": [lang for lang, _ in LANGUAGES]}
    if key is None:
        return (10_000, "")
    if by in order and key in order[by]:
        return (order[by].index(key), str(key))
    return (1000, str(key))


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# -- distributions (FRT, TTR) ----------------------------------------------------------------------

DIST_COLUMNS = [
    "group", "label", "tickets", "measured",
    "median_s", "p90_s", "p95_s",
    "business_median_s", "business_p90_s", "business_p95_s",
    "met", "late", "breached", "pending", "compliance_pct",
]  # fmt: skip


@dataclass
class _Acc:
    wall: stats.Histogram
    business: stats.Histogram
    outcomes: dict[int, int]

    @classmethod
    def new(cls) -> _Acc:
        return cls(stats.Histogram.empty(), stats.Histogram.empty(), {})

    def merge(self, other: _Acc) -> None:
        self.wall.merge(other.wall)
        self.business.merge(other.business)
        for k, v in other.outcomes.items():
            self.outcomes[k] = self.outcomes.get(k, 0) + v

    def row(self, group: Any, label: str) -> dict[str, Any]:
        w = self.wall.percentiles()
        b = self.business.percentiles()
        o = self.outcomes
        return {
            "group": group,
            "label": label,
            "tickets": sum(o.values()),
            "measured": self.wall.n,
            "median_s": _r(w[0]),
            "p90_s": _r(w[1]),
            "p95_s": _r(w[2]),
            "business_median_s": _r(b[0]),
            "business_p90_s": _r(b[1]),
            "business_p95_s": _r(b[2]),
            "met": o.get(stats.MET, 0),
            "late": o.get(stats.LATE, 0),
            "breached": o.get(stats.BREACHED, 0),
            "pending": o.get(stats.PENDING, 0),
            "compliance_pct": stats.compliance_pct(o.get(stats.MET, 0), o.get(stats.LATE, 0), o.get(stats.BREACHED, 0)),
        }


def distribution(metric: str, by: str, p: ReportParams) -> dict[str, Any]:
    """FRT (``frt``) or TTR (``ttr``): median, p90, p95 in wall-clock and business seconds,
    and the SLA outcomes, per group of ``by`` and in total."""
    if metric not in METRICS:
        raise ReportInputError("metric", f"choose one of {', '.join(METRICS)}")
    col = DIMENSIONS[by]
    where, params = _filters(p)
    sql = (
        f"SELECT {col}, {metric}_outcome, {metric}_wall_q, COUNT(*) FROM {TABLE} WHERE {where} "  # noqa: S608 - names from constants
        "GROUP BY 1, 2, 3 UNION ALL "
        f"SELECT {col}, -1, {metric}_business_q, COUNT(*) FROM {TABLE} WHERE {where} "
        f"AND {metric}_business_q IS NOT NULL GROUP BY 1, 3"
    )
    groups: dict[Any, _Acc] = {}
    for key, out, value, n in _rows(sql, params + params):
        acc = groups.setdefault(key, _Acc.new())
        if out == -1:
            acc.business.add(int(value), int(n))
            continue
        acc.outcomes[int(out)] = acc.outcomes.get(int(out), 0) + int(n)
        if value is not None:
            acc.wall.add(int(value), int(n))
    labels = _labels(by)
    total = _Acc.new()
    rows = []
    for key in sorted(groups, key=lambda k: _sort_key(by, k)):
        total.merge(groups[key])
        rows.append(groups[key].row(key, labels.get(key, "—") if key is not None else "—"))
    return {
        "report": metric,
        "by": by,
        **p.describe(),
        "columns": DIST_COLUMNS,
        "rows": rows,
        "total": total.row(None, "all"),
    }


# -- compliance ---------------------------------------------------------------------------------------

COMPLIANCE_COLUMNS = [
    "group", "label", "tickets",
    "frt_met", "frt_late", "frt_breached", "frt_pending", "frt_compliance_pct",
    "ttr_met", "ttr_late", "ttr_breached", "ttr_pending", "ttr_compliance_pct",
]  # fmt: skip


def compliance(by: str, p: ReportParams) -> dict[str, Any]:
    """SLA compliance %: of the clocks decided (met in time, met late, breached), the share
    met in time; first response and resolution, per group of ``by``."""
    col = DIMENSIONS[by]
    where, params = _filters(p)
    sql = f"SELECT {col}, frt_outcome, ttr_outcome, COUNT(*) FROM {TABLE} WHERE {where} GROUP BY 1, 2, 3"  # noqa: S608
    counts: dict[Any, dict[str, int]] = {}
    for key, fo, to, n in _rows(sql, params):
        c = counts.setdefault(key, {})
        c["tickets"] = c.get("tickets", 0) + n
        for m, o in (("frt", fo), ("ttr", to)):
            name = f"{m}_{stats.OUTCOMES[int(o)]}"
            c[name] = c.get(name, 0) + n

    def row(key: Any, label: str, c: dict[str, int]) -> dict[str, Any]:
        out: dict[str, Any] = {"group": key, "label": label, "tickets": c.get("tickets", 0)}
        for m in METRICS:
            met, late, br = (c.get(f"{m}_met", 0), c.get(f"{m}_late", 0), c.get(f"{m}_breached", 0))
            out |= {f"{m}_met": met, f"{m}_late": late, f"{m}_breached": br, f"{m}_pending": c.get(f"{m}_pending", 0)}
            out[f"{m}_compliance_pct"] = stats.compliance_pct(met, late, br)
        return out

    labels = _labels(by)
    total: dict[str, int] = {}
    rows = []
    for key in sorted(counts, key=lambda k: _sort_key(by, k)):
        for k, v in counts[key].items():
            total[k] = total.get(k, 0) + v
        rows.append(row(key, labels.get(key, "—") if key is not None else "—", counts[key]))
    return {"report": "compliance", "by": by, **p.describe(), "columns": COMPLIANCE_COLUMNS, "rows": rows, "total": row(None, "all", total)}


# -- hour-of-week heatmap ------------------------------------------------------------------------------

HEATMAP_COLUMNS = [
    "weekday", "hour", "tickets", "measured", "median_s", "p90_s",
    "met", "late", "breached", "compliance_pct",
]  # fmt: skip


def heatmap(p: ReportParams, metric: str = "frt") -> dict[str, Any]:
    """First response per hour of the week in the viewer's time zone (Monday 00:00 first):
    tickets created in that hour, their median/p90 FRT and the share answered within target."""
    where, params = _filters(p)
    lo, hi = p.bounds
    how, how_params = _segmented("created_s", stats.offset_segments(p.tz, lo, hi), "(({x}) / 3600 + 72) %% 168")
    sql = (
        f"SELECT {how}, {metric}_outcome, {metric}_wall_q, COUNT(*) FROM {TABLE} "  # noqa: S608
        f"WHERE {where} GROUP BY 1, 2, 3"
    )
    cells = [_Acc.new() for _ in range(stats.HOURS_OF_WEEK)]
    for h, out, value, n in _rows(sql, how_params + params):
        acc = cells[int(h)]
        acc.outcomes[int(out)] = acc.outcomes.get(int(out), 0) + int(n)
        if value is not None:
            acc.wall.add(int(value), int(n))
    rows = []
    for i, acc in enumerate(cells):
        full = acc.row(i, "")
        rows.append(
            {"weekday": stats.WEEKDAYS[i // 24], "hour": i % 24}
            | {k: full[k] for k in HEATMAP_COLUMNS if k not in ("weekday", "hour")}
        )
    return {"report": "heatmap", "metric": metric, **p.describe(), "columns": HEATMAP_COLUMNS, "rows": rows}


# -- backlog ----------------------------------------------------------------------------------------------

BACKLOG_COLUMNS = ["date", "open", "created", "resolved"]


def backlog(p: ReportParams) -> dict[str, Any]:
    """Open tickets (created and not yet solved or closed) at the end of each local day."""
    tz = p.tz
    lo, hi = p.bounds
    days = stats.day_starts(p.start, p.end, tz)
    segments = stats.offset_segments(tz, lo, hi)
    first_day = (lo + (segments[0][2] if segments else 0)) // 86400
    where, params = _filters(p, created_range=False)
    (before_created,) = _rows(f"SELECT COUNT(*) FROM {TABLE} WHERE {where} AND created_s < %s", [*params, lo])[0]  # noqa: S608
    (before_resolved,) = _rows(f"SELECT COUNT(*) FROM {TABLE} WHERE {where} AND resolved_s < %s", [*params, lo])[0]  # noqa: S608
    per_day: dict[str, list[tuple[int, int]]] = {}
    for col in ("created_s", "resolved_s"):
        expr, eparams = _segmented(col, segments, "({x}) / 86400")
        found = _rows(
            f"SELECT {expr}, COUNT(*) FROM {TABLE} WHERE {where} AND {col} >= %s AND {col} < %s GROUP BY 1",  # noqa: S608
            [*eparams, *params, lo, hi],
        )
        per_day[col] = [(int(d) - first_day, int(n)) for d, n in found]
    ends = [s for _d, s in days[1:]] + [hi]
    series = stats.backlog_series(ends, int(before_created), int(before_resolved), per_day["created_s"], per_day["resolved_s"])
    created = dict(per_day["created_s"])
    resolved = dict(per_day["resolved_s"])
    rows = [
        {"date": d.isoformat(), "open": series[i], "created": created.get(i, 0), "resolved": resolved.get(i, 0)}
        for i, (d, _s) in enumerate(days)
    ]
    return {"report": "backlog", **p.describe(), "columns": BACKLOG_COLUMNS, "rows": rows}


# -- breaches -----------------------------------------------------------------------------------------------

BREACH_COLUMNS = [
    "ticket_id", "number", "subject", "organisation", "priority", "created_at", "status",
    "breached", "frt_target_s", "frt_wall_s", "frt_business_s", "ttr_target_s", "ttr_wall_s", "ttr_business_s",
]  # fmt: skip
BREACH_LIMIT_MAX = 1000


def breaches(p: ReportParams, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Tickets whose first response or resolution target passed (met late or not met),
    newest first."""
    where, params = _filters(p)
    cond = f"({where}) AND (frt_outcome IN ({stats.LATE}, {stats.BREACHED}) OR ttr_outcome IN ({stats.LATE}, {stats.BREACHED}))"
    (total,) = _rows(f"SELECT COUNT(*) FROM {TABLE} WHERE {cond}", params)[0]  # noqa: S608
    # Table and column names are constants; every value is a parameter.
    sql = (
        "SELECT f.ticket_id, t.number, t.subject, o.name, f.priority, f.created_s, t.status, "  # noqa: S608
        "f.frt_outcome, f.frt_target_s, f.frt_wall_s, f.frt_business_s, "
        "f.ttr_outcome, f.ttr_target_s, f.ttr_wall_s, f.ttr_business_s "
        f"FROM (SELECT * FROM {TABLE} WHERE {cond} ORDER BY created_s DESC, ticket_id DESC LIMIT %s OFFSET %s) f "
        "JOIN tickets_ticket t ON t.id = f.ticket_id JOIN core_organisation o ON o.id = t.organisation_id "
        "ORDER BY f.created_s DESC, f.ticket_id DESC"
    )
    tz = p.tz
    rows = []
    for (tid, number, subject, org, prio, created_s, status, fo, ft, fw, fb, to, tt, tw, tb) in _rows(sql, [*params, limit, offset]):
        which = [m for m, o in (("frt", fo), ("ttr", to)) if o in (stats.LATE, stats.BREACHED)]
        rows.append({
            "ticket_id": tid, "number": number, "subject": subject, "organisation": org, "priority": prio,
            "created_at": datetime.fromtimestamp(created_s, UTC).astimezone(tz).isoformat(),
            "status": status, "breached": " ".join(which),
            "frt_target_s": ft, "frt_wall_s": fw, "frt_business_s": fb,
            "ttr_target_s": tt, "ttr_wall_s": tw, "ttr_business_s": tb,
        })  # fmt: skip
    return {"report": "breaches", **p.describe(), "columns": BREACH_COLUMNS, "rows": rows, "total": int(total), "limit": limit, "offset": offset}


# -- from other capabilities ------------------------------------------------------------------------------

NOT_AVAILABLE_COLUMNS = ["metric", "available", "reason"]


def _not_available(name: str, reason: str, p: ReportParams) -> dict[str, Any]:
    row = {"metric": name, "available": False, "reason": reason}
    return {"report": name, **p.describe(), "available": False, "reason": reason, "columns": NOT_AVAILABLE_COLUMNS, "rows": [row]}


# -- incidents: proactive share and time to notice ----------------------------------------------------

INCIDENT_DIMENSIONS = ("source", "service", "region")
PROACTIVE_COLUMNS = ["dimension", "group", "label", "incidents", "with_signal", "proactive", "reactive", "proactive_pct"]
NOTICE_COLUMNS = [
    "dimension", "group", "label", "incidents",
    "noticed", "notice_median_s", "notice_p90_s", "notice_p95_s",
    "detected", "detection_median_s", "detection_p90_s", "detection_p95_s",
]  # fmt: skip


def _incidents(p: ReportParams) -> list[Any]:
    """Incidents that started within the range (the viewer's local days), with the fields
    the two incident reports read. Incidents are few; the ORM reads them directly."""
    from relaydesk.incidents.models import Incident

    lo, hi = p.bounds
    return list(
        Incident.objects.filter(started_at__gte=datetime.fromtimestamp(lo, UTC), started_at__lt=datetime.fromtimestamp(hi, UTC))
        .select_related("service", "region")
        .only("source", "started_at", "created_at", "first_notice_at", "first_customer_ticket_at",
              "service__code", "service__name", "region__code", "region__name")
        .order_by("started_at", "id")
    )  # fmt: skip


def _incident_groups(incidents: list[Any]) -> list[tuple[str, Any, str, list[Any]]]:
    """(dimension, group, label, incidents) for each source, service and region, in that
    order; sources in their declared order, services and regions by code."""
    from relaydesk.incidents.models import SOURCES

    out: list[tuple[str, Any, str, list[Any]]] = []
    source_order = [s for s, _l in SOURCES]
    source_labels = dict(SOURCES)
    for dim in INCIDENT_DIMENSIONS:
        groups: dict[Any, list[Any]] = {}
        labels: dict[Any, str] = {}
        for inc in incidents:
            if dim == "source":
                key, label = inc.source, str(source_labels.get(inc.source, inc.source))
            else:
                obj = getattr(inc, dim)
                key, label = obj.code, str(obj.name)
            groups.setdefault(key, []).append(inc)
            labels[key] = label
        if dim == "source":
            keys = sorted(groups, key=lambda k: (source_order.index(k) if k in source_order else len(source_order), k))
        else:
            keys = sorted(groups)
        out += [(dim, k, labels[k], groups[k]) for k in keys]
    return out


def _incident_report(
    p: ReportParams, name: str, columns: list[str], row: Callable[[str | None, Any, str, list[Any]], dict[str, Any]]
) -> dict[str, Any]:
    """An incident report: one ``row`` per group of ``_incident_groups`` and one for all."""
    incidents = _incidents(p)
    return {
        "report": name, **p.describe(), "available": True, "columns": columns,
        "rows": [row(dim, key, label, incs) for dim, key, label, incs in _incident_groups(incidents)],
        "total": row(None, None, "all", incidents),
    }  # fmt: skip


def _proactive_row(dim: str | None, group: Any, label: str, incs: list[Any]) -> dict[str, Any]:
    verdicts = [inc.proactive for inc in incs]  # None: neither a notice nor a related ticket
    pro = sum(1 for v in verdicts if v is True)
    rea = sum(1 for v in verdicts if v is False)
    return {
        "dimension": dim, "group": group, "label": label, "incidents": len(incs),
        "with_signal": pro + rea, "proactive": pro, "reactive": rea,
        "proactive_pct": None if pro + rea == 0 else round(100.0 * pro / (pro + rea), 1),
    }  # fmt: skip


def proactive_share(p: ReportParams) -> dict[str, Any]:
    """Proactive share: of the incidents that started in the range and have a first notice or
    a first related customer ticket, the share whose first notice went out no later than the
    first customer ticket (``Incident.proactive``; a notice and no ticket counts as proactive,
    a ticket and no notice as reactive). Per source (detection, alertmanager, manual), service
    and region, and in total."""
    return _incident_report(p, "proactive_share", PROACTIVE_COLUMNS, _proactive_row)


def _delay_s(later: datetime | None, earlier: datetime) -> int | None:
    """Whole seconds from ``earlier`` to ``later`` (never negative: a clock a little behind
    must not give a negative delay); ``None`` when ``later`` is missing."""
    if later is None:
        return None
    return max(0, int((later - earlier).total_seconds()))


def _notice_row(dim: str | None, group: Any, label: str, incs: list[Any]) -> dict[str, Any]:
    notice, detect = stats.Histogram.empty(), stats.Histogram.empty()
    for inc in incs:
        n = _delay_s(inc.first_notice_at, inc.started_at)
        if n is not None:
            notice.add(n, 1)
        d = _delay_s(inc.created_at, inc.started_at)
        if d is not None:
            detect.add(d, 1)
    nq, dq = notice.percentiles(), detect.percentiles()
    return {
        "dimension": dim, "group": group, "label": label, "incidents": len(incs),
        "noticed": notice.n, "notice_median_s": _r(nq[0]), "notice_p90_s": _r(nq[1]), "notice_p95_s": _r(nq[2]),
        "detected": detect.n, "detection_median_s": _r(dq[0]), "detection_p90_s": _r(dq[1]), "detection_p95_s": _r(dq[2]),
    }  # fmt: skip


def time_to_notice(p: ReportParams) -> dict[str, Any]:
    """Time to notice: for incidents that started in the range, the distribution (median, p90,
    p95) of first notice − start (incidents with a notice), and of the detection delay,
    incident record created − start (when the problem began against when RelayDesk — the
    detector, an Alertmanager alert or a person — opened the incident). Per source, service
    and region, and in total."""
    return _incident_report(p, "time_to_notice", NOTICE_COLUMNS, _notice_row)


KB_COLUMNS = ["category", "shown", "opened", "solved", "deflected", "filed", "pending", "deflection_rate"]
KB_ARTICLE_COLUMNS = ["article", "category", "shown", "opened", "solved", "deflected", "filed", "pending", "deflection_rate"]


def _kb_figures(p: ReportParams) -> dict[str, Any] | str:
    """``relaydesk.kb.deflection.figures`` for the range, or why it cannot be read."""
    try:
        from relaydesk.kb import deflection
    except ImportError:  # pragma: no cover - the kb app is part of the project
        return str(_("not available yet: the knowledge base is not installed"))
    lo, hi = p.bounds
    try:
        deflection.settle()
        figures: dict[str, Any] = deflection.figures(since=datetime.fromtimestamp(lo, UTC), until=datetime.fromtimestamp(hi, UTC))
    except (AttributeError, TypeError) as exc:
        return f"not available yet: {exc}"
    return figures


def _kb_total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    deflected = sum(int(r["deflected"] or 0) for r in rows)
    filed = sum(int(r["filed"] or 0) for r in rows)
    total = deflected + filed
    return {"deflected": deflected, "filed": filed, "deflection_rate": None if total == 0 else round(deflected / total, 4)}


def kb_deflection(p: ReportParams) -> dict[str, Any]:
    """Readers helped by the knowledge base: deflected (read, did not file) against filed,
    per category — read from ``relaydesk.kb.deflection.figures``."""
    figures = _kb_figures(p)
    if isinstance(figures, str):
        return _not_available("kb_deflection", figures, p)
    rows = [{"category": c.get("slug"), **{k: c.get(k) for k in KB_COLUMNS[1:]}} for c in figures.get("categories", [])]
    return {
        "report": "kb_deflection", **p.describe(), "available": True, "columns": KB_COLUMNS, "rows": rows,
        "total": _kb_total(rows), "window_minutes": figures.get("window_minutes"),
    }  # fmt: skip


def kb_articles(p: ReportParams) -> dict[str, Any]:
    """The same figures per article (most deflections first)."""
    figures = _kb_figures(p)
    if isinstance(figures, str):
        return _not_available("kb_articles", figures, p)
    rows = [{"article": a.get("slug"), **{k: a.get(k) for k in KB_ARTICLE_COLUMNS[1:]}} for a in figures.get("articles", [])]
    return {
        "report": "kb_articles", **p.describe(), "available": True, "columns": KB_ARTICLE_COLUMNS, "rows": rows,
        "total": _kb_total(rows), "window_minutes": figures.get("window_minutes"),
    }  # fmt: skip
